using System.Reflection;
using System.Text.RegularExpressions;

namespace MultiLevelHashing.Notebooks;

/// <summary>
/// Binds a notebook's <c>#r</c> lines to the assemblies the host process already has, so that a notebook run
/// in-process uses one copy of each library. <c>#r "…/NAME.dll"</c> (the setup cell's references into the build
/// output) becomes a reference to the host's copy of assembly NAME where the host has one. <c>#r "nuget: NAME,
/// VERSION"</c> for a package the toolkit is built with must name the version pinned in Directory.Packages.props; it
/// becomes a reference to the host's copy. Other lines pass through, so a notebook may still bring packages of its own.
/// </summary>
public static partial class NotebookReferences
{
    /// <summary>Assemblies of each package that notebooks reference, by NuGet package id.</summary>
    private static readonly Dictionary<string, string[]> PackageAssemblies = new(StringComparer.OrdinalIgnoreCase)
    {
        ["TorchSharp-cpu"] = ["TorchSharp"],
        ["TorchSharp-cuda-linux"] = ["TorchSharp"],
        ["TorchSharp-cuda-windows"] = ["TorchSharp"],
        ["SixLabors.ImageSharp"] = ["SixLabors.ImageSharp"],
        ["Microsoft.Data.Analysis"] = ["Microsoft.Data.Analysis", "Microsoft.ML.DataView"],
        ["Plotly.NET"] = ["Plotly.NET", "FSharp.Core", "DynamicObj"],
        ["Plotly.NET.CSharp"] = ["Plotly.NET.CSharp"],
    };

    [GeneratedRegex("""^\s*#r\s+"nuget:\s*(?<id>[^,"\s]+)\s*(,\s*(?<version>[^"\s]+))?\s*"\s*$""")]
    private static partial Regex NugetReference();

    [GeneratedRegex("""^\s*#r\s+"(?<path>([^"]*/)?(?<name>[^/"]+)\.dll)"\s*$""")]
    private static partial Regex AssemblyReference();

    /// <summary>The package versions this library was built with (from Directory.Packages.props).</summary>
    public static IReadOnlyDictionary<string, string> PinnedPackageVersions { get; } =
        typeof(NotebookReferences).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Where(a => a.Key.StartsWith("PackageVersion:", StringComparison.Ordinal) && a.Value is not null)
            .ToDictionary(a => a.Key["PackageVersion:".Length..], a => a.Value!, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Rewrites the <c>#r</c> lines of one code cell. Returns the code to submit and the assembly paths
    /// the kernel must reference. Throws when a pinned package is referenced at another version.
    /// </summary>
    public static (string Code, IReadOnlyList<string> AssemblyPaths) Bind(string code)
    {
        var paths = new List<string>();
        var lines = code.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            var nuget = NugetReference().Match(line);
            if (nuget.Success && PackageAssemblies.TryGetValue(nuget.Groups["id"].Value, out var assemblies))
            {
                string id = nuget.Groups["id"].Value;
                string? wanted = nuget.Groups["version"].Success ? nuget.Groups["version"].Value : null;
                if (PinnedPackageVersions.TryGetValue(id, out var pinned) && wanted is not null && wanted != pinned)
                    throw new InvalidOperationException(
                        $"the notebook asks for {id} {wanted}, but the toolkit is built with {pinned} (Directory.Packages.props)");
                paths.AddRange(assemblies.Select(LocationOf).OfType<string>());
                lines[i] = "// " + line.Trim() + "   (bound to the host's copy)";
                continue;
            }
            var library = AssemblyReference().Match(line);
            if (library.Success && LocationOf(library.Groups["name"].Value) is { } location)
            {
                paths.Add(location);
                lines[i] = "// " + line.Trim() + "   (bound to the host's copy)";
            }
        }
        return (string.Join('\n', lines), paths.Distinct().ToList());
    }

    private static string? LocationOf(string assemblyName)
    {
        try
        {
            return Assembly.Load(new AssemblyName(assemblyName)).Location;
        }
        catch (FileNotFoundException)
        {
            return null; // e.g. a helper assembly of a package that this build does not carry
        }
    }
}
