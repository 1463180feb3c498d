using MultiLevelHashing.Plots;
using Plotly.NET;

namespace Notebooks.Tests;

/// <summary>Figure HTML files share one plotly.js per folder and still carry everything else they need.</summary>
public class FigureFilesTests
{
    private static GenericChart Line() => Plotly.NET.CSharp.Chart.Line<int, int, string>(x: new[] { 1, 2, 3 }, y: new[] { 3, 1, 2 });

    [Fact]
    public void SaveWritesOnePlotlyScriptPerFolderAndTheHtmlReferencesIt()
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlh-figures-" + Guid.NewGuid().ToString("N"));
        string sub = Path.Combine(folder, "sub");

        FigureFiles.Save(Line(), folder, "a");
        string script = Path.Combine(folder, FigureFiles.PlotlyScriptName);
        var firstWrite = File.GetLastWriteTimeUtc(script);
        FigureFiles.Save(Line(), folder, "b");
        FigureFiles.Save(Line(), sub, "c");

        Assert.Single(Directory.GetFiles(folder, "*.js"));
        Assert.Equal(firstWrite, File.GetLastWriteTimeUtc(script)); // written once, not per figure
        Assert.Equal(FigureFiles.PlotlyScript.Value.Length, new FileInfo(script).Length);
        Assert.StartsWith("/**\n* plotly.js v", File.ReadAllText(script).ReplaceLineEndings("\n"));
        Assert.True(File.Exists(Path.Combine(sub, FigureFiles.PlotlyScriptName)), "each folder gets its own copy");

        foreach (string html in new[] { Path.Combine(folder, "a.html"), Path.Combine(folder, "b.html"), Path.Combine(sub, "c.html") })
        {
            string text = File.ReadAllText(html);
            Assert.Contains($"<script src=\"{FigureFiles.PlotlyScriptName}\"", text);
            Assert.DoesNotContain("cdn.plot.ly", text);
            Assert.DoesNotContain("* plotly.js v", text); // the bundle's header: no embedded copy
            Assert.True(new FileInfo(html).Length < 200_000, $"{html} is {new FileInfo(html).Length} bytes");
            Assert.Contains("Plotly.newPlot", text);
        }
    }

    [Fact]
    public void SaveWritesTheCsvBesideTheFigure()
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlh-figures-" + Guid.NewGuid().ToString("N"));
        var written = FigureFiles.Save(Line(), folder, "fig", Tables.BitBalance([0.25, 0.5]));
        Assert.Equal([Path.Combine(folder, "fig.html"), Path.Combine(folder, "fig.csv")], written);
        Assert.Equal("bit,fraction +1\n0,0.25\n1,0.5\n", File.ReadAllText(Path.Combine(folder, "fig.csv")));
    }
}
