using System.Globalization;
using System.Text;
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

    /// <summary>HTML fragment for notebook outputs (plotly.js from the notebook front end's loader).</summary>
    public static string ToNotebookHtml(GenericChart chart) => GenericChart.toChartHTML(chart);

    /// <summary>
    /// Writes <c>name.html</c> (and <c>name.csv</c> when <paramref name="data"/> is given) atomically into
    /// <paramref name="directory"/>, and the folder's shared <see cref="PlotlyScriptName"/> when it is missing.
    /// </summary>
    /// <returns>The figure's paths written (the shared script is not listed).</returns>
    public static IReadOnlyList<string> Save(GenericChart chart, string directory, string name, DataFrame? data = null)
    {
        Directory.CreateDirectory(directory);
        EnsurePlotlyScript(directory);
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
