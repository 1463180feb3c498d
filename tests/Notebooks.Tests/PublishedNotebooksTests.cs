using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json.Nodes;
using MultiLevelHashing.Experiments.Runner;
using MultiLevelHashing.Notebooks;
using MultiLevelHashing.Plots;
using MultiLevelHashing.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Notebooks.Tests;

/// <summary>The published copies of executed notebooks: pictures of every chart, no plotly.js, numbers equal to the summary's.</summary>
public class PublishedNotebooksTests
{
    private static string Root => NotebookTests.Root;

    private static JsonObject Output(string html, string plain) => new()
    {
        ["output_type"] = "display_data",
        ["metadata"] = new JsonObject(),
        ["data"] = new JsonObject { ["text/html"] = html, ["text/plain"] = plain },
    };

    private static string ExecutedFixture(string folder)
    {
        var chart = Plotly.NET.CSharp.Chart.Column<double, string, string>(new double[] { 3, 1, 2 },
            new Plotly.NET.CSharp.Optional<IEnumerable<string>>(["a", "b", "c"], true));
        var notebook = new JsonObject
        {
            ["nbformat"] = 4, ["nbformat_minor"] = 5, ["metadata"] = new JsonObject(),
            ["cells"] = new JsonArray(
                new JsonObject { ["cell_type"] = "markdown", ["metadata"] = new JsonObject(), ["source"] = "# 99 fixture" },
                new JsonObject
                {
                    ["cell_type"] = "code", ["metadata"] = new JsonObject(), ["execution_count"] = 1, ["source"] = "setup",
                    ["outputs"] = new JsonArray(Output(FigureFiles.NotebookPlotlyScript(), FigureFiles.PlotlyVersion)),
                },
                new JsonObject
                {
                    ["cell_type"] = "code", ["metadata"] = new JsonObject(), ["execution_count"] = 2, ["source"] = "chart",
                    ["outputs"] = new JsonArray(Output(FigureFiles.ToNotebookHtml(chart), "chart")),
                }),
        };
        string path = Path.Combine(folder, "99-fixture.ipynb");
        File.WriteAllText(path, notebook.ToJsonString());
        return path;
    }

    [SkippableFact]
    public async Task EveryChartGetsAPictureAndPlotlyJsIsLeftOut()
    {
        bool underCi = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        Assert.False(underCi && HeadlessChromium.Find() is null, "CI must install Chromium");
        Skip.If(HeadlessChromium.Find() is null, "no Chromium on PATH");
        string run = Directory.CreateTempSubdirectory("mlh-run-").FullName;
        string target = Directory.CreateTempSubdirectory("mlh-published-").FullName;
        string executed = ExecutedFixture(run);

        var (notebooks, charts) = await PublishedNotebooks.PublishAsync(run, target);

        Assert.Equal((1, 1), (notebooks, charts));
        string published = Path.Combine(target, "99-fixture.ipynb");
        string text = File.ReadAllText(published);
        Assert.DoesNotContain("* plotly.js v", text);
        Assert.True(text.Length < new FileInfo(executed).Length / 10, "the 3.6 MB plotly.js stays out of the published copy");
        var chartOutput = JsonNode.Parse(text)!["cells"]![2]!["outputs"]![0]!["data"]!;
        byte[] png = Convert.FromBase64String(chartOutput["image/png"]!.GetValue<string>());
        using var picture = Image.Load<Rgb24>(png);
        Assert.Equal(PublishedNotebooks.PictureWidth, picture.Width);
        // Plotly's default bar colour (#636efa) is in the picture: the chart drew before the screenshot.
        int bars = 0;
        picture.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
                foreach (var p in rows.GetRowSpan(y))
                    if (Math.Abs(p.R - 0x63) < 8 && Math.Abs(p.G - 0x6e) < 8 && Math.Abs(p.B - 0xfa) < 8) bars++;
        });
        Assert.True(bars > 1000, $"only {bars} pixels of bar colour");
        string html = chartOutput["text/html"]!.GetValue<string>();
        Assert.Contains("data-mlh-chart=\"chart\"", html);
        Assert.Contains("<img src=\"data:image/png;base64,", html);
        Assert.Single(ExecutedNotebook.Read(published).Charts);
    }

    [SkippableFact]
    public void ThePublishedNotebooksShowTheNumbersOfTheCommittedSummary()
    {
        string folder = PublishedNotebooks.Directory(Root);
        Skip.IfNot(Directory.Exists(folder), $"{folder}: no published notebooks yet (mlh reproduce --mode full --publish writes them)");
        var summary = ResultSummary.Read(Path.Combine(ResultsPublishing.Directory(Root), ResultSummary.JsonFile));
        string shown = AllOutputText(Path.Combine(folder, "09-ablations-and-map-tables.ipynb"));
        var cells = summary.Rows.Where(r => r.Source == "09-ablations-and-map-tables").ToList();
        Assert.NotEmpty(cells);
        foreach (var row in cells)
        {
            // The summary keeps four decimals of the percentage, the notebook's tables show one of the unrounded value.
            var candidates = OneDecimal(row.Mean).SelectMany(m => row.Seeds.Count > 1 ? OneDecimal(row.Spread).Select(s => $"{m} ± {s}") : [m]).ToList();
            Assert.True(candidates.Any(c => shown.Contains(c, StringComparison.Ordinal)),
                $"{row.Method} {row.Bits} bits {row.Protocol}: the published notebook 09 shows none of {string.Join(" / ", candidates)}");
        }
        foreach (string notebook in NotebookTests.NotebookNames())
            Assert.True(File.Exists(Path.Combine(folder, notebook)), $"{notebook} is not published");
    }

    private static IEnumerable<string> OneDecimal(double percent) =>
        new[] { percent - 0.00005, percent + 0.00005 }.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)).Distinct();

    private static string AllOutputText(string notebook)
    {
        var text = new System.Text.StringBuilder();
        foreach (var cell in JsonNode.Parse(File.ReadAllText(notebook))!["cells"]!.AsArray())
            foreach (var output in cell!["outputs"]?.AsArray() ?? [])
                foreach (var (_, value) in output!["data"]?.AsObject() ?? [])
                    text.Append(ExecutedNotebook.Text(value)).Append('\n');
        return System.Net.WebUtility.HtmlDecode(text.ToString()); // tables encode "±" as an HTML entity
    }

    [Fact]
    public void AKernelRequestForANewerFSharpCoreGetsTheLoadedOneOfTheSameMajorVersion()
    {
        var loaded = typeof(Microsoft.FSharp.Core.FSharpOption<int>).Assembly;
        var version = loaded.GetName().Version!;
        var newer = new AssemblyName($"FSharp.Core, Version={version.Major}.{version.Minor + 1}.0.0");
        Assert.Same(loaded, KernelAssemblyBinding.Resolve(AssemblyLoadContext.Default, newer));
        Assert.Null(KernelAssemblyBinding.Resolve(AssemblyLoadContext.Default, new AssemblyName($"FSharp.Core, Version={version.Major + 1}.0.0.0")));
        Assert.Null(KernelAssemblyBinding.Resolve(AssemblyLoadContext.Default, new AssemblyName("Plotly.NET, Version=6.0.0.0")));
    }
}
