using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Analysis;
using MultiLevelHashing.Runtime;
using Plotly.NET;

namespace MultiLevelHashing.Plots;

/// <summary>
/// Saves charts as HTML and the plotted numbers as CSV. Every HTML file in a folder loads plotly.js from one copy,
/// <see cref="PlotlyScriptName"/>, written beside it: the figures render offline without each carrying the 3.6 MB script.
/// </summary>
public static class FigureFiles
{
    /// <summary>File name of the shared plotly.js copy, written once per output folder.</summary>
    public const string PlotlyScriptName = "plotly.min.js";

    // The bundle's header points to this file for the licences of what it includes.
    private const string LicenseSuffix = ".LICENSE.txt";

    /// <summary>
    /// HTML that loads plotly.js from <paramref name="scriptSource"/> (by default the shared copy in the same
    /// folder, see <see cref="EnsurePlotlyScript"/>) instead of the network or an embedded copy.
    /// </summary>
    public static string ToHtml(GenericChart chart, string scriptSource = PlotlyScriptName)
    {
        var options = DisplayOptions.setPlotlyReference(PlotlyJSReference.NewCDN(scriptSource)).Invoke(DisplayOptions.initCDNOnly());
        return GenericChart.toEmbeddedHTML(GenericChart.addDisplayOptions(options, chart));
    }

    // The name each saved chart was saved under, so that its notebook output can say which figure it is.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<GenericChart, string> SavedNames = new();

    /// <summary>Height of a single-plot notebook chart whose layout leaves it to Plotly.NET's default (600 x 600, too tall beside text).</summary>
    public const int DefaultNotebookHeight = 460;

    /// <summary>
    /// Attribute that marks a chart's element in notebook outputs, with the figure's name when the chart was saved
    /// (<see cref="Save"/>), else "chart"; the published copies and the tests find charts by it.
    /// </summary>
    public const string ChartMarker = "data-mlh-chart";

    /// <summary>
    /// HTML fragment for a notebook output: a element that fills the page's width and the script that draws the chart
    /// into it with <c>window.Plotly</c>, at once when plotly.js is there, or when <see cref="NotebookPlotlyScript"/> (the
    /// setup cell's output) brings it. Charts size to the page (responsive, no fixed width); an explicit height is kept.
    /// </summary>
    /// <param name="chart">The chart.</param>
    /// <param name="fallbackPng">A picture of the chart shown until plotly.js draws it, and where scripts never run
    /// (a code host's notebook view); none when null.</param>
    public static string ToNotebookHtml(GenericChart chart, byte[]? fallbackPng = null)
    {
        var figure = JsonNode.Parse(GenericChart.toFigureJson(chart))!.AsObject();
        var layout = figure["layout"] as JsonObject ?? new JsonObject();
        figure["layout"] = layout;
        double? width = layout["width"]?.GetValue<double>(), givenHeight = layout["height"]?.GetValue<double>();
        bool defaultSize = width == 600 && givenHeight == 600;
        // A grid of subplots keeps Plotly.NET's 600 px: squeezed lower, its axis titles run into the next row's titles.
        bool subplots = layout.Any(p => p.Key.StartsWith("xaxis", StringComparison.Ordinal) && p.Key != "xaxis");
        int height = givenHeight is null ? DefaultNotebookHeight
            : defaultSize ? (subplots ? 600 : DefaultNotebookHeight)
            : (int)givenHeight.Value;
        layout.Remove("width");
        layout["height"] = height;
        layout["autosize"] = true;
        var config = figure["config"] as JsonObject ?? new JsonObject();
        figure["config"] = config;
        config["responsive"] = true;
        string id = "mlh-chart-" + Guid.NewGuid().ToString("N");
        string name = SavedNames.TryGetValue(chart, out var saved) ? saved : "chart";
        string picture = fallbackPng is null ? "" :
            $"<img src=\"data:image/png;base64,{Convert.ToBase64String(fallbackPng)}\" alt=\"{WebUtility.HtmlEncode(TitleOf(layout))}\" style=\"max-width:100%\"/>";
        // A chart element's content is replaced by Plotly.newPlot; until then (or forever, without scripts) it shows the picture.
        return $"<div id=\"{id}\" {ChartMarker}=\"{WebUtility.HtmlEncode(name)}\" style=\"width:100%;min-height:{height}px\">{picture}</div>\n" +
               "<script type=\"text/javascript\">\n" +
               "(function () {\n" +
               $"  var figure = {EscapeForScript(figure.ToJsonString())};\n" +
               $"  function draw() {{ var el = document.getElementById('{id}'); if (!el) return; el.innerHTML = ''; window.Plotly.newPlot(el, figure.data, figure.layout, figure.config); }}\n" +
               "  if (window.Plotly) draw(); else (window.mlhPlotlyWaiting = window.mlhPlotlyWaiting || []).push(draw);\n" +
               "})();\n" +
               "</script>";
    }

    private static string TitleOf(JsonObject layout) => layout["title"] switch
    {
        JsonObject title when title["text"] is JsonValue text => text.ToString(),
        JsonValue text => text.ToString(),
        _ => "chart",
    };

    /// <summary>
    /// HTML that brings plotly.js (the copy inside Plotly.NET) into a notebook page once, for every chart of
    /// <see cref="ToNotebookHtml"/>: offline, with no loader of the front end. Where require.js is present (classic
    /// Jupyter), plotly.js would register as an anonymous AMD module instead of setting <c>window.Plotly</c>, so
    /// <c>define</c> is hidden while it runs. Charts that ran before it are drawn when it arrives.
    /// </summary>
    public static string NotebookPlotlyScript() => NotebookPlotlyScriptText.Value;

    /// <summary>The comment that opens <see cref="NotebookPlotlyScript"/>'s HTML, by which published copies find and drop it.</summary>
    public const string PlotlyLoaderMarker = "<!-- plotly.js for the charts of this notebook -->";

    /// <summary>The embedded plotly.js version, e.g. <c>plotly.js 2.28.0</c>.</summary>
    public static string PlotlyVersion => "plotly.js " + PlotlyResource.Value["Plotly.NET.plotly-".Length..^".min.js".Length];

    // "</script" inside an inline script would end it early; "<\/" means the same in JavaScript strings, regexes and comments.
    private static string EscapeForScript(string script) => script.Replace("</", "<\\/", StringComparison.Ordinal);

    /// <summary>
    /// Writes <c>name.html</c> (and <c>name.csv</c> when <paramref name="data"/> is given) atomically into
    /// <paramref name="directory"/>, and the folder's shared <see cref="PlotlyScriptName"/> when it is missing.
    /// </summary>
    /// <returns>The figure's paths written (the shared script is not listed).</returns>
    public static IReadOnlyList<string> Save(GenericChart chart, string directory, string name, DataFrame? data = null)
    {
        Directory.CreateDirectory(directory);
        EnsurePlotlyScript(directory);
        SavedNames.AddOrUpdate(chart, name);
        var written = new List<string>();
        string html = Path.Combine(directory, name + ".html");
        AtomicFile.WriteAllText(html, ToHtml(chart));
        written.Add(html);
        if (data is not null)
        {
            string csv = Path.Combine(directory, name + ".csv");
            AtomicFile.WriteAllText(csv, ToCsv(data));
            written.Add(csv);
        }
        return written;
    }

    /// <summary>
    /// Writes the plotly.js bundle that Plotly.NET embeds (and its licence file) into <paramref name="directory"/> as
    /// <see cref="PlotlyScriptName"/>, unless an identical copy is already there.
    /// </summary>
    /// <returns>The script's path.</returns>
    public static string EnsurePlotlyScript(string directory)
    {
        string path = Path.Combine(directory, PlotlyScriptName);
        byte[] script = PlotlyScript.Value;
        // Same length as the embedded bundle means the same plotly.js version: skip rewriting 3.6 MB per figure.
        if (!File.Exists(path) || new FileInfo(path).Length != script.Length)
        {
            AtomicFile.WriteAllBytes(path, script);
            if (ReadResource(PlotlyResource.Value + LicenseSuffix) is { } license)
                AtomicFile.WriteAllBytes(path + LicenseSuffix, license);
        }
        return path;
    }

    // Named after the plotly.js version, e.g. Plotly.NET.plotly-2.28.0.min.js.
    private static readonly Lazy<string> PlotlyResource = new(() => typeof(GenericChart).Assembly.GetManifestResourceNames()
        .Single(n => n.StartsWith("Plotly.NET.plotly-", StringComparison.Ordinal) && n.EndsWith(".min.js", StringComparison.Ordinal)));

    /// <summary>The plotly.js bundle embedded in the Plotly.NET assembly, the one its "Full" reference inlines.</summary>
    internal static readonly Lazy<byte[]> PlotlyScript = new(() => ReadResource(PlotlyResource.Value)
        ?? throw new InvalidOperationException($"Plotly.NET carries no resource {PlotlyResource.Value}"));

    private static readonly Lazy<string> NotebookPlotlyScriptText = new(() =>
    {
        string bundle = EscapeForScript(Encoding.UTF8.GetString(PlotlyScript.Value));
        return PlotlyLoaderMarker + "\n<script type=\"text/javascript\">\n" +
               "(function () {\n" +
               "  if (!window.Plotly) {\n" +
               "    var amd = window.define;\n" +
               "    window.define = undefined;\n" +
               "    try {\n" + bundle + "\n    } finally { window.define = amd; }\n" +
               "  }\n" +
               "  var waiting = window.mlhPlotlyWaiting || [];\n" +
               "  window.mlhPlotlyWaiting = [];\n" +
               "  waiting.forEach(function (draw) { draw(); });\n" +
               "})();\n" +
               "</script>\n" +
               $"<div style=\"font-size:smaller;color:#777\">{WebUtility.HtmlEncode(PlotlyVersion)} loaded for this notebook's charts (offline copy from Plotly.NET)</div>";
    });

    private static byte[]? ReadResource(string name)
    {
        using var stream = typeof(GenericChart).Assembly.GetManifestResourceStream(name);
        if (stream is null) return null;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>RFC 4180 CSV of a data frame, invariant culture, header row first.</summary>
    public static string ToCsv(DataFrame data)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', data.Columns.Select(c => Quote(c.Name))).Append('\n');
        for (long r = 0; r < data.Rows.Count; r++)
        {
            for (int c = 0; c < data.Columns.Count; c++)
            {
                if (c > 0) sb.Append(',');
                object? value = data.Columns[c][r];
                sb.Append(Quote(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string Quote(string field)
        => field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
}
