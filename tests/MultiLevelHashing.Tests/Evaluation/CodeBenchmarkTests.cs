using FsCheck.Xunit;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Search;

namespace MultiLevelHashing.Tests.Evaluation;

/// <summary>
/// The benchmark's batched search and scoring against brute force: full Hamming sorts by (distance, index), the
/// multi-level rule written out, and the one-shot evaluator over all rankings at once.
/// </summary>
public class CodeBenchmarkTests
{
    private static (GroundTruth Truth, byte[][] Db, byte[][] DbLocal, byte[][] Q, byte[][] QLocal) Problem(int seed)
    {
        var rng = new Random(seed);
        int n = rng.Next(1, 60), q = rng.Next(1, 12);
        byte[] Code(int bytes) { var b = new byte[bytes]; rng.NextBytes(b); if (rng.Next(3) == 0) b[0] = 0; return b; }
        var db = Enumerable.Range(0, n).Select(_ => Code(2)).ToArray();
        var dbLocal = Enumerable.Range(0, n).Select(_ => Code(4)).ToArray();
        int[] Subset(double p) => [.. Enumerable.Range(0, n).Where(_ => rng.NextDouble() < p)];
        var queries = Enumerable.Range(0, q).Select(i =>
        {
            int[] easy = Subset(0.2), hard = Subset(0.15).Except(easy).ToArray(), junk = Subset(0.1).Except(easy).Except(hard).ToArray();
            // Some queries have no hard (or no easy) positives: skipped under that protocol.
            if (i % 4 == 1) hard = [];
            return new GroundTruthQuery($"q{i}", $"im{rng.Next(n)}", new BoundingBox(0, 0, 1, 1), null, null, new RevisitedLabels(easy, hard, junk));
        }).ToList();
        var truth = new GroundTruth("random", [.. Enumerable.Range(0, n).Select(i => $"im{i}")], queries, databaseIsComplete: true);
        return (truth, db, dbLocal, [.. Enumerable.Range(0, q).Select(_ => Code(2))], [.. Enumerable.Range(0, q).Select(_ => Code(4))]);
    }

    [Property(MaxTest = 60)]
    public bool MatchesBruteForceRankingsScoredAllAtOnce(int seed, bool levels)
    {
        var (truth, db, dbLocal, q, qLocal) = Problem(seed);
        int n = db.Length, candidates = 1 + Math.Abs(seed % 9);
        const double lambda = 0.7;
        using var g = Scenario.Pack(db, 16);
        using var l = Scenario.Pack(dbLocal, 32);
        using var qg = Scenario.Pack(q, 16);
        using var ql = Scenario.Pack(qLocal, 32);
        var results = CodeBenchmark.Run(truth, g, l, qg, ql, new CodeBenchmarkOptions(levels, new MultiLevelOptions { Setting = new MultiLevelSetting(candidates, lambda) }, QueryBatch: 1 + Math.Abs(seed % 4)));

        IReadOnlyList<int> GlobalRanking(int i) => BruteForce.Knn(db, q[i], n).Ids;
        IReadOnlyList<int> LevelRanking(int i)
        {
            var global = GlobalRanking(i);
            var top = global.Take(candidates).OrderBy(j => BruteForce.Distance(db[j], q[i]) / 16.0 + lambda * BruteForce.Distance(dbLocal[j], qLocal[i]) / 32.0).ThenBy(j => j);
            return [.. top, .. global.Skip(candidates)];
        }
        var expected = new List<(string, Func<int, IReadOnlyList<int>>)> { ("global", GlobalRanking) };
        if (levels) expected.Add(("multi-level", LevelRanking));
        if (results.Count != expected.Count) return false;
        for (int m = 0; m < expected.Count; m++)
        {
            var rankings = Enumerable.Range(0, q.Length).Select(expected[m].Item2).ToList();
            if (results[m].Method != expected[m].Item1) return false;
            if (!results[m].Results.Select(r => r.Protocol).SequenceEqual([EvaluationProtocol.Easy, EvaluationProtocol.Medium, EvaluationProtocol.Hard])) return false;
            foreach (var r in results[m].Results)
            {
                var reference = MeanAveragePrecision.Evaluate(truth, rankings, r.Protocol);
                bool same = double.IsNaN(reference.MeanAveragePrecision) ? double.IsNaN(r.MeanAveragePrecision) : reference.MeanAveragePrecision == r.MeanAveragePrecision;
                if (!same || r.Skipped != reference.Skipped || !r.MeanPrecisionAtK.SequenceEqual(reference.MeanPrecisionAtK)
                    || !r.Queries.Select(x => x.AveragePrecision).SequenceEqual(reference.Queries.Select(x => x.AveragePrecision)))
                    return false;
            }
        }
        return true;
    }

    [Fact]
    public void ReportRoundTripsThroughJsonAndNamesEveryProtocolInMarkdown()
    {
        var (truth, db, dbLocal, q, qLocal) = Problem(11);
        using var g = Scenario.Pack(db, 16);
        using var l = Scenario.Pack(dbLocal, 32);
        using var qg = Scenario.Pack(q, 16);
        using var ql = Scenario.Pack(qLocal, 32);
        var results = CodeBenchmark.Run(truth, g, l, qg, ql, new CodeBenchmarkOptions(Levels: true));
        var report = new BenchmarkReport("random", "random:images=a,gt=b", "/c.ckpt", "abc", 16, 32, db.Length, q.Length, 1.5, 0.25, BenchmarkReport.Scores(results));
        var back = BenchmarkReport.FromJson(report.ToJson());
        Assert.Equal(report.Methods.Select(m => m.Protocols.Select(p => p.Map).ToArray()), back.Methods.Select(m => m.Protocols.Select(p => p.Map).ToArray()));
        Assert.Equal(report.Methods[1].Protocols[2].AveragePrecision, back.Methods[1].Protocols[2].AveragePrecision);
        string md = report.ToMarkdown();
        Assert.Contains("| method | easy | medium | hard |", md);
        Assert.Contains($"| multi-level | hard | {BenchmarkReport.Percent(results[1].Results[2].MeanAveragePrecision)} |", md);
    }
}
