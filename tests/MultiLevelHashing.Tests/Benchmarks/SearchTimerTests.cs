using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Search;

namespace MultiLevelHashing.Tests.Benchmarks;

public class SearchTimerTests
{
    [Fact]
    public void TimesEveryPointInPlanOrderAndChecksTheIndexAgainstTheScan()
    {
        var s = new Scenario(64, CodeKind.Clustered, 300, 5, 7, 0, 3);
        var (db, q) = s.Generate();
        var seen = new List<SearchTiming>();
        var plan = new SearchTimingPlan([SearchMethod.Scan, SearchMethod.Mih], [1, 7], [1, 2], Repeats: 2);
        var timings = SearchTimer.Run(Scenario.Pack(db, 64), Scenario.Pack(q, 64), plan, seen.Add);

        Assert.Equal(timings, seen);
        Assert.Equal(
            [(SearchMethod.Scan, 1, 1), (SearchMethod.Scan, 7, 1), (SearchMethod.Scan, 1, 2), (SearchMethod.Scan, 7, 2),
             (SearchMethod.Mih, 1, 1), (SearchMethod.Mih, 7, 1), (SearchMethod.Mih, 1, 2), (SearchMethod.Mih, 7, 2)],
            timings.Select(t => (t.Method, t.K, t.Threads)));
        foreach (var t in timings)
        {
            Assert.Equal(q.Length, t.Queries);
            Assert.True(t.SearchSeconds > 0 && double.IsFinite(t.QueriesPerSecond));
            for (int i = 0; i < q.Length; i++) Assert.Equal(BruteForce.Knn(db, q[i], t.K).Ids, t.Result.Ids.Row(i).ToArray());
            if (t.Method == SearchMethod.Scan)
            {
                // The scan has no index to build and is the reference itself.
                Assert.Equal(0, t.BuildSeconds);
                Assert.Null(t.IdenticalToScan);
                Assert.Equal(0, t.IndexBytes);
            }
            else
            {
                Assert.True(t.IdenticalToScan);
                Assert.True(t.BuildSeconds > 0);
                Assert.True(t.IndexBytes > 0);
            }
        }
    }

    [Fact]
    public void WithoutAScanThereIsNothingToCompareWith()
    {
        var (db, q) = new Scenario(72, CodeKind.Duplicates, 100, 3, 4, 0, 5).Generate();
        var t = Assert.Single(SearchTimer.Run(Scenario.Pack(db, 72), Scenario.Pack(q, 72),
            new SearchTimingPlan([SearchMethod.Mih], [4], [0], WarmupQueries: 0)));
        Assert.Null(t.IdenticalToScan);
        Assert.Equal(0, t.Threads);
        for (int i = 0; i < q.Length; i++) Assert.Equal(BruteForce.Knn(db, q[i], 4).Ids, t.Result.Ids.Row(i).ToArray());
    }

    [Fact]
    public void HeadTakesTheFirstQueries()
    {
        var codes = PackedCodes.FromBytes([1, 2, 3, 4], 8);
        Assert.Equal(2, SearchTimer.Head(codes, 2).Count);
        Assert.Equal(codes.Code(1).ToArray(), SearchTimer.Head(codes, 2).Code(1).ToArray());
        Assert.Same(codes, SearchTimer.Head(codes, 10));
        Assert.Equal(0, SearchTimer.Head(codes, 0).Count);
    }
}
