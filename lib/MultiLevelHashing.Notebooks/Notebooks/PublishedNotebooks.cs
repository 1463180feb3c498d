using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MultiLevelHashing.Plots;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Notebooks;

/// <summary>
/// The executed notebooks of a full run as committed for readers who will not run anything
/// (<c>notebooks/results/notebooks/</c>, written by <c>mlh reproduce --mode full --publish</c>). Each chart output gets a
/// static PNG, taken in headless Chromium from the chart itself: inside the chart's HTML, where it shows until plotly.js
/// draws over it (and always where scripts do not run, as on a code host's notebook view), and as the output's
/// <c>image/png</c>. The 3.6 MB plotly.js that the setup cell's output carries in a live session is left out, so a
/// published notebook weighs its pictures; a reader who reruns the notebook gets the interactive charts back.
/// </summary>
public static partial class PublishedNotebooks
{
    /// <summary>Width of the chart pictures, in CSS pixels.</summary>
    public const int PictureWidth = 960;

    // As Jupyter writes notebooks: one-space indent, text as it is (no \u003C escapes in every HTML output).
    private static readonly JsonSerializerOptions JupyterJson = new()
    {
        WriteIndented = true, IndentSize = 1, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary><c>notebooks/results/notebooks</c> under <paramref name="root"/>.</summary>
    public static string Directory(string root) => Path.Combine(RepositoryLayout.PublishedResultsDirectory(root), "notebooks");

    [GeneratedRegex(@"(?<open><div id=""(?<id>mlh-chart-[0-9a-f]+)"" data-mlh-chart=""[^""]*"" style=""[^""]*min-height:(?<height>\d+)px[^""]*"">)(?<content>.*?)</div>", RegexOptions.Singleline)]
    private static partial Regex ChartElement();

    /// <summary>
    /// Publishes every <c>NN-*.ipynb</c> of <paramref name="runFolder"/> (an <c>mlh reproduce</c> output folder) into
    /// <paramref name="target"/>, replacing what was there. Needs Chromium (<see cref="HeadlessChromium"/>).
    /// </summary>
    /// <returns>The notebooks written and the number of chart pictures made.</returns>
    public static async Task<(int Notebooks, int Charts)> PublishAsync(string runFolder, string target,
        IProgress<ProgressReport>? progress = null, CancellationToken cancellation = default)
    {
        var notebooks = System.IO.Directory.EnumerateFiles(runFolder, "*.ipynb")
            .Where(p => Regex.IsMatch(Path.GetFileName(p), @"^\d\d-")).Order(StringComparer.Ordinal).ToList();
        if (notebooks.Count == 0) throw new UserInputException($"{runFolder}: no executed notebooks to publish (run mlh reproduce --mode full first)");
        if (HeadlessChromium.Find() is null)
            throw new UserInputException("publishing notebooks renders their charts with Chromium, and there is none on PATH; on Debian: apt-get install --no-install-recommends chromium");
        string work = System.IO.Directory.CreateTempSubdirectory("mlh-publish-").FullName;
        try
        {
            System.IO.Directory.CreateDirectory(target);
            foreach (string stale in System.IO.Directory.EnumerateFiles(target, "*.ipynb")) File.Delete(stale);
            int charts = 0, done = 0;
            foreach (string notebook in notebooks)
            {
                progress.Report("publishing notebooks", done++, notebooks.Count, "notebooks", Path.GetFileName(notebook));
                charts += await PublishOneAsync(notebook, Path.Combine(target, Path.GetFileName(notebook)), work, cancellation);
            }
            progress.Report("publishing notebooks", done, notebooks.Count, "notebooks");
            return (notebooks.Count, charts);
        }
        finally
        {
            try { System.IO.Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Writes the published copy of one executed notebook; returns the number of chart pictures made.</summary>
    public static async Task<int> PublishOneAsync(string executed, string published, string work, CancellationToken cancellation = default)
    {
        var root = JsonNode.Parse(await File.ReadAllTextAsync(executed, cancellation))?.AsObject()
            ?? throw new InvalidDataException($"{executed}: not a notebook");
        FigureFiles.EnsurePlotlyScript(work);
        int charts = 0;
        foreach (var cell in root["cells"]?.AsArray() ?? [])
        {
            foreach (var output in cell?["outputs"]?.AsArray() ?? [])
            {
                if (output?["data"] is not JsonObject data) continue;
                string html = ExecutedNotebook.Text(data["text/html"]);
                if (html.Contains(FigureFiles.PlotlyLoaderMarker, StringComparison.Ordinal))
                {
                    data["text/html"] = $"<div style=\"font-size:smaller;color:#777\">{FigureFiles.PlotlyVersion}: left out of the published copy (3.6 MB); the charts below show their pictures until the notebook is run again</div>";
                    continue;
                }
                var chart = ChartElement().Match(html);
                if (!chart.Success) continue;
                int height = int.Parse(chart.Groups["height"].Value, System.Globalization.CultureInfo.InvariantCulture);
                byte[] png = await RenderAsync(html, height, work, charts, cancellation);
                string image = $"<img src=\"data:image/png;base64,{Convert.ToBase64String(png)}\" style=\"max-width:100%\"/>";
                data["text/html"] = html[..chart.Index] + chart.Groups["open"].Value + image + "</div>" + html[(chart.Index + chart.Length)..];
                data["image/png"] = Convert.ToBase64String(png);
                charts++;
            }
        }
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(published))!);
        AtomicFile.WriteAllText(published, root.ToJsonString(JupyterJson) + "\n");
        return charts;
    }

    /// <summary>A PNG of one chart output, drawn by plotly.js in headless Chromium at <see cref="PictureWidth"/>.</summary>
    private static async Task<byte[]> RenderAsync(string chartHtml, int height, string work, int index, CancellationToken cancellation)
    {
        string page = Path.Combine(work, $"chart-{index}.html");
        await File.WriteAllTextAsync(page,
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\">" +
            $"<script src=\"{FigureFiles.PlotlyScriptName}\"></script></head>" +
            $"<body style=\"margin:0;background:white;width:{PictureWidth}px\">{chartHtml}</body></html>", cancellation);
        string png = Path.ChangeExtension(page, ".png");
        await HeadlessChromium.ScreenshotAsync(page, png, PictureWidth, height, cancellation: cancellation);
        return await File.ReadAllBytesAsync(png, cancellation);
    }
}
