using MultiLevelHashing.Training;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MultiLevelHashing.Plots;

/// <summary>Charts of DSCNN training runs and of their codes (notebook 03).</summary>
public static class TrainingCharts
{
    private static GenericChart Axes(GenericChart chart, string x, string y, string title) => ChartTitles.With(chart, title, x, y);

    /// <summary>Mean loss per epoch: total L = L_g + beta L_l and both levels, one line each per run.</summary>
    public static GenericChart LossCurves(IReadOnlyList<(string Name, TrainingHistory History)> runs)
    {
        var lines = new List<GenericChart>();
        foreach (var (name, h) in runs)
        {
            var epochs = h.Epochs.Select(e => e.Epoch).ToArray();
            lines.Add(CSharpChart.Line<int, double, string>(x: epochs, y: h.Epochs.Select(e => e.GlobalLoss), Name: $"{name} L_g"));
            lines.Add(CSharpChart.Line<int, double, string>(x: epochs, y: h.Epochs.Select(e => e.LocalLoss), Name: $"{name} L_l"));
        }
        return Axes(CSharpChart.Combine(lines), "epoch", "mean loss per pair (DSH loss units)", "DSH loss per level");
    }

    /// <summary>Validation mAP (%) of the global code per epoch (epoch 0 = the start, before any siamese step), with horizontal reference lines.</summary>
    public static GenericChart ValidationMap(IReadOnlyList<(string Name, TrainingHistory History)> runs,
        IReadOnlyList<(string Name, double Map)>? references = null)
    {
        var lines = new List<GenericChart>();
        int last = 1;
        foreach (var (name, h) in runs)
        {
            var points = new List<(int, double)>();
            if (h.InitialValidationMap is { } m0) points.Add((0, 100 * m0));
            points.AddRange(h.Epochs.Where(e => e.ValidationMap is not null).Select(e => (e.Epoch, 100 * e.ValidationMap!.Value)));
            last = Math.Max(last, h.Epochs.Count);
            lines.Add(CSharpChart.Line<int, double, string>(x: points.Select(p => p.Item1), y: points.Select(p => p.Item2), Name: name, ShowMarkers: true));
        }
        foreach (var (name, map) in references ?? [])
            lines.Add(CSharpChart.Line<int, double, string>(x: new[] { 0, last }, y: new[] { 100 * map, 100 * map }, Name: name));
        return Axes(CSharpChart.Combine(lines), "epoch", "mAP (%)", "Validation mAP of the global code");
    }

    /// <summary>Fraction of +1 per bit (a balanced bit is near 0.5).</summary>
    public static GenericChart BitBalance(double[] fractionOnes, string name = "global code")
        => Axes(CSharpChart.Column<double, int, string>(values: fractionOnes, Keys: new Plotly.NET.CSharp.Optional<IEnumerable<int>>(Enumerable.Range(0, fractionOnes.Length), true), Name: name),
            "bit (index in the code)", "fraction of codes with the bit +1", $"Code balance per bit ({name})");

    /// <summary>Histogram of the quantization errors | |u| - 1 |.</summary>
    public static GenericChart QuantizationHistogram(IReadOnlyList<(string Name, double[] Errors)> sets)
    {
        var charts = sets.Select(s => CSharpChart.Histogram<double, double, string>(X: s.Errors, Name: s.Name, NBinsX: 40)).ToList();
        return Axes(CSharpChart.Combine(charts), "quantization error | |u| - 1 | (distance of u from ±1)", "values (count)", "Quantization error of the relaxed codes");
    }

    /// <summary>
    /// Mean validation mAP (%) per candidate setting, one bar each, with the configured start before any siamese step
    /// beside it and a horizontal LSH reference (notebook 04's cross-validation).
    /// </summary>
    public static GenericChart CandidateScores(IReadOnlyList<(string Name, double Trained, double Start)> candidates, double lshMap)
    {
        var names = candidates.Select(c => c.Name).ToArray();
        var trained = CSharpChart.Column<double, string, string>(values: candidates.Select(c => 100 * c.Trained),
            Keys: new Plotly.NET.CSharp.Optional<IEnumerable<string>>(names, true), Name: "after siamese training");
        var start = CSharpChart.Column<double, string, string>(values: candidates.Select(c => 100 * c.Start),
            Keys: new Plotly.NET.CSharp.Optional<IEnumerable<string>>(names, true), Name: "start, before siamese steps");
        var lsh = CSharpChart.Line<string, double, string>(x: new[] { names[0], names[^1] }, y: new[] { 100 * lshMap, 100 * lshMap }, Name: "LSH");
        return Axes(CSharpChart.Combine([start, trained, lsh]), "candidate setting", "validation mAP (%)",
            "Cross-validated mAP of the global code per setting");
    }
}
