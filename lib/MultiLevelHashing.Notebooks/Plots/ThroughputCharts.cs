using System.Globalization;
using Microsoft.Data.Analysis;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MultiLevelHashing.Plots;

/// <summary>Charts of the TorchSharp against PyTorch comparison (<c>mlh bench pytorch</c>, notebook 08).</summary>
public static class ThroughputCharts
{
    /// <summary>
    /// Ratio of the TorchSharp median to the PyTorch median per row of a <c>pytorch.tsv</c> written by
    /// <c>mlh bench pytorch</c> (the decode-threads x batch sweep left out), one bar per PyTorch pipeline of a row,
    /// with parity at 1 marked.
    /// </summary>
    public static (GenericChart Chart, DataFrame Data) AgainstPyTorch(string tsvPath)
    {
        if (!File.Exists(tsvPath)) throw new UserInputException($"{tsvPath}: results file not found (run mlh bench pytorch)");
        var runs = new List<(string Row, string Side, double Rate)>();
        foreach (string line in File.ReadLines(tsvPath).Skip(1))
        {
            var cells = line.Split('\t');
            if (cells.Length != 5) throw UserInputException.InFile(tsvPath, $"expected 5 tab-separated columns, got {cells.Length}: '{line}'");
            if (cells[2].Length > 0) continue;  // a sweep run
            if (!double.TryParse(cells[4], NumberStyles.Float, CultureInfo.InvariantCulture, out double rate))
                throw UserInputException.InFile(tsvPath, $"'{cells[4]}' is not a rate");
            runs.Add((cells[0], cells[1], rate));
        }
        // One bar per row and PyTorch pipeline: end to end is also measured against a 2-worker DataLoader and Image.draft.
        var pairs = runs.Where(r => r.Side != "TorchSharp").Select(r => (r.Row, r.Side)).Distinct().ToList();
        var rows = pairs.Select(p => p.Side == "PyTorch" ? p.Row : $"{p.Row} vs {p.Side}").ToList();
        double MedianOf(string row, string side) => Statistics.Median(runs.Where(r => r.Row == row && r.Side == side).Select(r => r.Rate));
        var ours = pairs.Select(p => MedianOf(p.Row, "TorchSharp")).ToArray();
        var theirs = pairs.Select(p => MedianOf(p.Row, p.Side)).ToArray();
        var ratios = ours.Zip(theirs, (a, b) => a / b).ToArray();
        var bars = CSharpChart.Column<double, string, string>(values: ratios, Keys: new Plotly.NET.CSharp.Optional<IEnumerable<string>>(rows, true),
            Name: "TorchSharp / PyTorch (medians)");
        var parity = CSharpChart.Line<string, double, string>(x: new[] { rows[0], rows[^1] }, y: new[] { 1.0, 1.0 }, Name: "parity");
        var chart = ChartTitles.With(CSharpChart.Combine([bars, parity]), "The same DSCNN in TorchSharp and in PyTorch", "measurement", "TorchSharp rate / PyTorch rate");
        var data = new DataFrame(
            new StringDataFrameColumn("row", rows),
            new PrimitiveDataFrameColumn<double>("TorchSharp median", ours),
            new PrimitiveDataFrameColumn<double>("PyTorch median", theirs),
            new PrimitiveDataFrameColumn<double>("ratio", ratios.Select(r => Math.Round(r, 3))));
        return (chart, data);
    }
}
