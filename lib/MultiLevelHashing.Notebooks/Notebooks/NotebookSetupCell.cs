namespace MultiLevelHashing.Notebooks;

/// <summary>
/// The setup cell that opens every notebook (the second cell, after the title). It references the assemblies a notebook's
/// own code uses (TorchSharp, ImageSharp, DataFrame, Plotly.NET) and the three library assemblies, all from the build
/// output of <c>mlh</c>: an application folder that holds every dependency at the version the library was built and tested
/// with (Directory.Packages.props), so the kernel loads one dependency graph and no package restore of its own can bring
/// other versions (TorchSharp-cpu's SkiaSharp 2.88, another LibTorch). The notebook runner binds the same lines to the
/// host's copies. A test checks that every notebook carries exactly this cell.
/// </summary>
public static class NotebookSetupCell
{
    /// <summary>Folder of the referenced assemblies, relative to <c>notebooks/</c>: the Release build output of <c>mlh</c>.</summary>
    public const string BuildOutput = "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/";

    /// <summary>The assemblies the setup cell references, in order.</summary>
    public static IReadOnlyList<string> Assemblies { get; } =
    [
        "TorchSharp", "SixLabors.ImageSharp", "Microsoft.Data.Analysis", "Plotly.NET", "Plotly.NET.CSharp",
        "MultiLevelHashing.Core", "MultiLevelHashing", "MultiLevelHashing.Notebooks",
    ];

    /// <summary>The exact text of the setup cell.</summary>
    public const string Code =
        """
        #r "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/TorchSharp.dll"
        #r "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/SixLabors.ImageSharp.dll"
        #r "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/Microsoft.Data.Analysis.dll"
        #r "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/Plotly.NET.dll"
        #r "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/Plotly.NET.CSharp.dll"
        #r "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/MultiLevelHashing.Core.dll"
        #r "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/MultiLevelHashing.dll"
        #r "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/MultiLevelHashing.Notebooks.dll"
        using MultiLevelHashing.Notebooks;
        var session = NotebookSession.Start();
        """;
}
