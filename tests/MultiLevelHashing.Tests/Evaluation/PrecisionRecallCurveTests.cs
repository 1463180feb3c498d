using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;

namespace MultiLevelHashing.Tests.Evaluation;

public class PrecisionRecallCurveTests
{
    /// <summary>Database a..f; q0: positives {a, b}, junk {c}; q1: positives {d, e}; revisited: q1 has no hard positive.</summary>
    private static GroundTruth Toy() => MeanAveragePrecisionTests.Toy();

    [Fact]
    public void MeanInterpolatedPrecisionMatchesTheHandComputedCurve()
    {
        // q0 ranks a d e b f (c is junk and removed): points (0.5, 1) (0.5, 1/2) (0.5, 1/3) (1, 1/2) (1, 2/5);
        //   interpolated at recall 0, 1/2, 1: 1, 1, 1/2.
        // q1 ranks f e a b c d: points (0, 0) (1/2, 1/2) (1/2, 1/3) (1/2, 1/4) (1/2, 1/5) (1, 1/3);
        //   interpolated: 1/2, 1/2, 1/3.
        IReadOnlyList<IReadOnlyList<int>> rankings = [[0, 3, 2, 4, 1, 5], [5, 4, 0, 1, 2, 3]];
        var curve = PrecisionRecallCurve.Mean(Toy(), rankings, EvaluationProtocol.Classic, levels: 3);
        Assert.Equal([0.0, 0.5, 1.0], curve.Select(p => p.Recall));
        Assert.Equal(0.75, curve[0].Precision, 12);
        Assert.Equal(0.75, curve[1].Precision, 12);
        Assert.Equal((0.5 + 1.0 / 3) / 2, curve[2].Precision, 12);
    }

    [Fact]
    public void RecallNeverReachedCountsAsZeroAndQueriesWithoutPositivesAreSkipped()
    {
        // Under Hard, q0's only positive is b (a easy and c junk are ignored); q1 has none and is left out.
        IReadOnlyList<IReadOnlyList<int>> rankings = [[3, 1], [3]];
        var hard = PrecisionRecallCurve.Mean(Toy(), rankings, EvaluationProtocol.Hard, levels: 2);
        Assert.Equal(0.5, hard[0].Precision, 12);
        Assert.Equal(0.5, hard[1].Precision, 12);
        // A list that stops before the second positive never reaches recall 1.
        var classic = PrecisionRecallCurve.Mean(Toy(), [[0], [3, 4]], EvaluationProtocol.Classic, levels: 2);
        Assert.Equal((1.0 + 0.0) / 2, classic[1].Precision, 12);
        Assert.Equal(1.0, classic[0].Precision, 12);
    }

    [Fact]
    public void RefusesFewerThanTwoLevelsAndTheWrongNumberOfLists()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PrecisionRecallCurve.Mean(Toy(), [[0], [3]], EvaluationProtocol.Classic, levels: 1));
        Assert.Throws<ArgumentException>(() => PrecisionRecallCurve.Mean(Toy(), [[0]], EvaluationProtocol.Classic));
    }
}
