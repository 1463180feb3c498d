using System.CommandLine;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Tests.Search;
using MultiLevelHashing.Training;
using MultiLevelHashing.Tests.Training;

namespace MultiLevelHashing.Tests.Cli;

/// <summary>
/// <c>mlh benchmark</c> end to end on generated benchmarks in the official layouts (Oxford text lists, a revisited
/// gnd pickle, Paris subfolders, a distractor folder), against mAP computed here from brute-force Hamming rankings
/// of the library encoder's codes and the fixture's own labels.
/// </summary>
[Collection(ConsoleCommandCollection.Name)]
public class BenchmarkCommandTests
{
    private const int Candidates = 7;
    private const double Lambda = 0.5;

    private static async Task<(int Code, string Output)> Invoke(params string[] args)
    {
        var text = new StringWriter();
        var root = new RootCommand();
        root.Subcommands.Add(BenchmarkCommand.Create(text));
        int code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        return (code, text.ToString());
    }

    /// <summary>The official AP (trapezoid from (0, 1)) of a ranked list, written out from its definition.</summary>
    private static double IndependentAp(IReadOnlyList<int> ranking, ISet<int> positives, ISet<int> ignored)
    {
        double ap = 0;
        int kept = 0, hits = 0;
        foreach (int id in ranking)
        {
            if (ignored.Contains(id)) continue;
            if (positives.Contains(id))
            {
                double before = kept == 0 ? 1.0 : (double)hits / kept;
                hits++;
                double after = (double)hits / (kept + 1);
                ap += (before + after) / 2 / positives.Count;
            }
            kept++;
        }
        return ap;
    }

    /// <summary>Global Hamming ranking (distance, then index) and the multi-level re-ranking of the top candidates, by brute force.</summary>
    private static (int[] Global, int[] Levels) Rankings(byte[][] dbGlobal, byte[][] dbLocal, byte[] qGlobal, byte[] qLocal)
    {
        int n = dbGlobal.Length, kg = qGlobal.Length * 8, kl = qLocal.Length * 8;
        var dg = dbGlobal.Select(c => BruteForce.Distance(c, qGlobal)).ToArray();
        var global = Enumerable.Range(0, n).OrderBy(i => dg[i]).ThenBy(i => i).ToArray();
        var top = global.Take(Candidates)
            .OrderBy(i => dg[i] / (double)kg + Lambda * BruteForce.Distance(dbLocal[i], qLocal) / kl).ThenBy(i => i);
        return (global, [.. top, .. global.Skip(Candidates)]);
    }

    internal static (string Ckpt, TrainingConfig Config) SmokeCheckpoint(string dir)
    {
        return (UntrainedCheckpoint.Write(Path.Combine(dir, "smoke-untrained.ckpt"), seed: 3), TrainingConfig.Smoke);
    }

    /// <summary>Expected mAP per (method, protocol): codes from the library encoder, rankings and AP computed here.</summary>
    private static Dictionary<(string, string), double> ExpectedMaps(LandmarkDataset ds, string checkpoint,
        Func<int, EvaluationProtocol, (ISet<int> Positives, ISet<int> Ignored)> labels, IReadOnlyList<EvaluationProtocol> protocols)
    {
        var (model, info) = Checkpoint.LoadModel(checkpoint);
        using var _ = model;
        using var db = DscnnEncoder.Encode(model, ImageFileSource.Database(ds), info.Config.ImageSize, batchSize: 1);
        using var qs = DscnnEncoder.Encode(model, ImageFileSource.Queries(ds), info.Config.ImageSize, batchSize: 1);
        var dbG = Enumerable.Range(0, db.Count).Select(db.Global.CodeBytes).ToArray();
        var dbL = Enumerable.Range(0, db.Count).Select(db.Local.CodeBytes).ToArray();
        var result = new Dictionary<(string, string), double>();
        var rankings = Enumerable.Range(0, qs.Count).Select(q => Rankings(dbG, dbL, qs.Global.CodeBytes(q), qs.Local.CodeBytes(q))).ToArray();
        foreach (var p in protocols)
        {
            string name = p.ToString().ToLowerInvariant();
            var evaluated = Enumerable.Range(0, qs.Count).Where(q => labels(q, p).Positives.Count > 0).ToList();
            result[("global", name)] = evaluated.Average(q => IndependentAp(rankings[q].Global, labels(q, p).Positives, labels(q, p).Ignored));
            result[("multi-level", name)] = evaluated.Average(q => IndependentAp(rankings[q].Levels, labels(q, p).Positives, labels(q, p).Ignored));
        }
        return result;
    }

    private static void AssertScores(BenchmarkReport report, Dictionary<(string, string), double> expected)
    {
        var measured = report.Methods.SelectMany(m => m.Protocols.Select(p => ((m.Method, p.Protocol), p.Map))).ToDictionary();
        Assert.Equal(expected.Keys.Order(), measured.Keys.Order());
        foreach (var (key, map) in expected) Assert.Equal(map, measured[key], 12);
    }

    [Fact]
    public async Task RevisitedPickleEndToEndMatchesAnIndependentComputationAndReusesTheCache()
    {
        string dir = TestPaths.NewTempDirectory("bench-rox");
        try
        {
            var f = LandmarkFixture.Create(Path.Combine(dir, "data"), distractors: 0);
            var (ckpt, _) = SmokeCheckpoint(dir);
            string spec = $"roxford5k:images={f.OxfordImages},gnd={f.RevisitedPickle}";
            string output = Path.Combine(dir, "out"), cache = Path.Combine(dir, "cache");
            string[] args = ["benchmark", "--dataset", spec, "--checkpoint", ckpt, "--output", output, "--cache", cache,
                             "--levels", "--candidates", $"{Candidates}", "--lambda", "0.5", "--chunk", "4", "--batch", "1"];
            var (code, console) = await Invoke(args);
            Assert.Equal(0, code);

            var report = BenchmarkReport.FromJson(File.ReadAllText(Path.Combine(output, "results.json")));
            var ds = DatasetSpec.Open(spec);
            Assert.Equal((ds.Database.Count, 3, "roxford5k"), (report.DatabaseImages, report.Queries, report.Dataset));
            // The fixture's labels: easy = views 1-2, hard = view 3, junk = view 4 of the query's landmark.
            (ISet<int>, ISet<int>) Labels(int q, EvaluationProtocol p)
            {
                int Idx(int k) => ds.GroundTruth.IndexOf(LandmarkFixture.OxfordName(q, k));
                HashSet<int> easy = [Idx(1), Idx(2)], hard = [Idx(3)], junk = [Idx(4)];
                return p switch
                {
                    EvaluationProtocol.Easy => (easy, new HashSet<int>([.. junk, .. hard])),
                    EvaluationProtocol.Medium => (new HashSet<int>([.. easy, .. hard]), junk),
                    EvaluationProtocol.Hard => (hard, new HashSet<int>([.. junk, .. easy])),
                    _ => throw new InvalidOperationException(),
                };
            }
            var expected = ExpectedMaps(ds, ckpt, Labels, [EvaluationProtocol.Easy, EvaluationProtocol.Medium, EvaluationProtocol.Hard]);
            AssertScores(report, expected);
            Assert.True(report.EncodeSeconds > 0);
            Assert.Contains("medium mAP", console);
            Assert.Contains(BenchmarkReport.Percent(expected[("global", "hard")]), console);
            string markdown = File.ReadAllText(Path.Combine(output, "results.md"));
            Assert.Contains("| method | easy | medium | hard |", markdown);
            Assert.Contains(BenchmarkReport.Percent(expected[("multi-level", "medium")]), markdown);

            // Second run: both index files come from the cache; nothing is encoded and the scores are the same.
            Assert.Equal(2, Directory.GetFiles(cache, "*.mlhidx").Length);
            Assert.Empty(Directory.GetDirectories(cache));
            Assert.Equal(0, (await Invoke(args)).Code);
            var again = BenchmarkReport.FromJson(File.ReadAllText(Path.Combine(output, "results.json")));
            Assert.Equal(0, again.EncodeSeconds);
            AssertScores(again, expected);

            // Another checkpoint is another cache entry.
            var config = TrainingConfig.Smoke;
            using (var model = DscnnFactory.Create(config.Architecture, config.Seed, pretrainedBackbone: false))
            {
                DscnnFactory.Initialize(model, seed: 4, includeBackbone: true);
                Checkpoint.Save(Path.Combine(dir, "other.ckpt"), config, model, null, 0, new TrainingHistory());
            }
            Assert.Equal(0, (await Invoke([.. args.Select(a => a == ckpt ? Path.Combine(dir, "other.ckpt") : a)])).Code);
            Assert.Equal(4, Directory.GetFiles(cache, "*.mlhidx").Length);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("oxford105k")]
    [InlineData("paris6k")]
    public async Task ClassicTextListsEndToEnd(string name)
    {
        string dir = TestPaths.NewTempDirectory("bench-" + name);
        try
        {
            var f = LandmarkFixture.Create(Path.Combine(dir, "data"), distractors: 6);
            var (ckpt, _) = SmokeCheckpoint(dir);
            bool paris = name == "paris6k";
            string spec = paris ? $"paris6k:images={f.ParisImages},gt={f.ParisGt}"
                                : $"oxford105k:images={f.OxfordImages},gt={f.OxfordGt},distractors={f.Distractors}";
            string output = Path.Combine(dir, "out");
            Assert.Equal(0, (await Invoke("benchmark", "--dataset", spec, "--checkpoint", ckpt, "--output", output, "--cache", Path.Combine(dir, "cache"),
                "--levels", "--candidates", $"{Candidates}", "--lambda", "0.5", "--batch", "1")).Code);
            var report = BenchmarkReport.FromJson(File.ReadAllText(Path.Combine(output, "results.json")));
            var ds = DatasetSpec.Open(spec);
            Assert.Equal(paris ? 18 : 20 + 6, report.DatabaseImages);
            (ISet<int>, ISet<int>) Labels(int q, EvaluationProtocol p)
            {
                int Idx(int k) => ds.GroundTruth.IndexOf(paris ? LandmarkFixture.ParisName(q, k) : LandmarkFixture.OxfordName(q, k));
                return (new HashSet<int> { Idx(0), Idx(1), Idx(2), Idx(3) }, new HashSet<int> { Idx(4) });
            }
            AssertScores(report, ExpectedMaps(ds, ckpt, Labels, [EvaluationProtocol.Classic]));
            Assert.Single(report.Methods[0].Protocols);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task IndexAndTrainTakeTheSameSpecification()
    {
        string dir = TestPaths.NewTempDirectory("bench-spec");
        try
        {
            var f = LandmarkFixture.Create(Path.Combine(dir, "data"), distractors: 3);
            var (ckpt, config) = SmokeCheckpoint(dir);
            string spec = $"paris106k:images={f.ParisImages},gt={f.ParisGt},distractors={f.Distractors}";
            string index = Path.Combine(dir, "paris.mlhidx");
            var root = new RootCommand();
            root.Subcommands.Add(IndexCommand.Create());
            root.Subcommands.Add(TrainCommand.Create());
            var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
            Assert.Equal(0, await root.Parse(["index", "--dataset", spec, "--checkpoint", ckpt, "--output", index]).InvokeAsync(invocation));
            using (var db = MultiLevelHashing.Search.CodeIndexFile.Open(index, [config.GlobalBits, config.LocalBits]))
                Assert.Equal(DatasetSpec.Open(spec).Database.Select(i => i.Name), db.ImageIds);
            // Oxford and Paris carry no training split: training on them is refused with the reason.
            var e = await Assert.ThrowsAsync<UserInputException>(() => root.Parse(["train", "--dataset", spec, "--preset", "smoke",
                "--checkpoint", Path.Combine(dir, "t.ckpt")]).InvokeAsync(invocation));
            Assert.Contains("no labelled training split", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task BadInputEndsWithAnErrorNamingTheProblem()
    {
        string dir = TestPaths.NewTempDirectory("bench-bad");
        try
        {
            var f = LandmarkFixture.Create(Path.Combine(dir, "data"), distractors: 0);
            var (ckpt, _) = SmokeCheckpoint(dir);
            var e1 = await Assert.ThrowsAsync<UserInputException>(() => Invoke("benchmark", "--dataset", "roxford5k:images=" + f.OxfordImages, "--checkpoint", ckpt));
            Assert.Contains("gt=FILE is missing", e1.Message);
            var e2 = await Assert.ThrowsAsync<UserInputException>(() => Invoke("benchmark", "--dataset", $"oxford5k:images={f.OxfordImages},gt={f.OxfordGt}",
                "--checkpoint", Path.Combine(dir, "missing.ckpt")));
            Assert.Contains("missing.ckpt", e2.Message);
            // An unreadable database image is named.
            File.WriteAllBytes(Path.Combine(f.OxfordImages, LandmarkFixture.OxfordName(1, 2) + ".jpg"), [0xFF, 0xD8, 0x00]);
            var e3 = await Assert.ThrowsAsync<UserInputException>(() => Invoke("benchmark", "--dataset", $"oxford5k:images={f.OxfordImages},gt={f.OxfordGt}",
                "--checkpoint", ckpt, "--output", Path.Combine(dir, "out"), "--cache", Path.Combine(dir, "cache")));
            Assert.Contains(LandmarkFixture.OxfordName(1, 2), e3.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
