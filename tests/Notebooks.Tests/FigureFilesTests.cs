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

/// <summary>Chart outputs in notebooks: sized to the page, named after their figure, drawn with the setup cell's plotly.js.</summary>
public class NotebookChartHtmlTests
{
    private static GenericChart Line() => Plotly.NET.CSharp.Chart.Line<int, int, string>(x: new[] { 1, 2, 3 }, y: new[] { 3, 1, 2 });

    [Fact]
    public void ChartOutputFillsThePageWidthAndKeepsPlotlyNetsHeightOnlyWhenSetExplicitly()
    {
        string html = FigureFiles.ToNotebookHtml(Line());
        var figure = Figure(html);
        Assert.Null(figure["layout"]!["width"]); // Plotly.NET's default 600 px width is dropped
        Assert.Equal(FigureFiles.DefaultNotebookHeight, figure["layout"]!["height"]!.GetValue<int>());
        Assert.True(figure["config"]!["responsive"]!.GetValue<bool>());
        Assert.Contains("width:100%", html);
        Assert.Contains($"{FigureFiles.ChartMarker}=\"chart\"", html);

        string tall = FigureFiles.ToNotebookHtml(Plotly.NET.CSharp.GenericChartExtensions.WithSize(Line(), 500, 800));
        Assert.Equal(800, Figure(tall)["layout"]!["height"]!.GetValue<int>());
        Assert.Contains("min-height:800px", tall);
    }

    [Fact]
    public void AGridOfSubplotsKeepsPlotlyNetsHeightSoItsTitlesDoNotCollide()
    {
        var grid = Plotly.NET.CSharp.Chart.Grid(new[] { Line(), Line(), Line(), Line() }, 2, 2);
        var figure = Figure(FigureFiles.ToNotebookHtml(grid));
        Assert.Equal(600, figure["layout"]!["height"]!.GetValue<int>());
        Assert.Null(figure["layout"]!["width"]);
    }

    [Fact]
    public void ASavedChartIsNamedAfterItsFigureInTheNotebook()
    {
        var chart = Line();
        FigureFiles.Save(chart, Path.Combine(Path.GetTempPath(), "mlh-figures-" + Guid.NewGuid().ToString("N")), "my-figure");
        Assert.Contains($"{FigureFiles.ChartMarker}=\"my-figure\"", FigureFiles.ToNotebookHtml(chart));
    }

    [Fact]
    public void ChartWaitsForPlotlyWhenTheLoaderHasNotRunAndTheLoaderDrawsWaitingCharts()
    {
        string chart = FigureFiles.ToNotebookHtml(Line());
        Assert.Contains("if (window.Plotly) draw(); else (window.mlhPlotlyWaiting", chart);
        string loader = FigureFiles.NotebookPlotlyScript();
        Assert.StartsWith(FigureFiles.PlotlyLoaderMarker, loader);
        Assert.Contains("window.define = undefined", loader); // require.js would take plotly.js as an AMD module
        Assert.Contains("waiting.forEach(function (draw) { draw(); })", loader);
        Assert.Contains("* plotly.js v", loader);
        // The only end-of-script tag is the loader's own: the bundle's "</" sequences are escaped.
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(loader, "</script", System.Text.RegularExpressions.RegexOptions.IgnoreCase));
        Assert.True(loader.Length > 3_000_000, "the loader carries the whole bundle");
    }

    private static System.Text.Json.Nodes.JsonNode Figure(string html)
    {
        var json = System.Text.RegularExpressions.Regex.Match(html, @"var figure = (?<json>\{.*\});\n").Groups["json"].Value;
        return System.Text.Json.Nodes.JsonNode.Parse(json)!;
    }

    [Fact]
    public void TheFallbackPictureSitsInsideTheChartElementUntilPlotlyDraws()
    {
        byte[] png = [0x89, 0x50, 0x4E, 0x47];
        string html = FigureFiles.ToNotebookHtml(Line(), png);
        Assert.Matches("<div id=\"mlh-chart-[0-9a-f]+\" data-mlh-chart=\"chart\" style=\"[^\"]*\"><img src=\"data:image/png;base64,iVBORw==\"", html);
        Assert.Contains("el.innerHTML = ''", html);
    }
}
