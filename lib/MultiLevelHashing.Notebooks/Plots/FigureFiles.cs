using System.Globalization;
using System.Text;
using Microsoft.Data.Analysis;
using MultiLevelHashing.Runtime;
using Plotly.NET;

namespace MultiLevelHashing.Plots;

/// <summary>Saves charts as self-contained HTML and the plotted numbers as CSV.</summary>
public static class FigureFiles
{
    /// <summary>
    /// HTML with plotly.js embedded, so the figure renders offline (the default HTML loads plotly.js from the
    /// network and shows a blank page without it).
    /// </summary>
    public static string ToStandaloneHtml(GenericChart chart)
    {
        var options = DisplayOptions.setPlotlyReference(PlotlyJSReference.Full).Invoke(DisplayOptions.initCDNOnly());
        return GenericChart.toEmbeddedHTML(GenericChart.addDisplayOptions(options, chart));
    }

    /// <summary>HTML fragment for notebook outputs (plotly.js from the notebook front end's loader).</summary>
    public static string ToNotebookHtml(GenericChart chart) => GenericChart.toChartHTML(chart);

    /// <summary>Writes <c>name.html</c> (and <c>name.csv</c> when <paramref name="data"/> is given) atomically into <paramref name="directory"/>.</summary>
    /// <returns>The paths written.</returns>
    public static IReadOnlyList<string> Save(GenericChart chart, string directory, string name, DataFrame? data = null)
    {
        var written = new List<string>();
        string html = Path.Combine(directory, name + ".html");
        AtomicFile.WriteAllText(html, ToStandaloneHtml(chart));
        written.Add(html);
        if (data is not null)
        {
            string csv = Path.Combine(directory, name + ".csv");
            AtomicFile.WriteAllText(csv, ToCsv(data));
            written.Add(csv);
        }
        return written;
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
