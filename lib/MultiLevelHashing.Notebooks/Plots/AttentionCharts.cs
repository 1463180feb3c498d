using System.Globalization;
using Microsoft.Data.Analysis;
using MultiLevelHashing.Attention;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Experiments;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MultiLevelHashing.Plots;

/// <summary>Charts and tables of bit activation maps and bit selection (notebooks 05 and 06).</summary>
public static class AttentionCharts
{
    private static Plotly.NET.CSharp.Optional<IEnumerable<T>> Keys<T>(IEnumerable<T> keys) => new(keys, true);

    private static string Percent(double v) => (100 * v).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>Localisation rows averaged over seeds: one row per (heads, level).</summary>
    public static DataFrame LocalisationTable(IReadOnlyList<LocalisationRow> rows)
    {
        var groups = rows.GroupBy(r => (r.Heads, r.Level)).ToList();
        MeanSpread Of(IEnumerable<LocalisationRow> g, Func<LocalisationScore, double> pick) => MeanSpread.Of(g.Select(r => pick(r.Score)));
        return new DataFrame(
            new StringDataFrameColumn("heads", groups.Select(g => g.Key.Heads)),
            new StringDataFrameColumn("level", groups.Select(g => g.Key.Level)),
            new StringDataFrameColumn("pointing game: peak inside the box (%)", groups.Select(g => Of(g, s => s.PointingHitRate).ToString())),
            new StringDataFrameColumn("activation inside the box (%)", groups.Select(g => Of(g, s => s.MassInside).ToString())),
            new StringDataFrameColumn("chance: box share of the image (%)", groups.Select(g => Of(g, s => s.Chance).ToString())),
            new StringDataFrameColumn("firing (image, bit) pairs per seed", groups.Select(g => string.Join(" / ", g.Select(r => r.Score.Maps)))),
            new PrimitiveDataFrameColumn<int>("seeds", groups.Select(g => g.Count())));
    }

    /// <summary>Pointing-game hit rate and activation inside the box per (heads, level), against chance.</summary>
    public static GenericChart Localisation(IReadOnlyList<LocalisationRow> rows)
    {
        var groups = rows.GroupBy(r => (r.Heads, r.Level)).ToList();
        var names = groups.Select(g => $"{g.Key.Level} · {g.Key.Heads}").ToArray();
        var hits = CSharpChart.Column<double, string, string>(values: groups.Select(g => 100 * g.Average(r => r.Score.PointingHitRate)), Keys: Keys(names),
            Name: "pointing game: peak inside the box");
        var mass = CSharpChart.Column<double, string, string>(values: groups.Select(g => 100 * g.Average(r => r.Score.MassInside)), Keys: Keys(names),
            Name: "share of activation inside the box");
        double chance = 100 * rows.Average(r => r.Score.Chance);
        var line = CSharpChart.Line<string, double, string>(x: new[] { names[0], names[^1] }, y: new[] { chance, chance }, Name: "chance (box share of the image)");
        return ChartTitles.With(CSharpChart.Combine([hits, mass, line]), "Do the bits look at the landmark?", "level · heads", "% (mean over seeds)");
    }

    /// <summary>The input-size measurement: grid, forward time, mAP and localisation per size.</summary>
    public static DataFrame InputSizeTable(IReadOnlyList<InputSizeRow> rows) => new(
        new PrimitiveDataFrameColumn<int>("input size S (px)", rows.Select(r => r.ImageSize)),
        new StringDataFrameColumn("maps h x w", rows.Select(r => $"{r.GridHeight} x {r.GridWidth}")),
        new PrimitiveDataFrameColumn<double>("forward ms per image", rows.Select(r => Math.Round(r.ForwardMsPerImage, 1))),
        new StringDataFrameColumn("global mAP (%)", rows.Select(r => Percent(r.GlobalMap))),
        new StringDataFrameColumn("multi-level, all bits (%)", rows.Select(r => Percent(r.MultiLevelAllMap))),
        new StringDataFrameColumn("multi-level, query-adaptive (%)", rows.Select(r => Percent(r.QueryAdaptiveMap))),
        new StringDataFrameColumn("setting", rows.Select(r => r.Setting.ToString())),
        new StringDataFrameColumn("local: peak inside / mass inside / chance (%)",
            rows.Select(r => $"{Percent(r.Local.PointingHitRate)} / {Percent(r.Local.MassInside)} / {Percent(r.Local.Chance)}")),
        new StringDataFrameColumn("global: peak inside / mass inside (%)",
            rows.Select(r => $"{Percent(r.Global.PointingHitRate)} / {Percent(r.Global.MassInside)}")));

    /// <summary>Histogram of the local bits' mean selection score over the training images (the dataset-level ranking).</summary>
    public static GenericChart PertinenceHistogram(IReadOnlyList<(string Name, double[] Scores)> sets) =>
        ChartTitles.With(CSharpChart.Combine(sets.Select(s => CSharpChart.Histogram<double, double, string>(X: s.Scores, Name: s.Name, NBinsX: 40))),
            "Pertinence of the local bits to the landmark boxes of the training images",
            "mean selection score (share of activation inside the box x peak)", "local bits (count)");

    /// <summary>Best validation mAP over N and lambda, per method and rho (all bits as a flat line).</summary>
    public static GenericChart ValidationAgainstRho(BitSelectionStudyResult study)
    {
        var rhos = study.Config.Rhos.Order().ToArray();
        var lines = new List<GenericChart>();
        foreach (var method in study.Methods.Select(m => m.Method))
        {
            var scores = study.Validation.Where(v => v.Method == method).ToList();
            double[] best = method == SelectionMethod.All
                ? [.. rhos.Select(_ => scores.Max(s => s.Map.Mean))]
                : [.. rhos.Select(r => scores.Where(s => s.Setting.Rho == r).Max(s => s.Map.Mean))];
            lines.Add(CSharpChart.Line<double, double, string>(x: rhos, y: best.Select(b => 100 * b), Name: MethodName(method), ShowMarkers: true));
        }
        return ChartTitles.With(CSharpChart.Combine(lines), "Multi-level mAP on validation folds against the selected share",
            "rho = L / Kl (selected share of the local bits)", "validation mAP (%), best N and lambda");
    }

    /// <summary>The numbers behind <see cref="ValidationAgainstRho"/>: every method, setting and its validation mAP.</summary>
    public static DataFrame ValidationTable(BitSelectionStudyResult study) => new(
        new StringDataFrameColumn("method", study.Validation.Select(v => MethodName(v.Method))),
        new PrimitiveDataFrameColumn<int>("N", study.Validation.Select(v => v.Setting.Candidates)),
        new PrimitiveDataFrameColumn<double>("lambda", study.Validation.Select(v => v.Setting.Lambda)),
        new PrimitiveDataFrameColumn<double>("rho", study.Validation.Select(v => v.Setting.Rho)),
        new PrimitiveDataFrameColumn<double>("validation mAP", study.Validation.Select(v => v.Map.Mean)),
        new PrimitiveDataFrameColumn<double>("sd", study.Validation.Select(v => v.Map.StdDev)));

    /// <summary>
    /// The test table: each level alone, then the multi-level search with every selection method at the setting
    /// cross-validation chose for it, mean ± sd over seeds and per seed.
    /// </summary>
    public static DataFrame TestTable(BitSelectionStudyResult study, int globalBits, int localBits)
    {
        string PerSeed(IEnumerable<double> v) => string.Join(" / ", v.Select(Percent));
        var rows = new List<(string Name, string Setting, string Validation, MeanSpread Test, string PerSeed)>
        {
            ($"global {globalBits}-bit code alone", "", "", study.GlobalMap, PerSeed(study.Seeds.Select(s => s.GlobalMap))),
            ($"local {localBits}-bit code alone, all bits", "", "", study.LocalMap, PerSeed(study.Seeds.Select(s => s.LocalMap))),
        };
        foreach (var m in study.Methods)
            rows.Add(($"multi-level: {MethodName(m.Method)}", m.Chosen.ToString(), m.Validation.ToString(), m.TestMap, PerSeed(m.Test)));
        return new DataFrame(
            new StringDataFrameColumn("codes", rows.Select(r => r.Name)),
            new StringDataFrameColumn("setting chosen on validation folds", rows.Select(r => r.Setting)),
            new StringDataFrameColumn("validation mAP (%)", rows.Select(r => r.Validation)),
            new StringDataFrameColumn("test mAP (%)", rows.Select(r => r.Test.ToString())),
            new StringDataFrameColumn("per seed (%)", rows.Select(r => r.PerSeed)));
    }

    /// <summary>
    /// The <paramref name="count"/> strongest global bits (by u_g) and local bits (by u_l) of image <paramref name="image"/>:
    /// one heat map per bit on the grid of F (top row global CAMs, bottom row local maps U), titled with the bit and its u.
    /// </summary>
    public static GenericChart StrongestBits(LevelMaps maps, int image, int count, string title)
    {
        int[] Top(float[] codes, int bits) => [.. Enumerable.Range(0, bits).OrderByDescending(k => codes[image * bits + k]).ThenBy(k => k).Take(count)];
        var charts = new List<GenericChart>();
        var titles = new List<string>();
        foreach (var (level, bitMaps, codes) in new[] { ("global", maps.Global, maps.GlobalCodes), ("local", maps.Local, maps.LocalCodes) })
            foreach (int k in Top(codes, bitMaps.Bits))
            {
                var map = bitMaps.Map(image, k).ToArray();
                var rows = Enumerable.Range(0, bitMaps.Height).Select(i => map.Skip(i * bitMaps.Width).Take(bitMaps.Width).Select(v => (double)v)).ToList();
                charts.Add(CSharpChart.Heatmap<double, int, int, string>(zData: rows, Name: $"{level} bit {k}", ShowScale: false, ReverseYAxis: true));
                titles.Add(FormattableString.Invariant($"{level} bit {k}, u = {codes[image * bitMaps.Bits + k]:0.00}"));
            }
        return ChartTitles.With(CSharpChart.Grid(charts, 2, count, SubPlotTitles: titles), title, "column of the feature map F", "row of F");
    }

    /// <summary>Display name of a selection method.</summary>
    public static string MethodName(SelectionMethod method) => method switch
    {
        SelectionMethod.All => "all local bits",
        SelectionMethod.DatasetLevel => "dataset-level selection",
        SelectionMethod.QueryAdaptive => "query-adaptive selection",
        SelectionMethod.Random => "random bits (control)",
        SelectionMethod.HighestVariance => "highest-variance bits (control)",
        _ => method.ToString(),
    };
}
