using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Tests.Search;

/// <summary>
/// How multi-index hashing gives up: the check before a probe that cannot finish within the budget, and the batch
/// rule that weighs the sample's work against the scans its answers saved.
/// </summary>
public class MultiIndexBudgetTests
{
    /// <summary>
    /// Checking each probe's lookups before it starts answers exactly the queries that running it answers, with the
    /// same neighbours, and never spends more; where the queries given up run out of budget on lookups (k = 100, half a
    /// scan), it spends less on them. With a tiny budget they run out on candidates, which the check does not predict.
    /// </summary>
    [Theory]
    [InlineData(10, 0.02, false)] [InlineData(100, 0.05, false)] [InlineData(100, 0.5, true)]
    public void TheCheckBeforeAProbeChangesNoAnswerAndSavesWork(int k, double fraction, bool savesOnGivenUp)
    {
        using var db = SyntheticCodes.Clustered(200_000, 64, 2_000, 5, 1, 100);
        using var queries = SyntheticCodes.Clustered(60, 64, 2_000, 5, 2, 100);
        var mih = MultiIndexHashing.Build(db);
        var budget = new MultiIndexHashing.Budget(fraction * db.Count * MultiIndexHashing.ScanNsPerCode(1));
        var (with, without) = (Try(mih, queries, k, budget, check: true, predict: false), Try(mih, queries, k, budget, check: false, predict: false));
        Assert.Equal(without.Select(r => r.Answered), with.Select(r => r.Answered));
        for (int i = 0; i < queries.Count; i++)
        {
            Assert.True(with[i].Spent <= without[i].Spent, $"query {i}: {with[i].Spent} > {without[i].Spent}");
            if (with[i].Answered) Assert.Equal(without[i].Ids, with[i].Ids);
        }
        if (savesOnGivenUp)
        {
            Assert.Contains(with, r => !r.Answered);
            Assert.True(with.Where(r => !r.Answered).Sum(r => r.Spent) < without.Where(r => !r.Answered).Sum(r => r.Spent));
        }
    }

    /// <summary>
    /// Giving up on the predicted cost only ever gives up: the queries answered with it are answered without it, with
    /// the same neighbours and the same work, and no query spends more. On clustered codes (about 100 per cluster) it
    /// gives up on none of the queries at k = 10, where the nearest lie in the query's own cluster, and at k = 100,
    /// where many lie in the next cluster, it saves work on the queries given up (at this size their budget, 500 lookups,
    /// leaves little to save; at 10M it lets the index answer half the queries at k = 100, section 4.4).
    /// </summary>
    [Fact]
    public void GivingUpOnThePredictedCostOnlySavesWork()
    {
        using var db = SyntheticCodes.Clustered(200_000, 64, 2_000, 5, 1, 100);
        using var queries = SyntheticCodes.Clustered(100, 64, 2_000, 5, 2, 100);
        var mih = MultiIndexHashing.Build(db);
        var budget = new MultiIndexHashing.Budget(0.5 * db.Count * MultiIndexHashing.ScanNsPerCode(1));
        foreach (int k in new[] { 10, 100 })
        {
            var (with, without) = (Try(mih, queries, k, budget, check: true, predict: true), Try(mih, queries, k, budget, check: true, predict: false));
            for (int i = 0; i < queries.Count; i++)
            {
                Assert.True(with[i].Spent <= without[i].Spent, $"k = {k}, query {i}: {with[i].Spent} > {without[i].Spent}");
                if (with[i].Answered)
                {
                    Assert.True(without[i].Answered);
                    Assert.Equal(without[i].Spent, with[i].Spent);
                    Assert.Equal(without[i].Ids, with[i].Ids);
                }
            }
            if (k == 10) Assert.Equal(without.Count(r => r.Answered), with.Count(r => r.Answered));
            else
            {
                double givenUpWith = with.Where(r => !r.Answered).Sum(r => r.Spent), givenUpWithout = without.Where(r => !r.Answered).Sum(r => r.Spent);
                Assert.True(givenUpWith < givenUpWithout, $"{givenUpWith} against {givenUpWithout}");
            }
        }
    }

    /// <summary>
    /// The chance that no substring is within s bits, against counting every placement of D differing bits over a
    /// 12-bit code cut into substrings of 5, 4 and 3 bits.
    /// </summary>
    [Fact]
    public void MissProbabilityCountsEveryPlacementOfTheDifferingBits()
    {
        int[] length = [5, 4, 3];
        var p = MultiIndexHashing.MissProbability(length, 12);
        for (int s = 0; s <= 5; s++)
            for (int d = 0; d <= 12; d++)
            {
                int all = 0, missed = 0;
                for (int mask = 0; mask < 1 << 12; mask++)
                {
                    if (System.Numerics.BitOperations.PopCount((uint)mask) != d) continue;
                    all++;
                    int a = System.Numerics.BitOperations.PopCount((uint)mask & 0b11111), b = System.Numerics.BitOperations.PopCount((uint)(mask >> 5) & 0b1111),
                        c = System.Numerics.BitOperations.PopCount((uint)(mask >> 9) & 0b111);
                    if (a > s && b > s && c > s) missed++;
                }
                Assert.Equal((double)missed / all, p[s, d], 12);
            }
    }

    private static List<(bool Answered, double Spent, int[] Ids)> Try(MultiIndexHashing mih, PackedCodes queries, int k, MultiIndexHashing.Budget budget,
        bool check, bool predict)
    {
        var before = (MultiIndexHashing.CheckNextProbe, MultiIndexHashing.PredictGiveUp);
        try
        {
            (MultiIndexHashing.CheckNextProbe, MultiIndexHashing.PredictGiveUp) = (check, predict);
            var scratch = mih.NewScratch();
            var results = new List<(bool, double, int[])>();
            for (int i = 0; i < queries.Count; i++)
            {
                var (ids, d) = (new int[k], new int[k]);
                bool answered = mih.TryKnn(queries.Code(i), k, scratch, budget, ids, d, out int found);
                results.Add((answered, scratch.Spent, answered ? ids[..found] : []));
            }
            return results;
        }
        finally
        {
            (MultiIndexHashing.CheckNextProbe, MultiIndexHashing.PredictGiveUp) = before;
        }
    }

    /// <summary>
    /// The batch rule tries the index on the whole batch where its sample's work is less than the scans it saved
    /// (clustered codes, k = 10: every query answered), scans where it is not (uniform codes, where no substring
    /// radius is small enough), and gives the scan's answer either way.
    /// </summary>
    [Fact]
    public void TheBatchRuleTriesTheIndexWhereItPaysAndScansWhereItDoesNot()
    {
        using var clustered = SyntheticCodes.Clustered(200_000, 64, 2_000, 5, 1, 100);
        using var near = SyntheticCodes.Clustered(200, 64, 2_000, 5, 2, 100);
        var index = new HammingIndex(clustered, SearchMethod.Mih);
        var found = index.Search(near, 10, new SearchOptions(2));
        Assert.False(index.LastStatistics.FellBackForBatch);
        Assert.True(index.LastStatistics.IndexedQueries >= 190, $"{index.LastStatistics}");
        AssertSame(LinearScan.Search(clustered, near, 10, new SearchOptions(2)), found);

        using var uniform = SyntheticCodes.Uniform(200_000, 64, 3);
        using var far = SyntheticCodes.Uniform(200, 64, 4);
        var scanned = new HammingIndex(uniform, SearchMethod.Mih);
        var answer = scanned.Search(far, 100, new SearchOptions(2));
        Assert.True(scanned.LastStatistics.FellBackForBatch);
        Assert.Equal(200, scanned.LastStatistics.IndexedQueries + scanned.LastStatistics.ScannedQueries);
        AssertSame(LinearScan.Search(uniform, far, 100, new SearchOptions(2)), answer);
    }

    private static void AssertSame(KnnResult expected, KnnResult actual)
    {
        Assert.Equal(expected.Ids.Data, actual.Ids.Data);
        Assert.Equal(expected.Distances.Data, actual.Distances.Data);
    }
}
