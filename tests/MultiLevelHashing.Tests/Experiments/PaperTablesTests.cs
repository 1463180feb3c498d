using MultiLevelHashing.Attention;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Experiments.Runner;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Experiments;

/// <summary>One tiny run of the tables on the smoke benchmark, shared by the tests below.</summary>
public sealed class TinyTablesFixture : IDisposable
{
    public static readonly TrainingConfig Tiny = TrainingConfig.Smoke with
    {
        ImageSize = 32, SmallCnnChannels = 16, GlobalBits = 16, LocalBits = 16, Epochs = 1, PairsPerEpoch = 32, BatchPairs = 16,
    };

    public SmokeBenchmarkFixture Benchmark { get; } = new();
    public string Models { get; } = TestPaths.NewTempDirectory("models");
    public ResultCache Cache { get; } = new(TestPaths.NewTempDirectory("result-cache"));
    public PaperTablesConfig Config { get; } = new("tiny", Tiny, [0, 1], [8, 16],
        new BitSelectionStudyConfig(Tiny, [0], 2, [0.5], [10], [1], 1), TimingRepeats: 1) { Regions = RegionStudyConfig.Smoke };
    public TrainingRunOptions Options => new() { ModelCacheDirectory = Models };
    public PaperTablesResult Result { get; }

    public TinyTablesFixture() => Result = PaperTables.Run(Benchmark.Dataset, Config, Options, cache: Cache);

    public void Dispose()
    {
        Benchmark.Dispose();
        Directory.Delete(Models, true);
        Directory.Delete(Cache.Directory!, true);
    }
}

public class PaperTablesTests(TinyTablesFixture fixture) : IClassFixture<TinyTablesFixture>
{
    private PaperTablesResult Result => fixture.Result;

    [Fact]
    public void HasEveryMethodAtEveryLengthUnderEveryProtocol()
    {
        var protocols = new[] { EvaluationProtocol.Classic, EvaluationProtocol.Medium, EvaluationProtocol.Hard };
        Assert.Equal(protocols, Result.Protocols);
        foreach (var protocol in protocols)
        {
            foreach (string method in PaperMethods.CodeLengthRows)
                foreach (int bits in fixture.Config.CodeLengths)
                {
                    var row = Result.Row(method, bits, protocol);
                    Assert.InRange(row.Mean, 0, 1);
                    Assert.Equal(method == PaperMethods.Pcah ? [0] : [0, 1], row.Seeds);
                    Assert.Equal(bits, row.BitsCompared);
                    Assert.True(row.QueryMs > 0 && row.QueryMsMultiIndex > 0);
                }
            foreach (string method in PaperMethods.FloatRows.Concat(PaperMethods.AblationRows.Skip(1)))
                Assert.InRange(Result.Row(method, protocol).Mean, 0, 1);
        }
        // The local head's region row needs a model on the region coders' maps (ResNet18, heads only); the tiny CNN is not.
        int regionRows = PaperMethods.RegionRows(fixture.Config.Regions.Shortlists).Length - 1;
        Assert.DoesNotContain(Result.Rows, r => r.Method == PaperMethods.RegionLocalHead);
        Assert.Equal((PaperMethods.FloatRows.Length + PaperMethods.CodeLengthRows.Length * 2 + PaperMethods.AblationRows.Length - 1 + regionRows) * protocols.Length,
            Result.Rows.Count);
    }

    [Fact]
    public void MultiLevelRowsUseTheSettingsOfTheSelectionStudyAndCountTheirBits()
    {
        var study = BitSelectionStudy.Run(fixture.Benchmark.Dataset, fixture.Config.Selection, fixture.Options, cache: fixture.Cache);
        var chosen = study[SelectionMethod.QueryAdaptive].Chosen;
        var row = Result.Row(PaperMethods.MultiLevelQuery);
        Assert.Equal(chosen.ToString(), row.Setting);
        // The study's test run trains the same configuration and seed 0, so its test mAP is the table's seed-0 value.
        Assert.Equal(study[SelectionMethod.QueryAdaptive].Test[0], row.PerSeed[0], 12);
        int n = fixture.Benchmark.Dataset.Database.Count, l = BitSelection.SelectedCount(16, chosen.Rho);
        Assert.Equal(16 + Math.Min(chosen.Candidates, n) * l / (double)n, row.BitsCompared, 9);
        Assert.Equal(32, row.Bits);
        Assert.Equal(l, Result.Row(PaperMethods.LocalSelected).BitsCompared);
    }

    [Fact]
    public void ConcatenatedAndGlobalRowsMatchBruteForceRankingsOfTheCachedModel()
    {
        var dataset = fixture.Benchmark.Dataset;
        using var trained = TrainedModels.GetOrTrain(dataset, fixture.Config.Training with { Seed = 1 }, fixture.Options);
        using var bench = EncodedDataset.Build(trained.Model, trained.Config, dataset, trained.Config.ImageSize, null);
        var g = bench.DatabaseGlobal.ToArray();
        var l = bench.DatabaseLocal.ToArray();
        var qg = bench.QueryGlobal.ToArray();
        var ql = bench.QueryLocal.ToArray();
        static int D(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
        {
            int d = 0;
            for (int i = 0; i < a.Length; i++) d += System.Numerics.BitOperations.PopCount((uint)(a[i] ^ b[i]));
            return d;
        }
        var global = new List<IReadOnlyList<int>>();
        var joined = new List<IReadOnlyList<int>>();
        for (int q = 0; q < qg.Rows; q++)
        {
            int Dg(int i) => D(qg.Row(q), g.Row(i));
            int Dl(int i) => D(ql.Row(q), l.Row(i));
            global.Add([.. Enumerable.Range(0, g.Rows).OrderBy(Dg).ThenBy(i => i)]);
            joined.Add([.. Enumerable.Range(0, g.Rows).OrderBy(i => Dg(i) + Dl(i)).ThenBy(i => i)]);
        }
        foreach (var protocol in Result.Protocols)
        {
            Assert.Equal(MeanAveragePrecision.Evaluate(dataset.GroundTruth, global, protocol).MeanAveragePrecision,
                Result.Row(PaperMethods.Global, 16, protocol).PerSeed[1], 12);
            Assert.Equal(MeanAveragePrecision.Evaluate(dataset.GroundTruth, joined, protocol).MeanAveragePrecision,
                Result.Row(PaperMethods.Concatenated, protocol).PerSeed[1], 12);
        }
    }

    [Fact]
    public void AimsAgreeWithTheRowsTheyAreDecidedOn()
    {
        // Two multi-level aims, GAP's share, one per code length, and four of the region rows.
        Assert.Equal(2 + 1 + fixture.Config.CodeLengths.Count + 4, Result.Aims.Count);
        for (int i = 0; i < fixture.Config.CodeLengths.Count; i++)
        {
            int bits = fixture.Config.CodeLengths[i];
            double strongest = new[] { PaperMethods.Lsh, PaperMethods.Pcah, PaperMethods.Itq }.Max(m => Result.Row(m, bits).Mean);
            Assert.Equal(Result.Row(PaperMethods.Global, bits).Mean > strongest, Result.Aims[3 + i].Met);
        }
        var gap = Result.Row(PaperMethods.Gap).Mean;
        double best = Math.Max(Result.Row(PaperMethods.MultiLevelQuery).Mean, Result.Row(PaperMethods.MultiLevelDataset).Mean);
        Assert.Equal(best / gap >= 0.9, Result.Aims[2].Met);

        // The compact aim takes the better of the strongest-regions rows (searched plainly and with query expansion; both
        // store the same regions) and counts their region codes (B/8 bytes per region), not their cells (1 byte per
        // region): the row stores the global code and regions x (B/8 + 1) bytes.
        var strongestRow = new[] { PaperMethods.MultiLevelRegionStrongest, PaperMethods.MultiLevelRegionStrongestExpanded }
            .Select(m => Result.Row(m)).MaxBy(r => r.Mean)!;
        Assert.Equal(Result.Row(PaperMethods.MultiLevelRegionStrongest).Bits, Result.Row(PaperMethods.MultiLevelRegionStrongestExpanded).Bits);
        int regionBytes = fixture.Config.Regions.Bits / 8;
        double regionsKept = (strongestRow.Bits - fixture.Config.Training.GlobalBits) / 8.0 / (regionBytes + 1);
        double codeBytes = regionsKept * regionBytes;
        Assert.InRange(regionsKept, 1, fixture.Config.Regions.CompactRegions);
        double top = Result.Rows.Where(r => r.Protocol == Result.Protocols[0]).Max(r => r.Mean);
        var compactAim = Result.Aims[3 + fixture.Config.CodeLengths.Count + 2];
        Assert.StartsWith("a compact operating point", compactAim.Name);
        Assert.Equal(top - strongestRow.Mean <= 0.03 && codeBytes <= 512, compactAim.Met);
        Assert.Contains($"({codeBytes:0} bytes of region codes", compactAim.Measured);
    }

    [Fact]
    public void TheRegionOnlyRunOfASecondBenchmarkGivesTheTablesRegionRowsAndItsOwnAims()
    {
        // On the same benchmark, configuration and seeds, the region-only run must reproduce the full tables' region,
        // GAP and global rows exactly: it trains (from the same model cache) and scores the same models.
        var regions = PaperTables.RunRegionRows(fixture.Benchmark.Dataset, fixture.Config, fixture.Options, cache: fixture.Cache);
        int kg = fixture.Config.Training.GlobalBits;
        var expected = PaperMethods.RegionRows(fixture.Config.Regions.Shortlists).Where(m => m != PaperMethods.RegionLocalHead)
            .Prepend(PaperMethods.Global).Prepend(PaperMethods.Gap).ToList();
        Assert.Equal(expected.Count * Result.Protocols.Count, regions.Rows.Count);
        foreach (var protocol in Result.Protocols)
            foreach (string method in expected)
            {
                var row = method == PaperMethods.Global ? regions.Row(method, kg, protocol) : regions.Row(method, protocol);
                var full = method == PaperMethods.Global ? Result.Row(method, kg, protocol) : Result.Row(method, protocol);
                Assert.Equal(full.PerSeed, row.PerSeed);
                Assert.Equal(full.Bits, row.Bits);
                Assert.Equal(full.Setting, row.Setting);
            }
        // Its aims are the region aims, named with the benchmark so that a merged summary tells them apart.
        var fullRegionAims = Result.Aims.Skip(3 + fixture.Config.CodeLengths.Count).ToList();
        Assert.Equal(fullRegionAims.Select(a => $"{a.Name}, {fixture.Benchmark.Dataset.Name}"), regions.Aims.Select(a => a.Name));
        Assert.Equal(fullRegionAims.Select(a => a.Met), regions.Aims.Select(a => a.Met));
        Assert.Equal(regions.Rows.Count, PaperTables.RunRegionRows(fixture.Benchmark.Dataset, fixture.Config, fixture.Options, cache: fixture.Cache).Rows.Count);
    }

    [Fact]
    public void TheInvertedFileShortlistHoldsAtLeastTheGlobalShortlistsPositives()
    {
        int shortest = fixture.Config.Regions.Shortlists.Min();
        static double Recall(string setting) => double.Parse(
            System.Text.RegularExpressions.Regex.Match(setting, @"stage-1 recall ([0-9.]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var inverted = Result.Row(PaperMethods.MultiLevelRegionInverted);
        var globalOnly = Result.Row(PaperMethods.Shortlisted(PaperMethods.MultiLevelRegionPca, shortest));
        Assert.Equal(fixture.Config.Seeds.Count, inverted.PerSeed.Count);
        Assert.Contains($"N={shortest} + {fixture.Config.Regions.InvertedCandidates}", inverted.Setting);
        // The union contains the global top N, so its recall can only be higher.
        Assert.True(Recall(inverted.Setting) >= Recall(globalOnly.Setting), $"{inverted.Setting} against {globalOnly.Setting}");
    }

    [Fact]
    public void CurvesCoverTheMainMethodsFromZeroToFullRecall()
    {
        Assert.Contains(Result.Curves, c => c.Method == PaperMethods.MultiLevelQuery);
        Assert.Contains(Result.Curves, c => c.Method == PaperMethods.Gap);
        Assert.Contains(Result.Curves, c => c.Method == PaperMethods.Global && c.Bits == 16);
        foreach (var c in Result.Curves)
        {
            Assert.Equal(0, c.Recall[0]);
            Assert.Equal(1, c.Recall[^1]);
            Assert.All(c.Precision, p => Assert.InRange(p, 0, 1));
        }
    }

    [Fact]
    public void ASecondRunComesFromTheCacheWithTheSameRowsAndTheSameSeedGivesTheSameNumbers()
    {
        var again = PaperTables.Run(fixture.Benchmark.Dataset, fixture.Config, fixture.Options, cache: fixture.Cache);
        Assert.Equal(Result.Seconds, again.Seconds);
        Assert.Equal(Result.Rows.Select(r => (r.Method, r.Bits, r.Protocol, r.Mean)), again.Rows.Select(r => (r.Method, r.Bits, r.Protocol, r.Mean)));
        // Without the result cache the tables are recomputed from the cached models: the same mAP, other timings.
        var recomputed = PaperTables.Run(fixture.Benchmark.Dataset, fixture.Config, fixture.Options, cache: new ResultCache(null));
        Assert.Equal(Result.Rows.Select(r => (r.Method, r.Bits, r.Protocol, r.Mean)), recomputed.Rows.Select(r => (r.Method, r.Bits, r.Protocol, r.Mean)));
    }

    [Fact]
    public void TheSummaryRoundTripsAndNamesEveryMethod()
    {
        var summary = ResultSummary.FromTables(Result, "smoke", "09-ablations-and-map-tables");
        string path = Path.Combine(TestPaths.NewTempDirectory("summary"), ResultSummary.JsonFile);
        File.WriteAllText(path, summary.ToJson());
        var read = ResultSummary.Read(path);
        Assert.Equal(summary.Rows.Count, read.Rows.Count);
        Assert.Equal(summary.Rows.Select(r => (r.Method, r.Bits, r.Protocol, r.Mean, r.Spread)), read.Rows.Select(r => (r.Method, r.Bits, r.Protocol, r.Mean, r.Spread)));
        Assert.Equal(Result.Row(PaperMethods.Itq, 16).Mean * 100, read.Rows.Single(r => r.Method == PaperMethods.Itq && r.Bits == 16 && r.Protocol == "classic").Mean, 4);
        // Every cell shows the mean rounded once to one decimal, as the aims do.
        foreach (var row in Result.Rows)
            Assert.Equal((100 * row.Mean).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture),
                read.Rows.Single(r => r.Method == row.Method && r.Bits == row.Bits && r.Protocol == row.Protocol.ToString().ToLowerInvariant()).Mean
                    .ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
        string markdown = read.ToMarkdown();
        foreach (string method in PaperMethods.CodeLengthRows.Concat(PaperMethods.AblationRows).Concat(PaperMethods.FloatRows))
            Assert.Contains(method, markdown);
        Assert.Contains("\"query_ms\"", File.ReadAllText(path));
        Assert.Contains("\"mp_at_10\"", File.ReadAllText(path));
    }
}

public class TrainedModelsTests(SmokeBenchmarkFixture fixture) : IClassFixture<SmokeBenchmarkFixture>
{
    [Fact]
    public void TheSecondRequestLoadsTheSameWeightsWithoutTraining()
    {
        string dir = TestPaths.NewTempDirectory("models");
        var options = new TrainingRunOptions { ModelCacheDirectory = dir };
        var config = TinyTablesFixture.Tiny with { Seed = 3 };
        var trainingSteps = new CountingProgress();
        using var first = TrainedModels.GetOrTrain(fixture.Dataset, config, options, trainingSteps);
        Assert.True(trainingSteps.Count > 0);
        var again = new CountingProgress();
        using var second = TrainedModels.GetOrTrain(fixture.Dataset, config, options, again);
        Assert.Equal(0, again.Count);
        Assert.Equal(first.History.Epochs.Select(e => e.ValidationMap), second.History.Epochs.Select(e => e.ValidationMap));
        foreach (var ((name, a), (_, b)) in first.Model.state_dict().Zip(second.Model.state_dict()))
            Assert.True(a.equal(b).all().item<bool>(), name);
        Assert.Single(Directory.GetFiles(dir));
        // Another configuration is another entry; a run with its own checkpoint never uses the cache.
        using (TrainedModels.GetOrTrain(fixture.Dataset, config with { Seed = 4 }, options)) { }
        Assert.Equal(2, Directory.GetFiles(dir).Length);
        var own = new CountingProgress();
        using (TrainedModels.GetOrTrain(fixture.Dataset, config, options with { CheckpointPath = Path.Combine(dir, "own.ckpt") }, own)) { }
        Assert.True(own.Count > 0);
    }

    [Fact]
    public void ADamagedEntryIsRetrained()
    {
        string dir = TestPaths.NewTempDirectory("models");
        var options = new TrainingRunOptions { ModelCacheDirectory = dir };
        var config = TinyTablesFixture.Tiny with { Seed = 5 };
        using (TrainedModels.GetOrTrain(fixture.Dataset, config, options)) { }
        string path = Directory.GetFiles(dir).Single();
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
        var progress = new CountingProgress();
        using var retrained = TrainedModels.GetOrTrain(fixture.Dataset, config, options, progress);
        Assert.True(progress.Count > 0);
        using var loaded = TrainedModels.GetOrTrain(fixture.Dataset, config, options);
        Assert.NotNull(Checkpoint.ReadInfo(path));
    }

    /// <summary>Counts the training-step reports.</summary>
    private sealed class CountingProgress : IProgress<ProgressReport>
    {
        public int Count { get; private set; }
        public void Report(ProgressReport value) { if (value.Task.StartsWith("train epoch", StringComparison.Ordinal)) Count++; }
    }
}
