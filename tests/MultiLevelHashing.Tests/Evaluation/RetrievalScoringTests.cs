using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Tests.Evaluation;

public class RetrievalScoringTests
{
    [Fact]
    public void HammingRankingsAreFullStableBruteForceOrders()
    {
        var rng = new Random(4);
        int n = 300, q = 7, bits = 16;
        var db = Enumerable.Range(0, n * bits).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var qs = Enumerable.Range(0, q * bits).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        using var dc = PackedCodes.FromReal(db, bits);
        using var qc = PackedCodes.FromReal(qs, bits);
        var rankings = RetrievalScoring.HammingRankings(dc, qc);
        for (int i = 0; i < q; i++)
        {
            // Brute force on the unpacked signs; ties keep database order.
            var expected = Enumerable.Range(0, n).OrderBy(j => Enumerable.Range(0, bits).Count(b => (db[j * bits + b] > 0) != (qs[i * bits + b] > 0))).ToArray();
            Assert.Equal(expected, rankings[i]);
        }
    }

    [Fact]
    public void CosineRankingsOrderBySimilarity()
    {
        float[] db = [1, 0, 0, 1, 0.6f, 0.8f];
        float[] q = [0.8f, 0.6f];
        Assert.Equal(new[] { 2, 0, 1 }, RetrievalScoring.CosineRankings(db, q, 2)[0]);
    }
}
