using System.Reflection;
using System.Reflection.Emit;

namespace MultiLevelHashing.Tests.Architecture;

/// <summary>
/// Which namespaces of an assembly use which others, read from the compiled code: base types, interfaces, fields,
/// properties, method signatures, and every type, method and field that method bodies name (the IL's tokens). Nested
/// namespaces count as their top namespace under the root (<c>MultiLevelHashing.Data.MiniLandmarks</c> is <c>Data</c>).
/// </summary>
internal static class NamespaceDependencies
{
    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance |
                                            BindingFlags.Static | BindingFlags.DeclaredOnly;

    // One-byte and two-byte (0xFE-prefixed) opcodes by value, to walk method bodies instruction by instruction.
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Edges "from -> to" between the top namespaces under <paramref name="root"/> in <paramref name="assembly"/>, self-edges left out.</summary>
    public static IReadOnlySet<(string From, string To)> Edges(Assembly assembly, string root)
    {
        var edges = new HashSet<(string, string)>();
        foreach (var type in assembly.GetTypes())
        {
            if (Top(type, root) is not { } from) continue;
            foreach (var used in UsedTypes(type))
                if (Top(used, root) is { } to && to != from)
                    edges.Add((from, to));
        }
        return edges;
    }

    /// <summary>A cycle among <paramref name="edges"/> as "A -> B -> A", or null when the graph is acyclic.</summary>
    public static string? FindCycle(IReadOnlySet<(string From, string To)> edges)
    {
        var next = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).Order(StringComparer.Ordinal).ToList());
        var done = new HashSet<string>();
        var path = new List<string>();
        string? Visit(string node)
        {
            int at = path.IndexOf(node);
            if (at >= 0) return string.Join(" -> ", path.Skip(at).Append(node));
            if (!done.Add(node)) return null;
            path.Add(node);
            foreach (var to in next.GetValueOrDefault(node) ?? [])
                if (Visit(to) is { } cycle) return cycle;
            path.RemoveAt(path.Count - 1);
            return null;
        }
        foreach (var node in next.Keys.Order(StringComparer.Ordinal))
            if (Visit(node) is { } cycle) return cycle;
        return null;
    }

    private static string? Top(Type type, string root)
    {
        while (type.IsNested) type = type.DeclaringType!;
        string? ns = type.Namespace;
        if (ns is null || !ns.StartsWith(root + ".", StringComparison.Ordinal)) return null;
        return ns[(root.Length + 1)..].Split('.')[0];
    }

    private static IEnumerable<Type> UsedTypes(Type type)
    {
        var found = new List<Type>();
        void Add(Type? t)
        {
            if (t is null) return;
            if (t.HasElementType) { Add(t.GetElementType()); return; }
            if (t.IsGenericType && !t.IsGenericTypeDefinition)
            {
                found.Add(t.GetGenericTypeDefinition());
                foreach (var a in t.GetGenericArguments()) Add(a);
                return;
            }
            if (!t.IsGenericParameter) found.Add(t);
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(Everything)) Add(f.FieldType);
        foreach (var p in type.GetProperties(Everything)) Add(p.PropertyType);
        foreach (var method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (method is MethodInfo info) Add(info.ReturnType);
            foreach (var p in method.GetParameters()) Add(p.ParameterType);
            foreach (var t in BodyTypes(method)) Add(t);
        }
        return found;
    }

    // The declaring types and signatures of what a method body names.
    private static IEnumerable<Type?> BodyTypes(MethodBase method)
    {
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (InvalidOperationException) { il = null; }
        if (il is null) yield break;
        var module = method.Module;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            int operand = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok)
            {
                MemberInfo? member = null;
                try { member = module.ResolveMember(BitConverter.ToInt32(il, i), typeArgs, methodArgs); }
                catch (ArgumentException) { }
                yield return member as Type ?? member?.DeclaringType;
                if (member is FieldInfo field) yield return field.FieldType;
                if (member is MethodInfo called)
                {
                    yield return called.ReturnType;
                    foreach (var p in called.GetParameters()) yield return p.ParameterType;
                }
            }
            i += operand;
        }
    }
}
