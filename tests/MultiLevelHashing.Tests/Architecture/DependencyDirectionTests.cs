using System.Reflection;
using System.Xml.Linq;
using MultiLevelHashing.Tests.Data;

namespace MultiLevelHashing.Tests.Architecture;

/// <summary>
/// The assemblies keep the dependency direction of lib/MultiLevelHashing/README.md section 1.1:
/// Core (Data, Evaluation, Search, Runtime) uses no LibTorch and no notebook packages; the deep-learning library
/// uses no notebook packages; nothing in the library uses the CLI. Checked twice: on the compiled references
/// (what the code uses) and on the project files (what the build would bring). Inside Core, the namespaces depend on
/// each other one way (no cycle), read from the compiled code.
/// </summary>
public class DependencyDirectionTests
{
    private static readonly string[] TorchAssemblies = ["TorchSharp", "TorchVision", "TorchAudio", "Microsoft.ML.OnnxRuntime"];
    // Drawing of map overlays (Attention/Rendering) belongs to the deep-learning library, never to Core. Core uses
    // SkiaSharp only to decode JPEGs at a reduced scale (Data/ReducedJpeg.cs); CoreUsesSkiaOnlyToDecode checks that.
    private static readonly string[] NotebookAssemblies =
        ["Microsoft.DotNet.Interactive", "Plotly.NET", "Microsoft.Data.Analysis", "FSharp.Core", "FSharp.Compiler.Service"];

    private static readonly Assembly Core = typeof(MultiLevelHashing.Search.PackedCodes).Assembly;
    private static readonly Assembly Deep = typeof(MultiLevelHashing.Model.DscnnModel).Assembly;
    private static readonly Assembly Notebooks = typeof(MultiLevelHashing.Notebooks.NotebookRunner).Assembly;

    private static IReadOnlyList<string> References(Assembly assembly) =>
        assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

    private static bool IsFrom(string reference, IEnumerable<string> family) =>
        family.Any(f => reference == f || reference.StartsWith(f + ".", StringComparison.Ordinal));

    [Fact]
    public void TheAssembliesAreTheFourOfTheLayout()
    {
        Assert.Equal("MultiLevelHashing.Core", Core.GetName().Name);
        Assert.Equal("MultiLevelHashing", Deep.GetName().Name);
        Assert.Equal("MultiLevelHashing.Notebooks", Notebooks.GetName().Name);
        // Namespaces live in the assembly the layout puts them in.
        foreach (var ns in new[] { "MultiLevelHashing.Data", "MultiLevelHashing.Evaluation", "MultiLevelHashing.Search", "MultiLevelHashing.Runtime" })
        {
            Assert.Contains(Core.GetExportedTypes(), t => t.Namespace == ns);
            Assert.DoesNotContain(Deep.GetExportedTypes(), t => t.Namespace == ns);
            Assert.DoesNotContain(Notebooks.GetExportedTypes(), t => t.Namespace == ns);
        }
    }

    [Fact]
    public void CoreReferencesNeitherLibTorchNorNotebookPackagesNorTheOtherLayers()
    {
        var refs = References(Core);
        Assert.DoesNotContain(refs, r => IsFrom(r, TorchAssemblies) || IsFrom(r, NotebookAssemblies));
        Assert.DoesNotContain("MultiLevelHashing", refs);
        Assert.DoesNotContain("MultiLevelHashing.Notebooks", refs);
        Assert.DoesNotContain("mlh", refs);
    }

    [Fact]
    public void CoreUsesSkiaOnlyToDecode()
    {
        // Only the reduced-scale JPEG decoder touches SkiaSharp, and no drawing type of it.
        var users = Core.GetTypes().Where(t => t.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                .Select(f => f.FieldType)
                .Concat(t.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                    .SelectMany(m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType)))
                .Any(x => x.Namespace == "SkiaSharp"))
            .Select(t => t.FullName!).Where(n => !n.StartsWith("MultiLevelHashing.Data.ReducedJpeg", StringComparison.Ordinal)).ToList();
        Assert.Empty(users);
        var source = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "lib/MultiLevelHashing.Core/Data/ReducedJpeg.cs"));
        foreach (var drawing in new[] { "SKCanvas", "SKPaint", "SKSurface", "SKFont", "SKTypeface" })
            Assert.DoesNotContain(drawing, source);
    }

    [Fact]
    public void SearchTimingLivesInCoreSoThatItLoadsNoLibTorch()
    {
        // mlh knn's timing and the kernel benchmarks (tests/MultiLevelHashing.Benchmarks, which references Core only) use these.
        foreach (var type in new[] { typeof(MultiLevelHashing.Benchmarks.SyntheticCodes), typeof(MultiLevelHashing.Benchmarks.SearchTimer),
                                     typeof(MultiLevelHashing.Benchmarks.SearchScaling), typeof(MultiLevelHashing.Benchmarks.QueryTiming) })
            Assert.Same(Core, type.Assembly);
    }

    [Fact]
    public void CoreNamespacesDependOneWay()
    {
        // Evaluation scores rankings against Data's ground truth; Data (whose labels define the protocols) never needs Evaluation.
        var edges = NamespaceDependencies.Edges(Core, "MultiLevelHashing");
        Assert.Contains(("Evaluation", "Data"), edges);
        Assert.DoesNotContain(("Data", "Evaluation"), edges);
        Assert.Null(NamespaceDependencies.FindCycle(edges));
    }

    [Fact]
    public void TheCycleCheckFindsACycle()
    {
        var edges = new HashSet<(string, string)> { ("Data", "Runtime"), ("Evaluation", "Data"), ("Data", "Evaluation") };
        Assert.Equal("Data -> Evaluation -> Data", NamespaceDependencies.FindCycle(edges));
        Assert.Null(NamespaceDependencies.FindCycle(new HashSet<(string, string)> { ("Evaluation", "Data"), ("Data", "Runtime") }));
    }

    [Fact]
    public void TheDeepLearningLibraryReferencesNoNotebookPackages()
    {
        var refs = References(Deep);
        Assert.Contains("TorchSharp", refs);
        Assert.Contains("MultiLevelHashing.Core", refs);
        Assert.DoesNotContain(refs, r => IsFrom(r, NotebookAssemblies));
        Assert.DoesNotContain("MultiLevelHashing.Notebooks", refs);
        Assert.DoesNotContain("mlh", refs);
    }

    [Fact]
    public void TheNotebookAssemblyDoesNotReferenceTheCli()
    {
        Assert.DoesNotContain("mlh", References(Notebooks));
    }

    [Theory]
    [InlineData("lib/MultiLevelHashing.Core/MultiLevelHashing.Core.csproj",
        new[] { "SixLabors.ImageSharp", "SkiaSharp", "SkiaSharp.NativeAssets.Linux.NoDependencies", "Razorvine.Pickle", "System.IO.Hashing" }, new string[0])]
    [InlineData("lib/MultiLevelHashing/MultiLevelHashing.csproj",
        // TorchSharp.PyBridge reads and writes PyTorch state_dict files (Model/StateDictFile.cs).
        // SkiaSharp draws the overlays of bit activation maps (Attention/Rendering), which need the model's maps;
        // its NoDependencies native build needs no fontconfig on Linux.
        new[] { "TorchSharp", "TorchSharp-cpu", "TorchSharp-cuda-linux", "TorchSharp-cuda-windows", "libtorch-cpu-linux-x64", "Microsoft.ML.OnnxRuntime",
                "SkiaSharp", "SkiaSharp.NativeAssets.Linux.NoDependencies", "TorchSharp.PyBridge" },
        new[] { "../MultiLevelHashing.Core/MultiLevelHashing.Core.csproj" })]
    public void ProjectFilesBringOnlyTheirLayersPackages(string project, string[] allowedPackages, string[] allowedProjects)
    {
        var xml = XDocument.Load(Path.Combine(TestPaths.RepositoryRoot, project));
        var packages = xml.Descendants("PackageReference").Select(e => (string)e.Attribute("Include")!).ToList();
        var projects = xml.Descendants("ProjectReference").Select(e => (string)e.Attribute("Include")!).ToList();
        Assert.All(packages, p => Assert.Contains(p, allowedPackages));
        Assert.All(projects, p => Assert.Contains(p, allowedProjects));
    }
}
