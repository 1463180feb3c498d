using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace MultiLevelHashing.Notebooks;

/// <summary>
/// Keeps one FSharp.Core in a .NET Interactive kernel. The kernel carries its own FSharp.Core (10.0 in
/// Microsoft.dotnet-interactive 1.0.712001) in the default load context; Plotly.NET asks for 10.1, which the default
/// context then cannot give, and a second copy loaded beside it would split F# types between Plotly.NET and its
/// dependencies (a MissingMethodException in Giraffe.ViewEngine). Answering such a request with the FSharp.Core already
/// loaded, when its major version is the one asked for, gives every assembly the same copy. Where the host
/// itself carries the version asked for (<c>mlh reproduce</c>, the tests), the default context never fails and this never runs.
/// </summary>
internal static class KernelAssemblyBinding
{
    private const string FSharpCore = "FSharp.Core";

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "must be registered before the first chart touches Plotly.NET, whoever calls the library first.")]
    internal static void Register() => AssemblyLoadContext.Default.Resolving += Resolve;

    internal static Assembly? Resolve(AssemblyLoadContext context, AssemblyName requested)
    {
        if (requested.Name != FSharpCore) return null;
        return AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName() is { Name: FSharpCore } loaded && loaded.Version?.Major == requested.Version?.Major)
            .MaxBy(a => a.GetName().Version);
    }
}
