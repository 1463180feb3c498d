namespace MultiLevelHashing.Notebooks;

/// <summary>
/// The setup cell that opens every notebook (the second cell, after the title). It references the pinned
/// packages and the three library assemblies in the build output of <c>mlh</c> (an application folder, which holds
/// every dependency, as an editor's <c>#r</c> needs) the way an editor needs them; the notebook runner binds the same lines to
/// the host's copies. A test checks that every notebook carries exactly this cell and that its versions
/// match Directory.Packages.props.
/// </summary>
public static class NotebookSetupCell
{
    /// <summary>The exact text of the setup cell.</summary>
    public const string Code =
        """
        #r "nuget: TorchSharp-cpu, 0.107.0"
        #r "nuget: SixLabors.ImageSharp, 2.1.13"
        #r "nuget: Microsoft.Data.Analysis, 0.23.1"
        #r "nuget: Plotly.NET, 6.0.0"
        #r "nuget: Plotly.NET.CSharp, 0.14.0"
        #r "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/MultiLevelHashing.Core.dll"
        #r "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/MultiLevelHashing.dll"
        #r "../lib/MultiLevelHashing.Cli/bin/Release/net10.0/MultiLevelHashing.Notebooks.dll"
        using MultiLevelHashing.Notebooks;
        var session = NotebookSession.Start();
        """;
}
