using System.Globalization;
using Microsoft.Data.Analysis;
using MultiLevelHashing.Attention;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Experiments;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MultiLevelHashing.Plots;

/// <summary>The paper's tables and their charts (notebooks 07 and 09): code lengths, ablations, cost, precision-recall, N and lambda.</summary>
public static class TableCharts
{
    private static string Cell(TableRow row) => row.Seeds.Count > 1
        ? string.Create(CultureInfo.InvariantCulture, $"{100 * row.Mean:0.0} ± {100 * row.Spread:0.0}")
        : string.Create(CultureInfo.InvariantCulture, $"{100 * row.Mean:0.0}");

    /// <summary>The hashing methods (rows) against code length (columns) under <paramref name="protocol"/>: the paper's main table.</summary>
    public static DataFrame CodeLengthTable(PaperTablesResult result, EvaluationProtocol protocol)
    {
        var methods = PaperMethods.CodeLengthRows;
        var columns = new List<DataFrameColumn> { new StringDataFrameColumn($"{protocol} mAP (%)", methods) };
        foreach (int bits in result.Config.CodeLengths)
            columns.Add(new StringDataFrameColumn($"{bits} bits", methods.Select(m => Cell(result.Row(m, bits, protocol)))));
        return new DataFrame(columns);
    }

    /// <summary>The float references and the multi-level ablations: every protocol, mP@10, bits stored and compared, query time, setting.</summary>
    public static DataFrame AblationTable(PaperTablesResult result)
    {
        int kg = result.Config.Training.GlobalBits;
        var rows = PaperMethods.FloatRows.Select(m => (m, Head: result.Row(m)))
            .Concat(PaperMethods.AblationRows.Select(m => (m, Head: m == PaperMethods.Global ? result.Row(m, kg) : result.Row(m)))).ToList();
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("codes", rows.Select(r => r.m == PaperMethods.Global ? $"{r.m}, {kg} bits" : r.m)),
            new PrimitiveDataFrameColumn<int>("bits stored", rows.Select(r => r.Head.Bits)),
            new PrimitiveDataFrameColumn<double>("bits compared per image", rows.Select(r => Math.Round(r.Head.BitsCompared, 1))),
        };
        foreach (var protocol in result.Protocols)
            columns.Add(new StringDataFrameColumn($"{protocol} mAP (%)", rows.Select(r => Cell(result.Rows.Single(x => x.Method == r.Head.Method && x.Bits == r.Head.Bits && x.Protocol == protocol)))));
        columns.Add(new PrimitiveDataFrameColumn<double>($"{result.Protocols[0]} mP@10 (%)", rows.Select(r => Math.Round(100 * r.Head.PrecisionAt10, 1))));
        columns.Add(new PrimitiveDataFrameColumn<double>("ms per query, scan", rows.Select(r => Math.Round(r.Head.QueryMs, 4))));
        columns.Add(new StringDataFrameColumn("ms per query, multi-index hashing", rows.Select(r => r.Head.QueryMsMultiIndex is { } v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "")));
        columns.Add(new StringDataFrameColumn("search", rows.Select(r => r.Head.Search)));
        columns.Add(new StringDataFrameColumn("setting (chosen on validation folds)", rows.Select(r => r.Head.Setting)));
        return new DataFrame(columns);
    }

    /// <summary>Each aim of the tables, the numbers it was decided on, and whether it was met.</summary>
    public static DataFrame AimTable(PaperTablesResult result) => new(
        new StringDataFrameColumn("aim", result.Aims.Select(a => a.Name)),
        new StringDataFrameColumn("measured", result.Aims.Select(a => a.Measured)),
        new StringDataFrameColumn("met", result.Aims.Select(a => a.Met ? "met" : "missed")));

    /// <summary>mAP against code length per hashing method, with GAP as a reference line.</summary>
    public static GenericChart MapAgainstBits(PaperTablesResult result, EvaluationProtocol protocol)
    {
        var lengths = result.Config.CodeLengths.Select(b => (double)b).ToArray();
        var lines = PaperMethods.CodeLengthRows.Select(m =>
        {
            var rows = result.Config.CodeLengths.Select(b => result.Row(m, b, protocol)).ToList();
            return CSharpChart.Line<double, double, string>(x: lengths, y: rows.Select(r => 100 * r.Mean), Name: m, ShowMarkers: true);
        }).ToList();
        double gap = 100 * result.Row(PaperMethods.Gap, protocol).Mean;
        lines.Add(CSharpChart.Line<double, double, string>(x: new[] { lengths[0], lengths[^1] }, y: new[] { gap, gap }, Name: $"{PaperMethods.Gap} (float, {result.Row(PaperMethods.Gap).Bits} bits)"));
        return ChartTitles.With(CSharpChart.Combine(lines), $"mAP against code length ({protocol})", "bits per image (log scale)", $"{protocol} mAP (%), mean over seeds", logX: true);
    }

    /// <summary>
    /// mAP against bits compared per database image: one point per row (method and length), log x. Each method is its
    /// own legend entry and each point carries its short name ("ITQ-64", "multi-level, query"), so a static picture of the
    /// chart says which dot is which; marker shapes tell the families apart.
    /// </summary>
    public static GenericChart MapAgainstCost(PaperTablesResult result, EvaluationProtocol protocol)
    {
        var methods = result.Rows.Where(r => r.Protocol == protocol).GroupBy(r => r.Method)
            .OrderBy(g => FamilyOrder(g.First().Family)).Select(g => g.ToList()).ToList();
        var all = methods.SelectMany(g => g).ToList();
        var positions = ChartLabels.Place(all.Select(r => (Math.Log10(Math.Max(r.BitsCompared, 1)), 100 * r.Mean, ShortLabel(r))).ToList());
        int next = 0;
        var points = methods.Select(g =>
        {
            var at = positions.Skip(next).Take(g.Count).ToList();
            next += g.Count;
            return CSharpChart.Point<double, double, string>(
                x: g.Select(r => r.BitsCompared), y: g.Select(r => 100 * r.Mean), Name: g[0].Method,
                MultiText: new Plotly.NET.CSharp.Optional<IEnumerable<string>>(g.Select(ShortLabel), true),
                MultiTextPosition: new Plotly.NET.CSharp.Optional<IEnumerable<StyleParam.TextPosition>>(at, true),
                MarkerSymbol: FamilySymbol(g[0].Family));
        }).ToList();
        return ChartTitles.With(CSharpChart.Combine(points), $"Accuracy against search cost ({protocol})",
            "bits compared per database image and query (log scale)", $"{protocol} mAP (%)", logX: true);
    }

    /// <summary>The label of a point in <see cref="MapAgainstCost"/>: the method's short name, with the length where a method has several.</summary>
    public static string ShortLabel(TableRow row) => row.Method switch
    {
        PaperMethods.Lsh or PaperMethods.Pcah or PaperMethods.Itq => $"{row.Method}-{row.Bits}",
        PaperMethods.Global => $"global-{row.Bits}",
        PaperMethods.LocalAll => "local, all",
        PaperMethods.LocalSelected => "local, selected",
        PaperMethods.Concatenated => "global+local",
        PaperMethods.MultiLevelAll => "multi-level, all",
        PaperMethods.MultiLevelDataset => "multi-level, dataset",
        PaperMethods.MultiLevelQuery => "multi-level, query",
        PaperMethods.RegionPca => "regions PCA-sign",
        PaperMethods.RegionTrained => "regions trained",
        PaperMethods.RegionLocalHead => "regions local head",
        PaperMethods.MultiLevelRegionStrongest => "ML, strongest regions",
        PaperMethods.MultiLevelRegionRandom => "ML, random regions",
        PaperMethods.MultiLevelRegionVerified => "ML + verification",
        PaperMethods.MultiLevelRegionExpanded => "ML + expansion",
        PaperMethods.MultiLevelRegionStrongestExpanded => "ML, strongest + expansion",
        PaperMethods.MultiLevelRegionInverted => "ML, global + inverted file",
        _ when row.Method.StartsWith(PaperMethods.MultiLevelRegionPca, StringComparison.Ordinal) => "ML, PCA-sign" + row.Method[PaperMethods.MultiLevelRegionPca.Length..],
        _ when row.Method.StartsWith(PaperMethods.MultiLevelRegionTrained, StringComparison.Ordinal) => "ML, trained" + row.Method[PaperMethods.MultiLevelRegionTrained.Length..],
        _ => row.Method,
    };

    /// <summary>
    /// The region-level rows (lib/MultiLevelHashing/README.md section 2.8): region codes alone and the multi-level search
    /// with region codes, with bytes stored per image, every protocol, query time and setting (stage-1 recall at N);
    /// for a region-only run (<see cref="PaperTables.RunRegionRows"/>) its GAP and global-code rows first.
    /// </summary>
    public static DataFrame RegionTable(PaperTablesResult result)
    {
        // A region-only run (a second benchmark) has no other table: its GAP and global-code rows come first as references.
        bool regionOnly = !result.Rows.Any(r => r.Method == PaperMethods.MultiLevelQuery);
        var rows = result.Rows.Where(r => r.Protocol == result.Protocols[0] && (r.Method.Contains("region", StringComparison.Ordinal) ||
                                          regionOnly && r.Method is PaperMethods.Gap or PaperMethods.Global))
            .OrderBy(r => r.Method is PaperMethods.Gap or PaperMethods.Global ? 0 : 1).ToList();
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("codes", rows.Select(r => r.Method == PaperMethods.Global ? $"{r.Method}, {r.Bits} bits" : r.Method)),
            new PrimitiveDataFrameColumn<int>("bytes per image", rows.Select(r => r.Bits / 8)),
            new PrimitiveDataFrameColumn<double>("bits compared per image", rows.Select(r => Math.Round(r.BitsCompared))),
        };
        foreach (var protocol in result.Protocols)
            columns.Add(new StringDataFrameColumn($"{protocol} mAP (%)", rows.Select(r => Cell(result.Row(r.Method, protocol)))));
        columns.Add(new PrimitiveDataFrameColumn<double>($"{result.Protocols[0]} mP@10 (%)", rows.Select(r => Math.Round(100 * r.PrecisionAt10, 1))));
        columns.Add(new PrimitiveDataFrameColumn<double>("ms per query, scan", rows.Select(r => Math.Round(r.QueryMs, 3))));
        columns.Add(new StringDataFrameColumn("setting", rows.Select(r => r.Setting)));
        return new DataFrame(columns);
    }

    /// <summary>
    /// mAP against bytes stored per image (log x), one point per row at the preset's length and the float references,
    /// with the Pareto front (no other row is both smaller and better) drawn as a line.
    /// </summary>
    public static GenericChart MapAgainstBytes(PaperTablesResult result, EvaluationProtocol protocol)
    {
        int kg = result.Config.Training.GlobalBits;
        var rows = result.Rows.Where(r => r.Protocol == protocol && (r.Method != PaperMethods.Global || r.Bits == kg) &&
                                          (!PaperMethods.CodeLengthRows.Contains(r.Method) || r.Method == PaperMethods.Global || r.Bits == kg))
            .OrderBy(r => r.Bits).ThenByDescending(r => r.Mean).ToList();
        var front = new List<TableRow>();
        foreach (var row in rows)
            if (front.Count == 0 || row.Mean > front[^1].Mean) front.Add(row);
        var positions = ChartLabels.Place(rows.Select(r => (Math.Log10(r.Bits / 8.0), 100 * r.Mean, ShortLabel(r))).ToList());
        var points = rows.GroupBy(r => r.Family).Select(g =>
        {
            var at = g.Select(r => positions[rows.IndexOf(r)]).ToList();
            return CSharpChart.Point<double, double, string>(x: g.Select(r => r.Bits / 8.0), y: g.Select(r => 100 * r.Mean), Name: g.Key,
                MultiText: new Plotly.NET.CSharp.Optional<IEnumerable<string>>(g.Select(ShortLabel), true),
                MultiTextPosition: new Plotly.NET.CSharp.Optional<IEnumerable<StyleParam.TextPosition>>(at, true),
                MarkerSymbol: FamilySymbol(g.Key));
        }).ToList();
        points.Add(CSharpChart.Line<double, double, string>(x: front.Select(r => r.Bits / 8.0), y: front.Select(r => 100 * r.Mean), Name: "Pareto front"));
        return ChartTitles.With(CSharpChart.Combine(points), $"Accuracy against bytes per image ({protocol})",
            "bytes stored per image (log scale)", $"{protocol} mAP (%)", logX: true);
    }

    private static int FamilyOrder(string family) => family switch
    {
        PaperMethods.Float => 0,
        PaperMethods.Unsupervised => 1,
        _ => 2,
    };

    private static StyleParam.MarkerSymbol FamilySymbol(string family) => family switch
    {
        PaperMethods.Float => StyleParam.MarkerSymbol.Diamond,
        PaperMethods.Unsupervised => StyleParam.MarkerSymbol.Square,
        _ => StyleParam.MarkerSymbol.Circle,
    };

    /// <summary>Mean interpolated precision-recall curves of the main methods (first seed).</summary>
    public static GenericChart PrecisionRecall(PaperTablesResult result) =>
        ChartTitles.With(CSharpChart.Combine(result.Curves.Select(c => CSharpChart.Line<double, double, string>(
                x: c.Recall, y: c.Precision.Select(p => 100 * p), Name: $"{c.Method} ({c.Bits} bits)"))),
            $"Precision against recall ({result.Protocols[0]}, seed {result.Config.Seeds[0]})", "recall", "interpolated precision (%), mean over queries");

    /// <summary>The curves' numbers, one row per (method, recall level).</summary>
    public static DataFrame PrecisionRecallTable(PaperTablesResult result) => new(
        new StringDataFrameColumn("method", result.Curves.SelectMany(c => c.Recall.Select(_ => $"{c.Method} ({c.Bits} bits)"))),
        new PrimitiveDataFrameColumn<double>("recall", result.Curves.SelectMany(c => c.Recall)),
        new PrimitiveDataFrameColumn<double>("precision", result.Curves.SelectMany(c => c.Precision)));

    /// <summary>Validation mAP (folds x seeds) of <paramref name="method"/> at share <paramref name="rho"/> against N, one line per lambda.</summary>
    public static GenericChart ValidationAgainstCandidates(BitSelectionStudyResult study, SelectionMethod method, double rho)
    {
        var scores = study.Validation.Where(v => v.Method == method && v.Setting.Rho == rho).ToList();
        var lines = scores.GroupBy(s => s.Setting.Lambda).OrderBy(g => g.Key).Select(g => CSharpChart.Line<double, double, string>(
            x: g.OrderBy(s => s.Setting.Candidates).Select(s => (double)s.Setting.Candidates),
            y: g.OrderBy(s => s.Setting.Candidates).Select(s => 100 * s.Map.Mean),
            Name: string.Create(CultureInfo.InvariantCulture, $"lambda {g.Key:0.###}"), ShowMarkers: true));
        return ChartTitles.With(CSharpChart.Combine(lines),
            string.Create(CultureInfo.InvariantCulture, $"{AttentionCharts.MethodName(method)}: validation mAP against N (rho {rho:0.###})"),
            "N: global-code results re-ranked", "validation mAP (%), mean over folds and seeds");
    }

    /// <summary>Test mAP of one model against N, one line per lambda (an illustration; settings are chosen on the validation folds).</summary>
    public static GenericChart TestAgainstCandidates(IReadOnlyList<SettingMap> sweep, string method, double globalAlone)
    {
        var lines = sweep.GroupBy(s => s.Setting.Lambda).OrderBy(g => g.Key).Select(g => CSharpChart.Line<double, double, string>(
            x: g.OrderBy(s => s.Setting.Candidates).Select(s => (double)s.Setting.Candidates), y: g.OrderBy(s => s.Setting.Candidates).Select(s => 100 * s.Map),
            Name: string.Create(CultureInfo.InvariantCulture, $"lambda {g.Key:0.###}"), ShowMarkers: true)).ToList();
        var n = sweep.Select(s => (double)s.Setting.Candidates).Distinct().Order().ToArray();
        lines.Add(CSharpChart.Line<double, double, string>(x: new[] { n[0], n[^1] }, y: new[] { 100 * globalAlone, 100 * globalAlone }, Name: "global code alone"));
        return ChartTitles.With(CSharpChart.Combine(lines), $"{method}: test mAP against N (seed 0)", "N: global-code results re-ranked (log scale)",
            "test mAP (%)", logX: true);
    }

    /// <summary>The numbers of <see cref="TestAgainstCandidates"/>: N, lambda and test mAP (%) per setting.</summary>
    public static DataFrame SweepTable(IReadOnlyList<SettingMap> sweep) => new(
        new PrimitiveDataFrameColumn<int>("N", sweep.Select(s => s.Setting.Candidates)),
        new PrimitiveDataFrameColumn<double>("lambda", sweep.Select(s => s.Setting.Lambda)),
        new PrimitiveDataFrameColumn<double>("test mAP (%)", sweep.Select(s => Math.Round(100 * s.Map, 2))));
}
