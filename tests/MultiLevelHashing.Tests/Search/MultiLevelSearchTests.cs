using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Tests.Search;

public class MultiLevelSearchTests
{
    [Fact]
    public void DefaultOptionsAreTheCrossValidatedSetting()
    {
        // Notebook 06's choice: N = 50, lambda = 0.25, rho = 1/8.
        Assert.Equal(new MultiLevelSetting(50, 0.25, 0.125), MultiLevelSetting.Default);
        Assert.Equal(MultiLevelSetting.Default, new MultiLevelOptions().Setting);

        // The data of HandComputedExample, searched with the defaults: N = 50 re-ranks all 4 images, lambda = 0.25:
        //   id 0: 1/8 + 0 = 0.125; id 1: 2/8 + 0 = 0.25; id 2: 0/8 + 0.25 * 2/2 = 0.25; id 3: 3/8 + 0 = 0.375
        //   -> 0, 1, 2 (tie with 1, higher index), 3. (N = 100, lambda = 1 would put id 2 last, at 1.0.)
        var g = PackedCodes.FromBytes([0x01, 0x03, 0x00, 0x07], 8);
        var l = PackedCodes.FromBytes([0x00, 0x00, 0x03, 0x00], 8);
        var r = new MultiLevelSearch(g, l).Search(PackedCodes.FromBytes([0x00], 8), PackedCodes.FromBytes([0x00], 8), [BitMask.FromIndices(8, [0, 1])])[0];
        Assert.Equal(new[] { 0, 1, 2, 3 }, r.Ids);
        Assert.Equal(new[] { 0.125, 0.25, 0.25, 0.375 }, r.Scores);
        Assert.Equal(4, r.Reranked);
    }

    [Fact]
    public void HandComputedExample()
    {
        // Kg = 8, Kl = 8, selected local bits {0, 1} (L = 2), lambda = 1, N = 3 candidates.
        // global: q = 0x00; db = [0x01 (d=1), 0x03 (d=2), 0x00 (d=0), 0x07 (d=3)]
        // local:  q = 0x00; db = [0x00 (dsel=0), 0x00 (0), 0x03 (2), 0x00 (0)]
        // stage 1 order: 2 (0), 0 (1), 1 (2), 3 (3). Re-rank top 3:
        //   id 2: 0/8 + 2/2 = 1.0; id 0: 1/8 + 0 = 0.125; id 1: 2/8 + 0 = 0.25  -> 0, 1, 2; then 3 keeps its place.
        var g = PackedCodes.FromBytes([0x01, 0x03, 0x00, 0x07], 8);
        var l = PackedCodes.FromBytes([0x00, 0x00, 0x03, 0x00], 8);
        var search = new MultiLevelSearch(g, l);
        var r = search.Search(PackedCodes.FromBytes([0x00], 8), PackedCodes.FromBytes([0x00], 8),
            [BitMask.FromIndices(8, [0, 1])], new MultiLevelOptions { Setting = new MultiLevelSetting(Candidates: 3, Lambda: 1.0) })[0];
        Assert.Equal(new[] { 0, 1, 2, 3 }, r.Ids);
        Assert.Equal(new[] { 1, 2, 0, 3 }, r.GlobalDistances);
        Assert.Equal(new[] { 0, 0, 2, -1 }, r.SelectedDistances);
        Assert.Equal(new[] { 0.125, 0.25, 1.0 }, r.Scores[..3]);
        Assert.True(double.IsNaN(r.Scores[3]));
        Assert.Equal(3, r.Reranked);
    }

    [Fact]
    public void TiesInTheCombinedScoreGoToTheLowerIndex()
    {
        // Every image has the same global and local code: all scores tie, so the order is 0..n-1.
        var g = PackedCodes.FromBytes(Enumerable.Repeat((byte)0x5A, 6).ToArray(), 8);
        var l = PackedCodes.FromBytes(Enumerable.Repeat((byte)0xF0, 6).ToArray(), 8);
        var r = new MultiLevelSearch(g, l, SearchMethod.Mih).Search(PackedCodes.FromBytes([0x00], 8), PackedCodes.FromBytes([0x0F], 8),
            [BitMask.All(8)], new MultiLevelOptions { Setting = new MultiLevelSetting(Candidates: 4, Lambda: 0.5) })[0];
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5 }, r.Ids);
    }

    public static Arbitrary<Scenario> Scenarios() => ScenarioArbitrary.Scenarios();

    /// <summary>Against a direct implementation of the definition over the whole database.</summary>
    [Property(Arbitrary = [typeof(MultiLevelSearchTests)], MaxTest = 60)]
    public void EqualsTheDefinition(Scenario s)
    {
        var (global, gq) = s.Generate();
        var (local, lq) = (s with { Seed = s.Seed ^ 0x5555, Bits = 64 }).Generate();
        var rng = new Random(s.Seed);
        var masks = Enumerable.Range(0, s.Q).Select(_ => BitMask.FromIndices(64, Enumerable.Range(0, 64).Where(_ => rng.Next(3) == 0))).ToArray();
        double lambda = rng.Next(0, 5) / 2.0;
        int candidates = rng.Next(0, s.N + 3);
        int resultCount = rng.Next(0, 3) == 0 ? 0 : rng.Next(1, s.N + 3);
        var search = new MultiLevelSearch(Scenario.Pack(global, s.Bits), Scenario.Pack(local, 64), s.Kind == CodeKind.Random ? SearchMethod.Scan : SearchMethod.Mih);
        var ranks = search.Search(Scenario.Pack(gq, s.Bits), Scenario.Pack(lq, 64), masks,
            new MultiLevelOptions { Setting = new MultiLevelSetting(candidates, lambda), ResultCount = resultCount, Threads = 2 });
        for (int i = 0; i < s.Q; i++)
        {
            var stage1 = global.Select((c, id) => (Id: id, Dg: BruteForce.Distance(c, gq[i]))).OrderBy(x => x.Dg).ThenBy(x => x.Id).ToList();
            var mask = masks[i];
            int l = mask.Count;
            var head = stage1.Take(candidates).Select(x =>
            {
                int dsel = mask.Indices().Count(j => BitPacking.GetBit(local[x.Id], j) != BitPacking.GetBit(lq[i], j));
                return (x.Id, Score: x.Dg / (double)s.Bits + (l > 0 ? lambda * dsel / l : 0));
            }).OrderBy(x => x.Score).ThenBy(x => x.Id).Select(x => x.Id);
            var expected = head.Concat(stage1.Skip(candidates).Select(x => x.Id)).Take(resultCount <= 0 ? s.N : resultCount).ToArray();
            Assert.Equal(expected, ranks[i].Ids);
        }
    }
}
