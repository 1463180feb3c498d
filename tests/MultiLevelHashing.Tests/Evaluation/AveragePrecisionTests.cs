using FsCheck;
using FsCheck.Xunit;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Tests.Data;
using static MultiLevelHashing.Evaluation.RankLabel;

namespace MultiLevelHashing.Tests.Evaluation;

public class AveragePrecisionTests
{
    /// <summary>
    /// The reference: the official Oxford buildings <c>compute_ap.cpp</c> (gt_files_170407), step by step as published,
    /// in double where it uses float. It is another algorithm than the library's: it walks every kept item of the list
    /// and adds a trapezoid at each, where the library sums over the positions of the positives alone, so a misreading
    /// shared by both cannot pass unseen. The hand-computed cases below pin both.
    /// </summary>
    internal static double OxfordComputeAp(IReadOnlyList<RankLabel> ranked, int positives)
    {
        double oldRecall = 0.0, oldPrecision = 1.0, ap = 0.0;
        int intersectSize = 0, j = 0;
        for (int i = 0; i < ranked.Count; ++i)
        {
            if (ranked[i] == Ignored) continue; // amb.count(ranked_list[i])
            if (ranked[i] == Positive) intersectSize++;
            double recall = intersectSize / (double)positives;
            double precision = intersectSize / (j + 1.0);
            ap += (recall - oldRecall) * ((oldPrecision + precision) / 2.0);
            oldRecall = recall;
            oldPrecision = precision;
            j++;
        }
        return ap;
    }

    [Theory]
    // Positives at kept ranks 0 and 2 of 2: 0.5*(1+1)/2 + 0.5*(1/2+2/3)/2 = 0.5 + 0.2916667.
    [InlineData(new[] { Positive, Negative, Positive }, 2, 0.5 + 0.5 * (0.5 + 2.0 / 3.0) / 2)]
    // Junk is removed before counting: same as above.
    [InlineData(new[] { Ignored, Positive, Ignored, Negative, Positive }, 2, 0.5 + 0.5 * (0.5 + 2.0 / 3.0) / 2)]
    // Everything right: 1.
    [InlineData(new[] { Positive, Positive, Positive, Negative }, 3, 1.0)]
    // One of two positives never retrieved: only the first half of recall is covered.
    [InlineData(new[] { Positive, Negative }, 2, 0.5)]
    // First positive at rank 1: (1/2)*(1 + 1/2)/2 ... recall step 1, old_precision after a negative is 0: 1*(0+1/2)/2.
    [InlineData(new[] { Negative, Positive }, 1, 0.25)]
    // Empty list.
    [InlineData(new RankLabel[0], 3, 0.0)]
    // Rank 2 of 3 kept items, one positive: (0 + 1/3)/2.
    [InlineData(new[] { Negative, Ignored, Negative, Positive }, 1, 1.0 / 6.0)]
    public void HandComputedCases(RankLabel[] ranked, int positives, double expected)
    {
        Assert.Equal(expected, AveragePrecision.Compute(ranked, positives), 12);
        Assert.Equal(expected, OxfordComputeAp(ranked, positives), 12);
    }

    // The revisited benchmark's compute_ap (revisitop, python/evaluate.py) as published, run by numpy: ranks are the
    // 0-based positions of the positives, junk already removed.
    private const string RevisitedComputeApPython = """
        import json, sys
        import numpy as np
        def compute_ap(ranks, nres):
            nimgranks = len(ranks)
            ap = 0
            recall_step = 1. / nres
            for j in np.arange(nimgranks):
                rank = ranks[j]
                if rank == 0:
                    precision_0 = 1.
                else:
                    precision_0 = float(j) / rank
                precision_1 = float(j + 1) / (rank + 1)
                ap += (precision_0 + precision_1) * recall_step / 2.
            return ap
        with open(sys.argv[1]) as f:
            cases = json.load(f)
        print(json.dumps([compute_ap(np.array(c["ranks"]), c["positives"]) for c in cases]))
        """;

    [SkippableFact]
    public void ApMatchesTheRevisitedComputeApRunByNumpy()
    {
        string? python = ExternalProcess.FindOnPath("python3");
        Skip.If(python is null, "no python3 on PATH: the numpy reference is optional (the Oxford reference above always runs)");
        var probe = ExternalProcess.Run(python!, ["-c", "import numpy"]);
        Skip.If(probe.ExitCode != 0, "python3 has no numpy (Debian: apt-get install python3-numpy); the numpy reference is optional");
        var random = new Random(7);
        var cases = Enumerable.Range(0, 200).Select(_ =>
        {
            var ranked = Enumerable.Range(0, random.Next(0, 40)).Select(_ => (RankLabel)random.Next(3)).ToArray();
            int positives = ranked.Count(l => l == Positive) + random.Next(0, 3);
            return (Ranked: ranked, Positives: Math.Max(positives, 1));
        }).ToList();
        string input = System.Text.Json.JsonSerializer.Serialize(cases.Select(c => new
        {
            ranks = AveragePrecision.PositivePositions(c.Ranked),
            positives = c.Positives,
        }));
        string script = Path.Combine(TestPaths.NewTempDirectory("numpy-ap"), "compute_ap.py");
        File.WriteAllText(script, RevisitedComputeApPython);
        string inputFile = script + ".json";
        File.WriteAllText(inputFile, input);
        var run = ExternalProcess.Run(python!, [script, inputFile]);
        Assert.True(run.ExitCode == 0, run.StandardError);
        var expected = System.Text.Json.JsonSerializer.Deserialize<double[]>(run.StandardOutput)!;
        for (int i = 0; i < cases.Count; i++)
            Assert.Equal(expected[i], AveragePrecision.Compute(cases[i].Ranked, cases[i].Positives), 12);
    }

    [Fact]
    public void NoPositivesGivesNaN()
    {
        Assert.True(double.IsNaN(AveragePrecision.Compute([Negative, Ignored], 0)));
        Assert.True(double.IsNaN(AveragePrecision.PrecisionAt([Negative], 0, 1)));
    }

    [Fact]
    public void LabelGivesJunkPrecedenceAndRejectsRepeats()
    {
        var labels = AveragePrecision.Label([3, 1, -1, 0], positives: [1, 3], ignored: [3], databaseSize: 4);
        Assert.Equal([Ignored, Positive, Negative, Negative], labels);
        Assert.Throws<ArgumentException>(() => AveragePrecision.Label([1, 1], [1], [], 4));
        Assert.Throws<ArgumentException>(() => AveragePrecision.Label([4], [1], [], 4));
    }

    [Fact]
    public void CurveEndsAtTheListAndItsTrapezoidAreaIsAp()
    {
        RankLabel[] ranked = [Negative, Positive, Ignored, Positive, Negative, Positive];
        var curve = AveragePrecision.Curve(ranked, 4);
        Assert.Equal(new PrecisionRecallPoint(0, 1), curve[0]);
        Assert.Equal(6, curve.Length); // (0,1) + 5 kept items
        Assert.Equal(new PrecisionRecallPoint(0.75, 3.0 / 5.0), curve[^1]);
        double area = 0;
        for (int i = 1; i < curve.Length; i++)
            area += (curve[i].Recall - curve[i - 1].Recall) * (curve[i].Precision + curve[i - 1].Precision) / 2;
        Assert.Equal(AveragePrecision.Compute(ranked, 4), area, 12);
    }

    [Theory]
    // Positives at kept 1-based positions 1 and 3: k=1 -> 1/1; k=5 -> k' = min(3, 5) = 3 -> 2/3; k=2 -> 1/2.
    [InlineData(1, 1.0)]
    [InlineData(2, 0.5)]
    [InlineData(5, 2.0 / 3.0)]
    [InlineData(10, 2.0 / 3.0)]
    public void PrecisionAtKFollowsTheRevisitedDefinition(int k, double expected)
    {
        RankLabel[] ranked = [Positive, Ignored, Negative, Positive, Negative, Negative];
        Assert.Equal(expected, AveragePrecision.PrecisionAt(ranked, 3, k), 12);
    }

    [Fact]
    public void PrecisionAtKIsZeroWhenNothingIsRetrieved() => Assert.Equal(0, AveragePrecision.PrecisionAt([Negative, Negative], 2, 5));

    [Property(MaxTest = 300)]
    public bool ApMatchesTheOfficialOxfordComputeApOnRandomLists(byte[] codes, PositiveInt extraPositives)
    {
        var ranked = codes.Select(c => (RankLabel)(c % 3)).ToArray();
        int positives = ranked.Count(l => l == Positive) + extraPositives.Get % 5;
        if (positives == 0) return double.IsNaN(AveragePrecision.Compute(ranked, 0));
        double ap = AveragePrecision.Compute(ranked, positives);
        return Math.Abs(ap - OxfordComputeAp(ranked, positives)) < 1e-12 && ap >= 0 && ap <= 1 + 1e-12;
    }

    [Property(MaxTest = 200)]
    public bool MovingAPositiveUpNeverLowersAp(byte[] codes, NonNegativeInt at)
    {
        var ranked = codes.Select(c => (RankLabel)(c % 2)).ToArray();
        int positives = ranked.Count(l => l == Positive);
        if (positives == 0 || ranked.Length < 2) return true;
        int i = at.Get % (ranked.Length - 1);
        if (ranked[i] != Negative || ranked[i + 1] != Positive) return true;
        var better = (RankLabel[])ranked.Clone();
        (better[i], better[i + 1]) = (better[i + 1], better[i]);
        return AveragePrecision.Compute(better, positives) > AveragePrecision.Compute(ranked, positives);
    }
}

public class MeanAveragePrecisionTests
{
    /// <summary>Database a..f; q0: good {a, b}, junk {c}; q1: no positives under Hard; revisited labels too.</summary>
    internal static GroundTruth Toy()
    {
        string[] db = ["a", "b", "c", "d", "e", "f"];
        var q0 = new GroundTruthQuery("q0", "a", new BoundingBox(0, 0, 10, 10), "x",
            new ClassicLabels([0, 1], [2]), new RevisitedLabels(Easy: [0], Hard: [1], Junk: [2]));
        var q1 = new GroundTruthQuery("q1", "d", new BoundingBox(0, 0, 10, 10), "y",
            new ClassicLabels([3, 4], []), new RevisitedLabels(Easy: [3, 4], Hard: [], Junk: [5]));
        return new GroundTruth("toy", db, [q0, q1], databaseIsComplete: true);
    }

    [Fact]
    public void ClassicMapAveragesQueriesAndRemovesJunk()
    {
        var gt = Toy();
        // q0: c (junk) a d b -> kept a d b: AP = 0.5 + 0.5*(0.5 + 2/3)/2. q1: e d -> 1.
        var result = MeanAveragePrecision.EvaluateNames(gt, [["c", "a", "d", "b"], ["e", "d"]], EvaluationProtocol.Classic);
        double q0 = 0.5 + 0.5 * (0.5 + 2.0 / 3.0) / 2;
        Assert.Equal(q0, result.Queries[0].AveragePrecision, 12);
        Assert.Equal(1.0, result.Queries[1].AveragePrecision, 12);
        Assert.Equal((q0 + 1) / 2, result.MeanAveragePrecision, 12);
        Assert.Equal(0, result.Skipped);
    }

    [Fact]
    public void RevisitedProtocolsIgnoreTheOtherDifficultyAndSkipQueriesWithoutPositives()
    {
        var gt = Toy();
        IReadOnlyList<IReadOnlyList<string>> ranks = [["b", "d", "a"], ["f", "d", "e"]];
        // Easy, q0: b is hard -> ignored; d, a kept: AP = 1*(0 + 1/2)/2 = 0.25. q1: f junk; d e -> 1.
        var easy = MeanAveragePrecision.EvaluateNames(gt, ranks, EvaluationProtocol.Easy);
        Assert.Equal(0.25, easy.Queries[0].AveragePrecision, 12);
        Assert.Equal((0.25 + 1) / 2, easy.MeanAveragePrecision, 12);
        // Hard, q0: a is easy -> ignored; b d: AP 1. q1 has no hard positive: skipped, mean over one query.
        var hard = MeanAveragePrecision.EvaluateNames(gt, ranks, EvaluationProtocol.Hard);
        Assert.True(hard.Queries[1].Skipped);
        Assert.Equal(1, hard.Skipped);
        Assert.Equal(1.0, hard.MeanAveragePrecision, 12);
        // Medium, q0: b d a -> positives at kept 0 and 2 -> 0.5 + 0.5*(0.5+2/3)/2.
        var medium = MeanAveragePrecision.EvaluateNames(gt, ranks, EvaluationProtocol.Medium);
        Assert.Equal(0.5 + 0.5 * (0.5 + 2.0 / 3.0) / 2, medium.Queries[0].AveragePrecision, 12);
        // mP@1: q0 top kept item b is positive (medium) -> 1; q1 d -> 1.
        Assert.Equal(1.0, medium.MeanPrecisionAtK[0], 12);
    }

    [Fact]
    public void NameListsAreCheckedAgainstTheImageList()
    {
        var gt = Toy();
        var unknown = Assert.Throws<UserInputException>(() => MeanAveragePrecision.EvaluateNames(gt, [["a"], ["zz"]], EvaluationProtocol.Classic, source: "ranks.txt"));
        Assert.Contains("ranks.txt:2", unknown.Message);
        Assert.Contains("zz", unknown.Message);
        var twice = Assert.Throws<UserInputException>(() => MeanAveragePrecision.EvaluateNames(gt, [["a", "a"], []], EvaluationProtocol.Classic, source: "ranks.txt"));
        Assert.Contains("ranks.txt:1", twice.Message);
        var count = Assert.Throws<UserInputException>(() => MeanAveragePrecision.EvaluateNames(gt, [["a"]], EvaluationProtocol.Classic, source: "ranks.txt"));
        Assert.Contains("2 queries", count.Message);
    }

    [Fact]
    public void IncompleteImageListsTreatUnknownNamesAsNegatives()
    {
        var gt = Toy();
        var partial = new GroundTruth("toy", gt.DatabaseImages, gt.Queries, databaseIsComplete: false);
        var r = MeanAveragePrecision.EvaluateNames(partial, [["zz", "a", "b"], ["d", "e"]], EvaluationProtocol.Classic);
        // q0: zz a b -> 1*... positives at kept 1 and 2: 0.5*(0+1/2)/2 + 0.5*(1/2+2/3)/2.
        Assert.Equal(0.5 * 0.5 / 2 + 0.5 * (0.5 + 2.0 / 3.0) / 2, r.Queries[0].AveragePrecision, 12);
    }

    [Fact]
    public void MissingProtocolLabelsAreAUserError()
    {
        var gt = Toy();
        var classicOnly = new GroundTruth("c", gt.DatabaseImages, gt.Queries.Select(q => q with { Revisited = null }).ToList(), true);
        Assert.Equal([EvaluationProtocol.Classic], classicOnly.Protocols);
        Assert.Throws<UserInputException>(() => MeanAveragePrecision.EvaluateNames(classicOnly, [[], []], EvaluationProtocol.Medium));
    }
}
