using System.Globalization;
using Microsoft.Data.Analysis;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Plots;

/// <summary>
/// The tables that notebooks display and save beside their figures, built from the library's result records, so a
/// notebook configures a run, calls it and shows the result. Percentages are rounded for reading; the CSV next to
/// a figure keeps what the table shows.
/// </summary>
public static class Tables
{
    /// <summary>For every query, the nearest database item other than itself and its Hamming distance (queries and database are the same items).</summary>
    /// <param name="names">Item names, in code order.</param>
    /// <param name="result">The k-nearest-neighbour answer of the items against themselves (k at least 2).</param>
    /// <param name="level">Which code was searched, for the distance column's name (e.g. "global").</param>
    /// <param name="item">What the items are, for the neighbour column's name (e.g. "photo").</param>
    public static DataFrame NearestOther(IReadOnlyList<string> names, KnnResult result, string level = "global", string item = "item")
    {
        // The first hit that is not the query itself: with equal codes a lower index may come before it.
        int Nearest(int q) => Enumerable.Range(0, result.K).First(j => result.Ids[q, j] != q);
        var hits = Enumerable.Range(0, names.Count).Select(q => Nearest(q)).ToArray();
        return new DataFrame(
            new StringDataFrameColumn("query", names),
            new StringDataFrameColumn($"nearest other {item}", hits.Select((j, q) => names[result.Ids[q, j]])),
            new PrimitiveDataFrameColumn<int>($"{level} Hamming distance (bits)", hits.Select((j, q) => result.Distances[q, j])));
    }

    /// <summary>Fraction of codes with each bit +1 (a balanced bit is near 0.5), one row per bit.</summary>
    public static DataFrame BitBalance(IReadOnlyList<double> fractionOnes) => new(
        new PrimitiveDataFrameColumn<int>("bit", Enumerable.Range(0, fractionOnes.Count)),
        new PrimitiveDataFrameColumn<double>("fraction +1", fractionOnes));

    /// <summary>Landmarks, images, distractors and queries of the training and test splits of a benchmark.</summary>
    public static DataFrame Splits(LandmarkDataset dataset) => new(
        new StringDataFrameColumn("split", ["train", "test"]),
        new PrimitiveDataFrameColumn<int>("landmarks", [dataset.TrainLandmarks.Count, dataset.TestLandmarks.Count]),
        new PrimitiveDataFrameColumn<int>("images", [dataset.Train.Count, dataset.Database.Count]),
        new PrimitiveDataFrameColumn<int>("distractors", [0, dataset.Database.Count(i => i.Label < 0)]),
        new PrimitiveDataFrameColumn<int>("queries", [0, dataset.Queries.Count]));

    /// <summary>mAP and mP@k (%) and the number of scored queries, one row per protocol's evaluation.</summary>
    /// <remarks>The mP@k columns are those of the first result; every result is expected to use the same cut-offs.</remarks>
    public static DataFrame Protocols(IEnumerable<EvaluationResult> results)
    {
        var list = results.ToList();
        int[] ks = list.Count > 0 ? list[0].Ks : MeanAveragePrecision.DefaultKs;
        var frame = new DataFrame(
            new StringDataFrameColumn("protocol", list.Select(r => r.Protocol.ToString().ToLowerInvariant())),
            new PrimitiveDataFrameColumn<double>("mAP (%)", list.Select(r => Math.Round(r.MapPercent, 2))));
        for (int k = 0; k < ks.Length; k++)
        {
            int index = k;
            frame.Columns.Add(new PrimitiveDataFrameColumn<double>($"mP@{ks[k]} (%)", list.Select(r => Math.Round(100 * r.MeanPrecisionAtK[index], 2))));
        }
        frame.Columns.Add(new PrimitiveDataFrameColumn<int>("queries", list.Select(r => r.Evaluated)));
        return frame;
    }

    /// <summary>The import parity check, one row per photo: largest difference from ONNX Runtime and largest feature.</summary>
    public static DataFrame Parity(IEnumerable<ParityRow> rows)
    {
        var list = rows.ToList();
        return new DataFrame(
            new StringDataFrameColumn("photo", list.Select(r => r.Image)),
            new PrimitiveDataFrameColumn<double>("max |ours - onnxruntime|", list.Select(r => r.MaxAbsDifference)),
            new PrimitiveDataFrameColumn<double>("max |feature|", list.Select(r => r.MaxAbsFeature)));
    }

    /// <summary>
    /// Float-descriptor baselines (cosine ranking of each pooling) and LSH of the GAP descriptor over seeds: mAP (%) and
    /// its spread over seeds (0 for the deterministic float rows).
    /// </summary>
    /// <param name="floats">One result per pooling.</param>
    /// <param name="lsh">LSH mAP, one value per seed.</param>
    /// <param name="lshBits">Code length of the LSH rows.</param>
    /// <param name="dimensions">Length of the float descriptors, for their label.</param>
    public static DataFrame Descriptors(IReadOnlyList<DescriptorResult> floats, IReadOnlyList<double> lsh, int lshBits, int dimensions = 512)
    {
        var rows = DescriptorRows(floats, lsh, lshBits, dimensions);
        return new DataFrame(
            new StringDataFrameColumn("descriptor", rows.Select(r => r.Name)),
            new PrimitiveDataFrameColumn<double>("mAP (%)", rows.Select(r => r.MapPercent)),
            new PrimitiveDataFrameColumn<double>("spread (sd, %)", rows.Select(r => r.SpreadPercent)));
    }

    internal static IReadOnlyList<(string Name, double MapPercent, double SpreadPercent)> DescriptorRows(
        IReadOnlyList<DescriptorResult> floats, IReadOnlyList<double> lsh, int lshBits, int dimensions)
    {
        var rows = floats.Select(r => ($"{r.Pooling} + cosine ({dimensions} floats)", 100 * r.Map, 0.0)).ToList();
        if (lsh.Count > 0)
        {
            var spread = MeanSpread.Of(lsh);
            rows.Add(($"LSH-{lshBits} of GAP ({lshBits} bits, {lsh.Count} seeds)", 100 * spread.Mean, 100 * spread.StdDev));
        }
        return rows;
    }

    /// <summary>
    /// The global-code comparison of notebook 03: the trained code, its start before siamese steps, the centred-start
    /// ablation, untrained heads, LSH and the float GAP reference, as mean, sd and per-seed mAP (%).
    /// </summary>
    public static DataFrame Comparison(GlobalCodeComparisonResult comparison)
    {
        var config = comparison.Config;
        int bits = config.GlobalBits;
        var seeds = comparison.Seeds;
        string PerSeed(Func<SeedOutcome, double> pick) => PerSeedPercent(seeds.Select(pick));
        var rows = new (string Code, MeanSpread Map, string PerSeed)[]
        {
            ($"DSCNN global {bits}-bit, trained ({config.HeadInit} start + siamese)", comparison.Trained, PerSeed(s => s.TrainedMap)),
            ($"  start only: {config.HeadInit}, before siamese steps", comparison.Start, PerSeed(s => s.StartMap)),
            ("  ablation: centred random start + siamese", comparison.RandomStartTrained, PerSeed(s => s.RandomStartTrainedMap)),
            ($"DSCNN global {bits}-bit, untrained heads (random, centred)", comparison.Untrained, PerSeed(s => s.UntrainedMap)),
            ($"LSH-{bits} of GAP", comparison.Lsh, PerSeed(s => s.LshMap)),
            ("GAP + cosine (512 floats, reference)", new MeanSpread(comparison.GapCosineMap, 0, 1), ""),
        };
        return new DataFrame(
            new StringDataFrameColumn("code", rows.Select(r => r.Code)),
            new PrimitiveDataFrameColumn<double>("mAP mean (%)", rows.Select(r => Percent(r.Map.Mean))),
            new PrimitiveDataFrameColumn<double>("sd (%)", rows.Select(r => Percent(r.Map.StdDev))),
            new StringDataFrameColumn("per seed (%)", rows.Select(r => r.PerSeed)));
    }

    /// <summary>Per-epoch losses and validation mAP (NaN where not measured) of training runs, one row per run and epoch.</summary>
    public static DataFrame Epochs(IReadOnlyList<(string Name, TrainingHistory History)> runs)
    {
        var rows = runs.SelectMany(r => r.History.Epochs.Select(e => (r.Name, Epoch: e))).ToList();
        return new DataFrame(
            new StringDataFrameColumn("run", rows.Select(r => r.Name)),
            new PrimitiveDataFrameColumn<int>("epoch", rows.Select(r => r.Epoch.Epoch)),
            new PrimitiveDataFrameColumn<double>("loss", rows.Select(r => r.Epoch.Loss)),
            new PrimitiveDataFrameColumn<double>("L_g", rows.Select(r => r.Epoch.GlobalLoss)),
            new PrimitiveDataFrameColumn<double>("L_l", rows.Select(r => r.Epoch.LocalLoss)),
            new PrimitiveDataFrameColumn<double>("validation mAP", rows.Select(r => r.Epoch.ValidationMap ?? double.NaN)));
    }

    /// <summary>Quantization errors | |u| - 1 | in long form: one row per value, labelled by its set (e.g. "global", "local").</summary>
    public static DataFrame QuantizationErrors(IReadOnlyList<(string Name, double[] Errors)> sets) => new(
        new StringDataFrameColumn("level", sets.SelectMany(s => s.Errors.Select(_ => s.Name))),
        new PrimitiveDataFrameColumn<double>("quantization error", sets.SelectMany(s => s.Errors)));

    /// <summary>
    /// The cross-validation of notebook 04, one row per candidate and a last LSH reference row: validation and start mAP
    /// (mean ± sd, %), the paired difference to the first candidate (points), whether it is <paramref name="preset"/>,
    /// and the value of every fold and seed.
    /// </summary>
    public static DataFrame Selection(SettingsSelectionResult selection, TrainingConfig preset)
    {
        var candidates = selection.Candidates;
        int bits = candidates.Count > 0 ? candidates[0].Config.GlobalBits : preset.GlobalBits;
        string PerRun(CandidateScore c) => string.Join(" / ", c.Trained.Select(v => (100 * v).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)));
        return new DataFrame(
            new StringDataFrameColumn("setting", candidates.Select(c => c.Name).Append($"LSH-{bits} of GAP (reference)")),
            new StringDataFrameColumn("validation mAP (%)", candidates.Select(c => c.TrainedMap.ToString()).Append(selection.LshMap.ToString())),
            new StringDataFrameColumn("start only (%)", candidates.Select(c => c.StartMap.ToString()).Append("")),
            new StringDataFrameColumn(candidates.Count > 0 ? $"minus '{candidates[0].Name}', paired (points)" : "paired (points)",
                candidates.Select((c, i) => i == 0 ? "" : selection.PairedDifference(i).ToString()).Append("")),
            new StringDataFrameColumn("is the preset", candidates.Select(c => c.Config == preset ? "yes" : "").Append("")),
            new StringDataFrameColumn("per fold and seed (%)", candidates.Select(PerRun).Append("")));
    }

    /// <summary>Mean validation mAP after siamese training and at the start, one row per candidate (the numbers behind <see cref="TrainingCharts.CandidateScores"/>).</summary>
    public static DataFrame CandidateScores(IReadOnlyList<(string Name, double Trained, double Start)> candidates) => new(
        new StringDataFrameColumn("setting", candidates.Select(s => s.Name)),
        new PrimitiveDataFrameColumn<double>("validation mAP", candidates.Select(s => s.Trained)),
        new PrimitiveDataFrameColumn<double>("start mAP", candidates.Select(s => s.Start)));

    /// <summary>The candidates' mean scores as <see cref="CandidateScores(IReadOnlyList{ValueTuple{string, double, double}})"/> and the chart take them.</summary>
    public static IReadOnlyList<(string Name, double Trained, double Start)> MeanScores(SettingsSelectionResult selection)
        => [.. selection.Candidates.Select(c => (c.Name, c.TrainedMap.Mean, c.StartMap.Mean))];

    /// <summary>
    /// The regimes of a self-supervised comparison (notebook 10), one row each: photos and images trained on, test mAP
    /// over seeds, each seed's test and validation mAP, and the paired difference to labelled training (points).
    /// </summary>
    public static DataFrame SelfSupervised(SelfSupervisedComparisonResult comparison)
    {
        var regimes = comparison.Regimes;
        RegimeOutcome First(string regime) => comparison.Outcomes.First(o => o.Regime == regime);
        string PerSeed(string regime, Func<RegimeOutcome, double> pick) => PerSeedPercent(comparison.Outcomes.Where(o => o.Regime == regime).Select(pick));
        return new DataFrame(
            new StringDataFrameColumn("training", regimes),
            new PrimitiveDataFrameColumn<int>("identity photos", regimes.Select(r => First(r).Photos)),
            new PrimitiveDataFrameColumn<int>("training images", regimes.Select(r => First(r).TrainingImages)),
            new PrimitiveDataFrameColumn<double>("test mAP mean (%)", regimes.Select(r => Percent(comparison.TestMap(r).Mean))),
            new PrimitiveDataFrameColumn<double>("sd (%)", regimes.Select(r => Percent(comparison.TestMap(r).StdDev))),
            new StringDataFrameColumn("per seed (%)", regimes.Select(r => PerSeed(r, o => o.TestMap))),
            new PrimitiveDataFrameColumn<double>("minus labelled, paired (points)",
                regimes.Select(r => Percent(comparison.Difference(r, SelfSupervisedComparison.Labelled).Mean))),
            new StringDataFrameColumn("validation mAP per seed (%)", regimes.Select(r => PerSeed(r, o => o.ValidationMap))));
    }

    // A fraction as a percentage with one decimal, the precision the tables show.
    private static double Percent(double fraction) => Math.Round(100 * fraction, 1);

    // One value per seed, as percentages with one decimal, in seed order: "56.1 / 57.0 / 55.8".
    private static string PerSeedPercent(IEnumerable<double> fractions)
        => string.Join(" / ", fractions.Select(v => (100 * v).ToString("0.0", CultureInfo.InvariantCulture)));
}
