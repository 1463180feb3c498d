using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;

namespace MultiLevelHashing.Tests.Evaluation;

public class ShortlistRecallTests
{
    [Fact]
    public void HandComputedRecallAtN()
    {
        // Two queries over 5 images. Query a: positives {0, 3}; query b: positive {4}, junk {1}.
        // Rankings: a = 3, 1, 2, 0, 4 -> top 2 holds 3 of {0, 3}: 1/2; b = 4, 0, ... -> 1/1. Mean 0.75.
        // Top 4: a holds both (1), b (1): 1.0.
        var truth = new GroundTruth("hand", ["i0", "i1", "i2", "i3", "i4"],
        [
            new GroundTruthQuery("a", "i0", new BoundingBox(0, 0, 1, 1), null, new ClassicLabels([0, 3], []), null),
            new GroundTruthQuery("b", "i4", new BoundingBox(0, 0, 1, 1), null, new ClassicLabels([4], [1]), null),
        ], databaseIsComplete: true);
        IReadOnlyList<IReadOnlyList<int>> rankings = [[3, 1, 2, 0, 4], [4, 0, 1, 2, 3]];
        Assert.Equal(0.75, ShortlistRecall.Mean(truth, rankings, 2, EvaluationProtocol.Classic), 12);
        Assert.Equal(1.0, ShortlistRecall.Mean(truth, rankings, 4, EvaluationProtocol.Classic), 12);
        Assert.Equal(0.0, ShortlistRecall.Mean(truth, rankings, 0, EvaluationProtocol.Classic), 12);
    }
}
