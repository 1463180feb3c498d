using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MultiLevelHashing.Attention;
using MultiLevelHashing.Baselines;
using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Experiments.Runner;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Experiments;

/// <summary>A named configuration of <see cref="PaperTables"/>: what is trained, over which seeds and code lengths.</summary>
/// <param name="Name">"full" or "smoke".</param>
/// <param name="Training">The DSCNN's training configuration; its <see cref="TrainingConfig.GlobalBits"/> is the global length of the multi-level rows.</param>
/// <param name="Seeds">Seeds of every trained or seeded method.</param>
/// <param name="CodeLengths">Code lengths of the global-code rows (DSCNN and the hashing baselines).</param>
/// <param name="Selection">The bit-selection study whose cross-validation chooses N, lambda and rho (notebook 06; cached).</param>
/// <param name="ResultCount">Results per query in the timed searches (top k).</param>
/// <param name="TimingRepeats">Timed repeats per search (the median is reported).</param>
public sealed record PaperTablesConfig(string Name, TrainingConfig Training, IReadOnlyList<int> Seeds, IReadOnlyList<int> CodeLengths,
    BitSelectionStudyConfig Selection, int ResultCount = 100, int TimingRepeats = 5)
{
    /// <summary>The region-level rows' coders, kernel and shortlists.</summary>
    public RegionStudyConfig Regions { get; init; } = RegionStudyConfig.Full;

    /// <summary>The reported tables: the Full preset at 224 px, 3 seeds, 16 to 128 bits, the full selection study.</summary>
    public static PaperTablesConfig Full
    {
        get
        {
            var training = RunPresets.TablesTraining(RunMode.Full);
            return new("full", training, RunPresets.Seeds(RunMode.Full), [16, 32, 64, 128], RunPresets.Selection(RunMode.Full));
        }
    }

    /// <summary>Seconds: the small CNN after one epoch, one seed, 16 and 64 bits, the smoke selection study.</summary>
    public static PaperTablesConfig Smoke
    {
        get
        {
            var training = RunPresets.TablesTraining(RunMode.Smoke);
            return new("smoke", training, RunPresets.Seeds(RunMode.Smoke), [16, 64], RunPresets.Selection(RunMode.Smoke), TimingRepeats: 3)
            {
                Regions = RegionStudyConfig.Smoke,
            };
        }
    }

    /// <summary>The configuration called <paramref name="name"/> (full or smoke).</summary>
    public static PaperTablesConfig Named(string name) => name.ToLowerInvariant() switch
    {
        "full" => Full,
        "smoke" => Smoke,
        _ => throw new ArgumentException($"unknown table configuration '{name}' (known: full, smoke)", nameof(name)),
    };
}

/// <summary>The methods of the tables, by name (lib/MultiLevelHashing/README.md section 2.11).</summary>
public static class PaperMethods
{
    /// <summary>Families: float descriptors, hashing baselines fitted without labels, the DSCNN's codes.</summary>
    public const string Float = "float descriptor", Unsupervised = "unsupervised hashing", Dscnn = "DSCNN";

#pragma warning disable CS1591 // the names document themselves
    public const string Gap = "GAP", GeM = "GeM", RMac = "R-MAC";
    public const string Lsh = "LSH", Pcah = "PCAH", Itq = "ITQ";
    public const string Global = "DSCNN global code";
    public const string LocalAll = "DSCNN local code, all bits";
    public const string LocalSelected = "DSCNN local code, selected bits";
    public const string Concatenated = "DSCNN global + local codes concatenated";
    public const string MultiLevelAll = "multi-level, all local bits";
    public const string MultiLevelDataset = "multi-level, dataset-level selection";
    public const string MultiLevelQuery = "multi-level, query-adaptive selection";
    public const string RegionPca = "region codes alone, PCA-sign";
    public const string RegionTrained = "region codes alone, trained on correspondences";
    public const string RegionLocalHead = "region codes alone, local head maps";
    public const string MultiLevelRegionPca = "multi-level, PCA-sign region codes";
    public const string MultiLevelRegionTrained = "multi-level, trained region codes";
    public const string MultiLevelRegionStrongest = "multi-level, strongest regions";
    public const string MultiLevelRegionStrongestExpanded = "multi-level, strongest regions + query expansion";
    public const string MultiLevelRegionRandom = "multi-level, random regions";
    public const string MultiLevelRegionVerified = "multi-level, region codes + spatial verification";
    public const string MultiLevelRegionExpanded = "multi-level, region codes + query expansion";
    public const string MultiLevelRegionInverted = "multi-level, region codes, global + inverted-file shortlist";
#pragma warning restore CS1591

    /// <summary>A multi-level region row at shortlist length <paramref name="candidates"/>.</summary>
    public static string Shortlisted(string method, int candidates) => $"{method}, N={candidates}";

    /// <summary>The rows of the code-length table, in order.</summary>
    public static readonly string[] CodeLengthRows = [Lsh, Pcah, Itq, Global];

    /// <summary>The rows of the multi-level ablation table, in order.</summary>
    public static readonly string[] AblationRows = [Global, LocalAll, LocalSelected, Concatenated, MultiLevelAll, MultiLevelDataset, MultiLevelQuery];

    /// <summary>
    /// The region-level rows, in order, for shortlists <paramref name="shortlists"/> (the compact, verified and expanded
    /// rows use the longest; the inverted-file row adds to the shortest).
    /// </summary>
    public static string[] RegionRows(IReadOnlyList<int> shortlists) =>
    [
        RegionPca, RegionTrained, RegionLocalHead,
        .. shortlists.SelectMany(n => new[] { Shortlisted(MultiLevelRegionPca, n), Shortlisted(MultiLevelRegionTrained, n) }),
        MultiLevelRegionInverted, MultiLevelRegionStrongest, MultiLevelRegionRandom, MultiLevelRegionVerified, MultiLevelRegionExpanded,
        MultiLevelRegionStrongestExpanded,
    ];

    /// <summary>The float references, in order.</summary>
    public static readonly string[] FloatRows = [Gap, GeM, RMac];
}

/// <summary>mAP and mP@10 (0-1) of one run under one protocol.</summary>
public sealed record ProtocolScore(EvaluationProtocol Protocol, double Map, double PrecisionAt10);

/// <summary>One method, one seed: scores under every protocol and the measured search cost.</summary>
/// <param name="Method">A <see cref="PaperMethods"/> name.</param>
/// <param name="Family">Its <see cref="PaperMethods"/> family.</param>
/// <param name="Bits">Bits stored per image (32 per float for float descriptors).</param>
/// <param name="BitsCompared">Bits compared per database image and query (stage 2 counts L bits for each of the N re-ranked images, spread over the database).</param>
/// <param name="Search">How the timed search runs.</param>
/// <param name="Setting">N, lambda and rho of a multi-level row; empty otherwise.</param>
/// <param name="Seed">Seed of the run (0 for deterministic methods).</param>
/// <param name="Scores">One per protocol.</param>
/// <param name="QueryMs">Milliseconds per query, exhaustive scan (stage 1 by scan for the multi-level rows).</param>
/// <param name="QueryMsMultiIndex">Milliseconds per query with multi-index hashing (stage 1 for the multi-level rows), or null where it does not apply.</param>
public sealed record MethodRun(string Method, string Family, int Bits, double BitsCompared, string Search, string Setting, int Seed,
    IReadOnlyList<ProtocolScore> Scores, double QueryMs, double? QueryMsMultiIndex);

/// <summary>One cell of the tables: a method at a code length under a protocol, over seeds.</summary>
/// <param name="Method">A <see cref="PaperMethods"/> name.</param>
/// <param name="Family">Its family.</param>
/// <param name="Bits">Bits stored per image.</param>
/// <param name="BitsCompared">Bits compared per database image and query.</param>
/// <param name="Dataset">Benchmark name.</param>
/// <param name="Protocol">Evaluation protocol.</param>
/// <param name="Mean">Mean mAP (0-1) over seeds.</param>
/// <param name="Spread">Sample standard deviation over seeds (0 for one seed).</param>
/// <param name="Seeds">The seeds.</param>
/// <param name="PerSeed">mAP of each seed.</param>
/// <param name="PrecisionAt10">Mean mP@10 (0-1).</param>
/// <param name="QueryMs">Mean milliseconds per query, scan.</param>
/// <param name="QueryMsMultiIndex">Mean milliseconds per query, multi-index hashing, or null.</param>
/// <param name="Search">How the timed search runs.</param>
/// <param name="Setting">N, lambda, rho of a multi-level row.</param>
public sealed record TableRow(string Method, string Family, int Bits, double BitsCompared, string Dataset, EvaluationProtocol Protocol,
    double Mean, double Spread, IReadOnlyList<int> Seeds, IReadOnlyList<double> PerSeed, double PrecisionAt10, double QueryMs,
    double? QueryMsMultiIndex, string Search, string Setting);

/// <summary>One of the aims of the paper's tables (lib/MultiLevelHashing/README.md section 2.11), checked on the measured rows.</summary>
/// <param name="Name">What is aimed at.</param>
/// <param name="Measured">The numbers it was decided on.</param>
/// <param name="Met">Whether the aim is reached.</param>
public sealed record AimCheck(string Name, string Measured, bool Met);

/// <summary>A mean interpolated precision-recall curve of one method (first seed, default protocol).</summary>
public sealed record PrecisionRecallSeries(string Method, int Bits, double[] Recall, double[] Precision);

/// <summary>The setting cross-validation chose for a multi-level row.</summary>
public sealed record ChosenSetting(SelectionMethod Method, MultiLevelSetting Setting, MeanSpread Validation);

/// <summary>Result of <see cref="PaperTables.Run"/>: every run, and the rows, aims and curves derived from them.</summary>
public sealed partial record PaperTablesResult(string Dataset, PaperTablesConfig Config, IReadOnlyList<MethodRun> Runs,
    IReadOnlyList<PrecisionRecallSeries> Curves, IReadOnlyList<ChosenSetting> Settings, double Seconds)
{
    /// <summary>Which region coder validation chose for the multi-level region rows; null in results from before region codes.</summary>
    public RegionCoderChoice? RegionChoice { get; init; }

    /// <summary>One row per (method, bits, protocol): mean and spread over seeds.</summary>
    [JsonIgnore]
    public IReadOnlyList<TableRow> Rows => [.. Runs.GroupBy(r => (r.Method, r.Bits)).SelectMany(g =>
        g.First().Scores.Select(s => s.Protocol).Select(protocol =>
        {
            var runs = g.OrderBy(r => r.Seed).ToList();
            var maps = runs.Select(r => r.Scores.Single(s => s.Protocol == protocol).Map).ToList();
            var spread = MeanSpread.Of(maps);
            var first = runs[0];
            double? mih = runs.All(r => r.QueryMsMultiIndex is not null) ? runs.Average(r => r.QueryMsMultiIndex!.Value) : null;
            return new TableRow(first.Method, first.Family, first.Bits, first.BitsCompared, Dataset, protocol, spread.Mean, spread.StdDev,
                [.. runs.Select(r => r.Seed)], maps, runs.Average(r => r.Scores.Single(s => s.Protocol == protocol).PrecisionAt10),
                runs.Average(r => r.QueryMs), mih, first.Search, first.Setting);
        }))];

    /// <summary>The protocols scored, in order.</summary>
    [JsonIgnore]
    public IReadOnlyList<EvaluationProtocol> Protocols => Runs.Count == 0 ? [] : [.. Runs[0].Scores.Select(s => s.Protocol)];

    /// <summary>The row of <paramref name="method"/> at <paramref name="bits"/> stored bits under <paramref name="protocol"/> (default: the first protocol).</summary>
    public TableRow Row(string method, int bits, EvaluationProtocol? protocol = null)
    {
        var p = protocol ?? Protocols[0];
        return Rows.Single(r => r.Method == method && r.Bits == bits && r.Protocol == p);
    }

    /// <summary>The row of a method that has one code length (floats, the 64-bit multi-level rows).</summary>
    public TableRow Row(string method, EvaluationProtocol? protocol = null)
    {
        var p = protocol ?? Protocols[0];
        return Rows.Single(r => r.Method == method && r.Protocol == p);
    }

    /// <summary>The aims of the tables, each checked on the first protocol (classic on mini-landmarks).</summary>
    [JsonIgnore]
    public IReadOnlyList<AimCheck> Aims
    {
        get
        {
            static string P(double v) => (100 * v).ToString("0.0", CultureInfo.InvariantCulture);
            int kg = Config.Training.GlobalBits;
            var global = Row(PaperMethods.Global, kg);
            var aims = new List<AimCheck>();
            var gap = Row(PaperMethods.Gap);
            // A region-only run (RunRegionRows, the second benchmark) has no selection rows or baselines: its aims are the region aims.
            if (!Rows.Any(r => r.Method == PaperMethods.MultiLevelQuery))
                return Rows.Any(r => r.Method == PaperMethods.RegionPca) ? [.. RegionAims(global, gap).Select(a => a with { Name = $"{a.Name}, {Dataset}" })] : aims;
            foreach (string method in new[] { PaperMethods.MultiLevelQuery, PaperMethods.MultiLevelDataset })
            {
                var row = Row(method);
                double margin = row.Mean - global.Mean, spread = Math.Max(row.Spread, global.Spread);
                // One seed has no spread to beat: the aim is then undecided, and reported as missed.
                bool decided = row.Seeds.Count > 1 && global.Seeds.Count > 1;
                aims.Add(new AimCheck($"{method} above the {kg}-bit global code alone by more than the seed spread",
                    $"{P(row.Mean)} ± {P(row.Spread)} against {P(global.Mean)} ± {P(global.Spread)}: {(margin >= 0 ? "+" : "")}{P(margin)} points, spread {P(spread)}" +
                    (decided ? "" : " (one seed: undecided)"),
                    decided && margin > spread));
            }
            var best = new[] { PaperMethods.MultiLevelQuery, PaperMethods.MultiLevelDataset }.Select(m => Row(m)).MaxBy(r => r.Mean)!;
            double share = best.Mean / gap.Mean;
            aims.Add(new AimCheck($"at least 90% of float GAP's mAP with the {kg}-bit global code plus the selected local bits",
                $"{best.Method}: {P(best.Mean)} against GAP {P(gap.Mean)}: {P(share)}% (global code alone: {P(global.Mean / gap.Mean)}%)", share >= 0.9));
            foreach (int bits in Config.CodeLengths)
            {
                var trained = Row(PaperMethods.Global, bits);
                var strongest = new[] { PaperMethods.Lsh, PaperMethods.Pcah, PaperMethods.Itq }.Select(m => Row(m, bits)).MaxBy(r => r.Mean)!;
                aims.Add(new AimCheck($"trained {bits}-bit global code above every unsupervised baseline at {bits} bits",
                    $"{P(trained.Mean)} ± {P(trained.Spread)} against {strongest.Method} {P(strongest.Mean)} ± {P(strongest.Spread)}",
                    trained.Mean > strongest.Mean));
            }
            if (Rows.Any(r => r.Method == PaperMethods.RegionPca)) aims.AddRange(RegionAims(global, gap));
            return aims;
        }
    }
}

public sealed partial record PaperTablesResult
{
    /// <summary>The aims of the region-level rows (lib/MultiLevelHashing/README.md section 2.11), on the first protocol and the hard one.</summary>
    private IEnumerable<AimCheck> RegionAims(TableRow global, TableRow gap)
    {
        static string P(double v) => (100 * v).ToString("0.0", CultureInfo.InvariantCulture);
        var hard = Protocols.Contains(EvaluationProtocol.Hard) ? EvaluationProtocol.Hard : Protocols[0];
        var multiLevel = Rows.Where(r => r.Protocol == Protocols[0] && r.Method.StartsWith("multi-level, ", StringComparison.Ordinal) &&
                                         r.Method.Contains("region", StringComparison.Ordinal)).ToList();
        var best = multiLevel.MaxBy(r => r.Mean)!;
        var bestHard = Row(best.Method, hard);
        var gapHard = Row(PaperMethods.Gap, hard);
        yield return new AimCheck("multi-level search with region codes reaches float GAP (first protocol and hard)",
            $"{best.Method}: {P(best.Mean)} ± {P(best.Spread)} / hard {P(bestHard.Mean)} ± {P(bestHard.Spread)} against GAP {P(gap.Mean)} / {P(gapHard.Mean)}; " +
            $"global code alone {P(global.Mean)}", best.Mean >= gap.Mean && bestHard.Mean >= gapHard.Mean);

        var trained = Row(PaperMethods.RegionTrained);
        var pca = Row(PaperMethods.RegionPca);
        double margin = trained.Mean - pca.Mean;
        yield return new AimCheck("trained region codes above the PCA-sign region codes of the same size by more than the seed spread",
            $"{P(trained.Mean)} ± {P(trained.Spread)} against {P(pca.Mean)}: {(margin >= 0 ? "+" : "")}{P(margin)} points" +
            (RegionChoice is { } c ? $"; validation fold: trained {P(c.TrainedMap)}, PCA-sign {P(c.PcaMap)}, kept {c.Kept}" : ""),
            trained.Seeds.Count > 1 && margin > trained.Spread);

        var strongest = Row(PaperMethods.MultiLevelRegionStrongest);
        var random = Row(PaperMethods.MultiLevelRegionRandom);
        // The compact rows store the same strongest regions; expansion changes only how they are searched.
        var compact = new[] { PaperMethods.MultiLevelRegionStrongest, PaperMethods.MultiLevelRegionStrongestExpanded }
            .Where(m => Rows.Any(r => r.Method == m)).Select(m => Row(m)).MaxBy(r => r.Mean)!;
        var top = Rows.Where(r => r.Protocol == Protocols[0]).MaxBy(r => r.Mean)!;
        // A stored region is its code (B/8 bytes) and its grid cell (1 byte, RegionCodes.BytesPerImage); the aim counts the codes.
        double storedBytes = (compact.Bits - global.Bits) / 8.0;
        double codeBytes = storedBytes * (Config.Regions.Bits / 8.0) / (Config.Regions.Bits / 8.0 + 1);
        yield return new AimCheck("a compact operating point: at most 512 bytes of region codes per image within 3 points of the best row",
            $"{compact.Method} ({codeBytes:0} bytes of region codes, {storedBytes:0} with their cells): {P(compact.Mean)} ± {P(compact.Spread)} against {top.Method} {P(top.Mean)}",
            top.Mean - compact.Mean <= 0.03 && codeBytes <= 512);
        double gain = strongest.Mean - random.Mean;
        yield return new AimCheck("selected (strongest) regions above random regions of the same budget by more than the seed spread",
            $"{P(strongest.Mean)} ± {P(strongest.Spread)} against {P(random.Mean)} ± {P(random.Spread)}: {(gain >= 0 ? "+" : "")}{P(gain)} points",
            strongest.Seeds.Count > 1 && gain > Math.Max(strongest.Spread, random.Spread));
    }
}

/// <summary>
/// The paper's tables on a benchmark (lib/MultiLevelHashing/README.md section 2.11): float references (GAP, GeM,
/// R-MAC with cosine), unsupervised hashing baselines at equal bits (LSH, PCAH, ITQ on GAP of the same backbone, fitted
/// on the training views only), and the DSCNN's ablations (global code at every length; at the preset's length the
/// local code with all and with selected bits, both codes concatenated, and the multi-level search with all bits,
/// dataset-level and query-adaptive selection at the settings cross-validation chose over the training landmarks).
/// Every row is scored under every protocol of the ground truth with mAP and mP@10, and its search is timed on the
/// real engine (scan and multi-index hashing; stage 2 re-ranks the top N). Trained models and the selection study come
/// from the caches of <see cref="Runner"/>, so the tables share their trainings with notebooks 05 and 06.
/// </summary>
public static class PaperTables
{
    private static readonly EvaluationProtocol[] Reported = [EvaluationProtocol.Classic, EvaluationProtocol.Medium, EvaluationProtocol.Hard];

    /// <summary>Runs (or loads from <paramref name="cache"/>, keyed by configuration, images and code version) the tables on <paramref name="dataset"/>.</summary>
    public static PaperTablesResult Run(LandmarkDataset dataset, PaperTablesConfig config, TrainingRunOptions? options = null,
        IProgress<ProgressReport>? progress = null, ResultCache? cache = null)
    {
        if (!config.CodeLengths.Contains(config.Training.GlobalBits))
            throw new ArgumentException($"the code lengths must include the preset's {config.Training.GlobalBits} bits, the global length of the multi-level rows");
        cache ??= ResultCache.Default();
        string key = ExperimentKey.Of(JsonSerializer.Serialize(config, ResultCache.JsonOptions), TrainedModels.Key(dataset, config.Training));
        return cache.GetOrCompute("paper-tables", key, () => Compute(dataset, config, (options ?? new TrainingRunOptions()).WithDefaultCaches(), progress, cache));
    }

    /// <summary>
    /// The region-level rows on a second benchmark (lib/MultiLevelHashing/README.md section 2.11; mini-landmarks/large in
    /// full mode): GAP, the global code at the preset's length and every region row of table 9c, over the same seeds,
    /// with the DSCNN trained on that benchmark's own training split. No hashing baselines and no bit-selection study, so
    /// its aims are the region aims alone. Cached like <see cref="Run"/>.
    /// </summary>
    public static PaperTablesResult RunRegionRows(LandmarkDataset dataset, PaperTablesConfig config, TrainingRunOptions? options = null,
        IProgress<ProgressReport>? progress = null, ResultCache? cache = null)
    {
        cache ??= ResultCache.Default();
        string key = ExperimentKey.Of(JsonSerializer.Serialize(config, ResultCache.JsonOptions), TrainedModels.Key(dataset, config.Training));
        return cache.GetOrCompute("paper-tables-regions", key, () => ComputeRegionRows(dataset, config, (options ?? new TrainingRunOptions()).WithDefaultCaches(), progress));
    }

    private static PaperTablesResult ComputeRegionRows(LandmarkDataset dataset, PaperTablesConfig config, TrainingRunOptions options, IProgress<ProgressReport>? progress)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var scorer = new Scorer(dataset, ReportedProtocols(dataset), config);
        int total = 1 + config.Seeds.Count, done = 0;
        using var descriptors = BackboneDescriptors.Compute(dataset, config.Training.ImageSize, options.FeatureCacheDirectory, progress: progress, withTraining: true);
        scorer.Floats(descriptors, [(FeaturePooling.Gap, PaperMethods.Gap)]);
        using var regions = RegionStudy.Build(dataset, descriptors, config.Regions, config.Training.ImageSize, options.FeatureCacheDirectory, progress);
        scorer.RegionsAlone(regions);
        progress.Report("region rows", ++done, total, "steps", "region coders");
        foreach (int seed in config.Seeds)
        {
            var training = config.Training with { Seed = seed };
            using (var trained = TrainedModels.GetOrTrain(dataset, training, options, progress))
            using (var bench = EncodedDataset.Build(trained.Model, training, dataset, training.ImageSize, options.FeatureCacheDirectory, progress))
            {
                scorer.Hamming(PaperMethods.Global, PaperMethods.Dscnn, bench.DatabaseGlobal, bench.QueryGlobal, seed);
                scorer.Regions(regions, trained.Model, bench, seed, progress);
            }
            progress.Report("region rows", ++done, total, "steps", $"seed {seed}");
        }
        return new PaperTablesResult(dataset.Name, config, scorer.Runs, scorer.Curves, [], clock.Elapsed.TotalSeconds) { RegionChoice = regions.Choice };
    }

    private static EvaluationProtocol[] ReportedProtocols(LandmarkDataset dataset)
    {
        var protocols = Reported.Where(dataset.GroundTruth.Protocols.Contains).ToArray();
        return protocols.Length == 0 ? [dataset.GroundTruth.DefaultProtocol] : protocols;
    }

    private static PaperTablesResult Compute(LandmarkDataset dataset, PaperTablesConfig config, TrainingRunOptions options,
        IProgress<ProgressReport>? progress, ResultCache cache)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var scorer = new Scorer(dataset, ReportedProtocols(dataset), config);
        var study = BitSelectionStudy.Run(dataset, config.Selection, options, progress, cache);
        var settings = new[] { SelectionMethod.All, SelectionMethod.DatasetLevel, SelectionMethod.QueryAdaptive }
            .Select(m => new ChosenSetting(m, study[m].Chosen, study[m].Validation)).ToList();

        int total = 2 + config.Seeds.Count * config.CodeLengths.Count, done = 0;
        using var descriptors = BackboneDescriptors.Compute(dataset, config.Training.ImageSize, options.FeatureCacheDirectory, progress: progress, withTraining: true);
        scorer.Baselines(descriptors);
        progress.Report("paper tables", ++done, total, "steps", "baselines");
        using var regions = RegionStudy.Build(dataset, descriptors, config.Regions, config.Training.ImageSize, options.FeatureCacheDirectory, progress);
        scorer.RegionsAlone(regions);
        progress.Report("paper tables", ++done, total, "steps", "region coders");
        foreach (int seed in config.Seeds)
            foreach (int bits in config.CodeLengths)
            {
                var training = config.Training with { GlobalBits = bits, Seed = seed };
                using (var trained = TrainedModels.GetOrTrain(dataset, training, options, progress))
                using (var bench = EncodedDataset.Build(trained.Model, training, dataset, training.ImageSize, options.FeatureCacheDirectory, progress))
                {
                    scorer.Hamming(PaperMethods.Global, PaperMethods.Dscnn, bench.DatabaseGlobal, bench.QueryGlobal, seed);
                    if (bits == config.Training.GlobalBits)
                    {
                        scorer.Ablations(bench, settings, seed);
                        scorer.Regions(regions, trained.Model, bench, seed, progress);
                    }
                }
                progress.Report("paper tables", ++done, total, "steps", $"seed {seed}, {bits} bits");
            }
        return new PaperTablesResult(dataset.Name, config, scorer.Runs, scorer.Curves, settings, clock.Elapsed.TotalSeconds)
        {
            RegionChoice = regions.Choice,
        };
    }

    /// <summary>Scores and times rankings, and keeps the curves of the main methods for the first seed.</summary>
    private sealed class Scorer(LandmarkDataset dataset, EvaluationProtocol[] protocols, PaperTablesConfig config)
    {
        public List<MethodRun> Runs { get; } = [];
        public List<PrecisionRecallSeries> Curves { get; } = [];

        private bool Curved(string method, int bits, int seed) => seed == config.Seeds[0] && method switch
        {
            PaperMethods.Gap or PaperMethods.MultiLevelAll or PaperMethods.MultiLevelQuery or PaperMethods.LocalAll or PaperMethods.RegionPca => true,
            PaperMethods.Itq or PaperMethods.Global => bits == config.Training.GlobalBits,
            _ => false,
        };

        private void Add(string method, string family, int bits, double compared, string search, string setting, int seed,
            IReadOnlyList<IReadOnlyList<int>> rankings, double queryMs, double? multiIndexMs)
        {
            var truth = dataset.GroundTruth;
            var scores = protocols.Select(p =>
            {
                var result = MeanAveragePrecision.Evaluate(truth, rankings, p);
                return new ProtocolScore(p, result.MeanAveragePrecision, result.MeanPrecisionAtK[Array.IndexOf(result.Ks, 10)]);
            }).ToList();
            Runs.Add(new MethodRun(method, family, bits, compared, search, setting, seed, scores, queryMs, multiIndexMs));
            if (Curved(method, bits, seed))
            {
                var curve = PrecisionRecallCurve.Mean(truth, rankings, protocols[0]);
                Curves.Add(new PrecisionRecallSeries(method, bits, [.. curve.Select(c => c.Recall)], [.. curve.Select(c => c.Precision)]));
            }
        }

        private double Time(Action search, int queries) => QueryTiming.MillisecondsPerQuery(search, queries, config.TimingRepeats);

        /// <summary>Ranks by Hamming distance; times the top-k search by scan and by multi-index hashing.</summary>
        public void Hamming(string method, string family, PackedCodes database, PackedCodes queries, int seed, int? bitsStored = null)
        {
            int k = Math.Min(config.ResultCount, database.Count);
            var scan = new HammingIndex(database, SearchMethod.Scan);
            var mih = new HammingIndex(database, SearchMethod.Mih);
            mih.Build();
            Add(method, family, bitsStored ?? database.Bits, database.Bits, $"mAP over the full Hamming ranking; timed: Hamming top-{k}", "", seed, RetrievalScoring.HammingRankings(database, queries),
                Time(() => scan.Search(queries, k), queries.Count), Time(() => mih.Search(queries, k), queries.Count));
        }

        /// <summary>Float descriptors with cosine similarity, one row each (deterministic: one run).</summary>
        public void Floats(BackboneDescriptors descriptors, IEnumerable<(FeaturePooling Pooling, string Name)> poolings)
        {
            foreach (var (pooling, name) in poolings)
            {
                var (d, q, dim) = descriptors.Descriptors(pooling);
                int queries = q.Length / dim;
                Add(name, PaperMethods.Float, 32 * dim, 32 * dim, "exhaustive cosine, full sort", "", 0, RetrievalScoring.CosineRankings(d, q, dim),
                    Time(() => RetrievalScoring.CosineRankings(d, q, dim), queries), null);
            }
        }

        /// <summary>The float references and the hashing baselines (fitted on the training views' GAP) at every length and seed.</summary>
        public void Baselines(BackboneDescriptors descriptors)
        {
            Floats(descriptors, [(FeaturePooling.Gap, PaperMethods.Gap), (FeaturePooling.GeM, PaperMethods.GeM), (FeaturePooling.RMac, PaperMethods.RMac)]);
            var (database, query, dimension) = descriptors.Descriptors(FeaturePooling.Gap);
            var fit = descriptors.TrainingDescriptors(FeaturePooling.Gap);
            foreach (int bits in config.CodeLengths)
            {
                var pca = QuantizationHashing.Pca(bits, dimension, fit);
                Encoded(PaperMethods.Pcah, pca.Encode(database), pca.Encode(query), 0);
                foreach (int seed in config.Seeds)
                {
                    var lsh = LshHashing.Create(bits, dimension, seed, fit);
                    Encoded(PaperMethods.Lsh, lsh.Encode(database), lsh.Encode(query), seed);
                    var itq = QuantizationHashing.Itq(bits, dimension, fit, seed);
                    Encoded(PaperMethods.Itq, itq.Encode(database), itq.Encode(query), seed);
                }
            }
        }

        private void Encoded(string method, PackedCodes database, PackedCodes queries, int seed)
        {
            using (database)
            using (queries)
                Hamming(method, PaperMethods.Unsupervised, database, queries, seed);
        }

        /// <summary>The rows of one model at the preset's length: each level alone, concatenated, and the multi-level search.</summary>
        public void Ablations(EncodedDataset bench, IReadOnlyList<ChosenSetting> settings, int seed)
        {
            int kg = bench.DatabaseGlobal.Bits, kl = bench.LocalBits, n = bench.DatabaseGlobal.Count, queries = bench.QueryGlobal.Count;
            Hamming(PaperMethods.LocalAll, PaperMethods.Dscnn, bench.DatabaseLocal, bench.QueryLocal, seed);

            var query = settings.Single(s => s.Method == SelectionMethod.QueryAdaptive).Setting;
            var queryMasks = bench.Masks(SelectionMethod.QueryAdaptive, query.Rho);
            Add(PaperMethods.LocalSelected, PaperMethods.Dscnn, kl, queryMasks.Average(m => m.Count), "masked Hamming, full sort", $"rho={Number(query.Rho)}", seed,
                RetrievalScoring.MaskedHammingRankings(bench.DatabaseLocal, bench.QueryLocal, queryMasks),
                Time(() => RetrievalScoring.MaskedHammingRankings(bench.DatabaseLocal, bench.QueryLocal, queryMasks), queries), null);

            using (var database = PackedCodes.Concatenate(bench.DatabaseGlobal, bench.DatabaseLocal))
            using (var concatenated = PackedCodes.Concatenate(bench.QueryGlobal, bench.QueryLocal))
                Hamming(PaperMethods.Concatenated, PaperMethods.Dscnn, database, concatenated, seed);

            // One engine per stage-1 method for all three rows, so the multi-index tables are built once.
            var scan = new MultiLevelSearch(bench.DatabaseGlobal, bench.DatabaseLocal, SearchMethod.Scan);
            var mih = new MultiLevelSearch(bench.DatabaseGlobal, bench.DatabaseLocal, SearchMethod.Mih);
            foreach (var (method, name) in new[] { (SelectionMethod.All, PaperMethods.MultiLevelAll), (SelectionMethod.DatasetLevel, PaperMethods.MultiLevelDataset),
                         (SelectionMethod.QueryAdaptive, PaperMethods.MultiLevelQuery) })
            {
                var setting = settings.Single(s => s.Method == method).Setting;
                var masks = bench.Masks(method, setting.Rho, seed);
                double selected = masks.Average(m => m.Count);
                int reranked = Math.Min(setting.Candidates, n);
                int k = Math.Max(reranked, Math.Min(config.ResultCount, n));
                var options = (SearchMethod stage1) => new MultiLevelOptions { Setting = setting, ResultCount = k, Stage1 = stage1 };
                string described = method == SelectionMethod.All ? $"N={setting.Candidates}, lambda={Number(setting.Lambda)}" : setting.ToString();
                Add(name, PaperMethods.Dscnn, kg + kl, kg + reranked * selected / n, $"Hamming top-{reranked} on the global code, re-rank by {selected:0} local bits", described, seed,
                    [.. bench.Rank(masks, setting).Select(r => (IReadOnlyList<int>)r.Ids)],
                    Time(() => scan.Search(bench.QueryGlobal, bench.QueryLocal, masks, options(SearchMethod.Scan)), queries),
                    Time(() => mih.Search(bench.QueryGlobal, bench.QueryLocal, masks, options(SearchMethod.Mih)), queries));
            }
        }

        /// <summary>Bits stored per image for region codes: B bits and one byte of grid cell per region.</summary>
        private static int RegionBits(RegionCodes codes) => (int)Math.Round(codes.MeanRegions * (codes.Bits + 8));

        /// <summary>Region codes alone, every query against the whole database with the selective kernel.</summary>
        private void RegionAlone(string method, RegionCodes database, RegionCodes queries, SelectiveKernel kernel, int seed, string? what = null)
        {
            var matcher = new RegionMatcher(database, kernel);
            double compared = queries.MeanRegions * database.MeanRegions * database.Bits;
            Add(method, PaperMethods.Dscnn, RegionBits(database), compared, "selective kernel over all region pairs, full sort", (what is null ? "" : what + ", ") + kernel, seed,
                [.. matcher.RankAll(queries).Select(r => (IReadOnlyList<int>)r)], Time(() => matcher.RankAll(queries), queries.Count), null);
        }

        /// <summary>The PCA-sign region codes alone (deterministic: one run).</summary>
        public void RegionsAlone(RegionStudy study)
        {
            var (database, queries) = study.PcaCodes;
            RegionAlone(PaperMethods.RegionPca, database, queries, study.Config.Kernel, 0);
        }

        /// <summary>
        /// One seed's region rows: the trained and the local-head region codes alone, the multi-level search with the
        /// PCA-sign and the trained region codes at every shortlist length, and the compact rows (the strongest regions
        /// against as many random ones) with the coder validation chose at the longest shortlist.
        /// </summary>
        public void Regions(RegionStudy study, DscnnModel model, EncodedDataset bench, int seed, IProgress<ProgressReport>? progress)
        {
            var kernel = study.Config.Kernel;
            using var trainedHead = study.Trained(seed, progress);
            var trained = study.Encode(trainedHead);
            string how = study.Config.Training.Describe();
            RegionAlone(PaperMethods.RegionTrained, trained.Database, trained.Queries, kernel, seed, how);
            // The local head's maps are only comparable when the model sees the maps the region coders see.
            if (config.Training.Backbone == Model.Backbones.BackboneKind.ResNet18 && config.Training.Freeze == FreezePolicy.HeadsOnly)
            {
                var local = study.LocalHead(model);
                RegionAlone(PaperMethods.RegionLocalHead, local.Database, local.Queries, kernel, seed);
            }
            var pca = study.PcaCodes;
            var global = bench.DatabaseGlobal;
            var truth = dataset.GroundTruth;
            var stage1 = RetrievalScoring.HammingRankings(global, bench.QueryGlobal);
            foreach (int n in study.Config.Shortlists)
            {
                double recall = ShortlistRecall.Mean(truth, stage1, n, protocols[0]);
                MultiLevel(PaperMethods.Shortlisted(PaperMethods.MultiLevelRegionPca, n), pca.Database, pca.Queries, bench, n, recall, seed);
                MultiLevel(PaperMethods.Shortlisted(PaperMethods.MultiLevelRegionTrained, n), trained.Database, trained.Queries, bench, n, recall, seed, how);
            }
            var chosen = study.Choice.Kept == "trained" ? trained : pca;
            InvertedFileShortlist(study, chosen.Database, chosen.Queries, bench, seed);
            int longest = study.Config.Shortlists.Max(), t = study.Config.CompactRegions;
            double longestRecall = ShortlistRecall.Mean(truth, stage1, longest, protocols[0]);
            var (strongestDatabase, strongestQueries) = (chosen.Database.Strongest(t), chosen.Queries.Strongest(t));
            MultiLevel(PaperMethods.MultiLevelRegionStrongest, strongestDatabase, strongestQueries, bench, longest, longestRecall, seed,
                $"{t} strongest regions, {study.Choice.Kept}");
            MultiLevel(PaperMethods.MultiLevelRegionRandom, chosen.Database.Random(t, seed), chosen.Queries.Random(t, seed + 1), bench, longest, longestRecall, seed,
                $"{t} random regions, {study.Choice.Kept}");
            FieldReranking(study, chosen.Database, chosen.Queries, bench, longest, seed);
            Expanded(PaperMethods.MultiLevelRegionStrongestExpanded, study, RegionSearch.Create(bench.DatabaseGlobal, strongestDatabase, study.Config.Kernel),
                strongestDatabase, strongestQueries, bench, longest, seed,
                $"{t} strongest regions, ");
        }

        /// <summary>
        /// The field's re-ranking on top of the multi-level search at shortlist <paramref name="candidates"/> with the
        /// kept coder: spatial verification of the head, and average query expansion in Hamming space, each its own row.
        /// </summary>
        private void FieldReranking(RegionStudy study, RegionCodes database, RegionCodes queries, EncodedDataset bench, int candidates, int seed)
        {
            var c = study.Config;
            var search = RegionSearch.Create(bench.DatabaseGlobal, database, c.Kernel);
            int n = bench.DatabaseGlobal.Count, reranked = Math.Min(candidates, n), kg = bench.DatabaseGlobal.Bits, depth = Math.Min(c.VerificationDepth, reranked);
            double pairs = queries.MeanRegions * database.MeanRegions * database.Bits / n;
            var v = c.Verifier;
            RegionRanking[] Verified(int length) => search.Verify(search.Search(bench.QueryGlobal, queries, candidates, length), queries, v, depth);
            Add(PaperMethods.MultiLevelRegionVerified, PaperMethods.Dscnn, kg + RegionBits(database), kg + reranked * pairs,
                $"Hamming top-{reranked} on the global code, re-rank by region codes, verify the top {depth}",
                FormattableString.Invariant($"{study.Choice.Kept}, N={candidates}, top {depth} by the region score of matches one {(v.Model == GridTransformModel.AxisAligned ? "axis-aligned" : "similarity")} placement explains, tolerance {v.Tolerance:0.##} cells, scales {v.MinScale:0.###}-{v.MaxScale:0.##}"),
                seed, [.. Verified(0).Select(r => (IReadOnlyList<int>)r.Ids)], Time(() => Verified(config.ResultCount), queries.Count), null);
            Expanded(PaperMethods.MultiLevelRegionExpanded, study, search, database, queries, bench, candidates, seed, "");
        }

        /// <summary>
        /// Average query expansion in Hamming space on top of the multi-level search at shortlist <paramref name="candidates"/>:
        /// the query and its top <see cref="RegionStudyConfig.Expansion"/> results searched again, region scores averaged.
        /// <paramref name="search"/> runs over <paramref name="database"/>'s region codes (the caller's, so none is built twice).
        /// </summary>
        private void Expanded(string method, RegionStudy study, RegionSearch search, RegionCodes database, RegionCodes queries, EncodedDataset bench,
            int candidates, int seed, string what)
        {
            int k = study.Config.Expansion, n = bench.DatabaseGlobal.Count, reranked = Math.Min(candidates, n), kg = bench.DatabaseGlobal.Bits;
            double pairs = queries.MeanRegions * database.MeanRegions * database.Bits / n;
            Add(method, PaperMethods.Dscnn, kg + RegionBits(database), 2 * kg + reranked * (k + 2) * pairs,
                $"multi-level at N={reranked}, then again with the majority code of the query and its top {k}, region scores averaged over them",
                FormattableString.Invariant($"{what}{study.Choice.Kept}, N={candidates}, top {k} expanded"),
                seed, [.. search.SearchExpanded(bench.QueryGlobal, queries, candidates, k).Select(r => (IReadOnlyList<int>)r.Ids)],
                Time(() => search.SearchExpanded(bench.QueryGlobal, queries, candidates, k, config.ResultCount), queries.Count), null);
        }

        /// <summary>
        /// The multi-level search at the shortest shortlist N with the region-level inverted file as a second stage-1
        /// source (<see cref="RegionInvertedFile"/>, vocabulary fitted on the database's region codes with no labels): the
        /// global code's top N and the inverted file's top <see cref="RegionStudyConfig.InvertedCandidates"/> re-ranked
        /// together, so that the row shows whether the shortlist, not the region codes, is what limits the short N row.
        /// </summary>
        private void InvertedFileShortlist(RegionStudy study, RegionCodes database, RegionCodes queries, EncodedDataset bench, int seed)
        {
            var c = study.Config;
            int shortest = c.Shortlists.Min(), m = c.InvertedCandidates;
            var vocabulary = RegionVocabulary.Fit(database, RegionVocabulary.DefaultSize(database.TotalRegions), seed: seed);
            var search = RegionSearch.Create(bench.DatabaseGlobal, database, c.Kernel, vocabulary);
            var rankings = search.Search(bench.QueryGlobal, queries, shortest, 0, 0, m, c.Probes);
            double recall = ShortlistRecall.Mean(dataset.GroundTruth, [.. rankings.Select(r => (IReadOnlyList<int>)r.Ids[..r.Reranked])], int.MaxValue, protocols[0]);
            double reranked = rankings.Average(r => r.Reranked);
            int n = bench.DatabaseGlobal.Count, kg = bench.DatabaseGlobal.Bits;
            double pairs = queries.MeanRegions * database.MeanRegions * database.Bits / n;
            // Stage 1 compares the global codes and, in the inverted file, each query region with the regions of the words it probes.
            double probedShare = Math.Min(1.0, c.Probes / (double)vocabulary.Count);
            Add(PaperMethods.MultiLevelRegionInverted, PaperMethods.Dscnn, kg + RegionBits(database), kg + n * probedShare * pairs + reranked * pairs,
                $"Hamming top-{Math.Min(shortest, n)} on the global code and the inverted file's top {m}, together re-ranked by region codes",
                FormattableString.Invariant($"{study.Choice.Kept}, N={shortest} + {m} ({reranked:0} re-ranked on average), {vocabulary.Count} words, {c.Probes} probes, stage-1 recall {recall:0.00}, {c.Kernel}"),
                seed, [.. rankings.Select(r => (IReadOnlyList<int>)r.Ids)],
                Time(() => search.Search(bench.QueryGlobal, queries, shortest, config.ResultCount, 0, m, c.Probes), queries.Count), null);
        }

        private void MultiLevel(string method, RegionCodes database, RegionCodes queries, EncodedDataset bench, int candidates, double recall, int seed,
            string? what = null)
        {
            var kernel = config.Regions.Kernel;
            var matcher = new RegionMatcher(database, kernel);
            var scan = new RegionSearch(bench.DatabaseGlobal, matcher);
            var mih = new RegionSearch(bench.DatabaseGlobal, matcher, SearchMethod.Mih);
            int n = bench.DatabaseGlobal.Count, reranked = Math.Min(candidates, n), kg = bench.DatabaseGlobal.Bits;
            double compared = kg + reranked * queries.MeanRegions * database.MeanRegions * database.Bits / n;
            string setting = (what is null ? "" : what + ", ") + FormattableString.Invariant($"N={candidates}, stage-1 recall {recall:0.00}, {kernel}");
            Add(method, PaperMethods.Dscnn, kg + RegionBits(database), compared, $"Hamming top-{reranked} on the global code, re-rank by region codes", setting, seed,
                [.. scan.Search(bench.QueryGlobal, queries, candidates).Select(r => (IReadOnlyList<int>)r.Ids)],
                Time(() => scan.Search(bench.QueryGlobal, queries, candidates, config.ResultCount), queries.Count),
                Time(() => mih.Search(bench.QueryGlobal, queries, candidates, config.ResultCount), queries.Count));
        }

        private static string Number(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
    }
}
