using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;

namespace MultiLevelHashing.Tests.Search.Regions;

public class RegionMatcherTests
{
    /// <summary>Random region codes: image i gets between 0 and <paramref name="maxRegions"/> regions on a 4 x 4 grid.</summary>
    internal static RegionCodes RandomCodes(int images, int bits, int maxRegions, int seed, int minRegions = 0)
    {
        var rng = new Random(seed);
        var offsets = new int[images + 1];
        for (int i = 0; i < images; i++) offsets[i + 1] = offsets[i] + rng.Next(minRegions, maxRegions + 1);
        int total = offsets[^1];
        var real = new float[total * bits];
        for (int j = 0; j < real.Length; j++) real[j] = rng.NextDouble() < 0.5 ? -1 : 1;
        var positions = Enumerable.Range(0, total).Select(_ => new RegionPosition(rng.Next(4), rng.Next(4), (float)rng.NextDouble())).ToArray();
        return RegionCodes.FromReal(real, bits, 4, 4, offsets, positions);
    }

    /// <summary>The kernel computed the slow way: bits unpacked to +-1, u as the mean product, sigma and the sums in double.</summary>
    private static double BruteForce(RegionCodes q, int qi, RegionCodes d, int di, SelectiveKernel k)
    {
        double Raw(RegionCodes a, int ai, RegionCodes b, int bi)
        {
            double total = 0;
            for (int r = 0; r < a.RegionCount(ai); r++)
            {
                var values = new List<double>();
                for (int s = 0; s < b.RegionCount(bi); s++)
                {
                    double dot = 0;
                    for (int bit = 0; bit < a.Bits; bit++)
                        dot += Sign(a, ai, r, bit) * Sign(b, bi, s, bit);
                    double u = dot / a.Bits;
                    values.Add(u > k.Threshold ? Math.Sign(u) * Math.Pow(Math.Abs(u), k.Exponent) : 0);
                }
                total += values.Count == 0 ? 0 : k.Aggregation == RegionAggregation.BestMatch ? values.Max() : values.Sum();
            }
            return total;
        }
        double self = Raw(q, qi, q, qi), other = Raw(d, di, d, di);
        return self > 0 && other > 0 ? Raw(q, qi, d, di) / Math.Sqrt(self * other) : 0;
    }

    private static int Sign(RegionCodes codes, int image, int region, int bit)
    {
        ulong word = codes.Codes(image)[region * codes.WordsPerCode + bit / 64];
        return ((word >> (bit % 64)) & 1) == 1 ? 1 : -1;
    }

    [Fact]
    public void HandComputedBestMatchAndAllPairs()
    {
        // 8-bit codes. Query: one region 0x00. Database image: regions 0x01 (h = 1) and 0x0F (h = 4).
        // u = 1 - 2h/8: 0.75 and 0.0. With alpha = 3, tau = 0: sigma = 0.421875 and 0 (u not above tau).
        // Self-similarities: query 1 (its one region, h = 0); image: best match 1 + 1 = 2;
        // all pairs 1 + 1 + 2 * sigma(u = 1 - 2*3/8 = 0.25) = 2 + 2 * 0.015625 = 2.03125.
        var query = new RegionCodes(8, 1, 2, [0x00UL], [0, 1], [new(0, 0, 1)]);
        var database = new RegionCodes(8, 1, 2, [0x01UL, 0x0FUL], [0, 2], [new(0, 0, 1), new(0, 1, 1)]);
        var best = new RegionMatcher(database, new SelectiveKernel(3, 0, RegionAggregation.BestMatch));
        Assert.Equal(0.421875 / Math.Sqrt(2), best.Similarity(query, 0, 0), 12);
        var pairs = new RegionMatcher(database, new SelectiveKernel(3, 0, RegionAggregation.AllPairs));
        Assert.Equal(0.421875 / Math.Sqrt(2.03125), pairs.Similarity(query, 0, 0), 12);
    }

    [Fact]
    public void KernelTableIsMonotoneAndZeroAtAndBelowTheThreshold()
    {
        var table = new SelectiveKernel(3, 0.25).Table(64);
        Assert.Equal(1f, table[0]);
        for (int h = 1; h < table.Length; h++) Assert.True(table[h] <= table[h - 1]);
        // u = 1 - 2h/64 <= 0.25 from h = 24 on.
        Assert.True(table[23] > 0);
        Assert.All(table[24..], v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SelectiveKernel(0, 0).Table(8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SelectiveKernel(3, 1).Table(8));
    }

    [Property(MaxTest = 60)]
    public Property SimilarityEqualsBruteForce(PositiveInt seed, bool allPairs, byte thresholdTenths, byte exponent)
    {
        int s = seed.Get;
        int bits = new[] { 8, 64, 72, 256 }[s % 4];
        var kernel = new SelectiveKernel(1 + exponent % 4, (thresholdTenths % 10) / 10.0 - 0.3,
            allPairs ? RegionAggregation.AllPairs : RegionAggregation.BestMatch);
        var database = RandomCodes(6, bits, 5, s);
        var queries = RandomCodes(3, bits, 5, s + 1);
        var matcher = new RegionMatcher(database, kernel);
        bool ok = true;
        for (int q = 0; q < queries.Count; q++)
            for (int i = 0; i < database.Count; i++)
                ok &= Math.Abs(matcher.Similarity(queries, q, i) - BruteForce(queries, q, database, i, kernel)) < 1e-5;
        return ok.Label($"bits {bits}, {kernel}");
    }

    [Property(MaxTest = 30)]
    public Property RankAllSortsByBruteForceSimilarityThenId(PositiveInt seed)
    {
        var database = RandomCodes(20, 32, 4, seed.Get);
        var queries = RandomCodes(4, 32, 4, seed.Get + 7);
        var kernel = SelectiveKernel.Default;
        var ranked = new RegionMatcher(database, kernel).RankAll(queries);
        bool ok = true;
        for (int q = 0; q < queries.Count; q++)
        {
            var expected = Enumerable.Range(0, database.Count)
                .Select(i => (Id: i, Score: Math.Round(BruteForce(queries, q, database, i, kernel), 9)))
                .OrderByDescending(x => x.Score).ThenBy(x => x.Id).Select(x => x.Id);
            ok &= expected.SequenceEqual(ranked[q]);
        }
        return ok.ToProperty();
    }

    [Fact]
    public void MismatchedCodeLengthsAreRefusedWithBothLengths()
    {
        var matcher = new RegionMatcher(RandomCodes(2, 64, 3, 1));
        var e = Assert.Throws<ArgumentException>(() => matcher.RankAll(RandomCodes(1, 32, 3, 2)));
        Assert.Contains("32", e.Message);
        Assert.Contains("64", e.Message);
    }

    [Fact]
    public void AnImageWithoutRegionsScoresZero()
    {
        var database = new RegionCodes(8, 1, 1, [0x00UL], [0, 0, 1], [new(0, 0, 1)]);
        var query = new RegionCodes(8, 1, 1, [0x00UL], [0, 1], [new(0, 0, 1)]);
        var matcher = new RegionMatcher(database);
        Assert.Equal(0, matcher.Similarity(query, 0, 0));
        Assert.Equal(1, matcher.Similarity(query, 0, 1), 12);
    }
}

public class RegionCodesTests
{
    [Fact]
    public void FromRealPacksPositiveValuesLsbFirst()
    {
        // Two images: the first with 1 region, the second with 2; 8 bits each.
        float[] real = [1, -1, -1, -1, -1, -1, -1, 1, /* 0x81 */ -1, 1, -1, -1, -1, -1, -1, -1, /* 0x02 */ 0, 0, 1, 1, -1, -1, -1, -1 /* 0x0C */];
        var codes = RegionCodes.FromReal(real, 8, 2, 2, [0, 1, 3], [new(0, 0, 1), new(0, 1, 2), new(1, 1, 3)]);
        Assert.Equal(2, codes.Count);
        Assert.Equal(3, codes.TotalRegions);
        Assert.Equal([0x81UL], codes.Codes(0).ToArray());
        Assert.Equal([0x02UL, 0x0CUL], codes.Codes(1).ToArray());
        Assert.Equal(new RegionPosition(1, 1, 3), codes.Positions(1)[1]);
        Assert.Equal(1.5 * (1 + 1), codes.BytesPerImage);
    }

    [Fact]
    public void StrongestKeepsTheHighestStrengthsAndRandomIsSeeded()
    {
        var codes = new RegionCodes(8, 2, 2, [1UL, 2UL, 3UL, 4UL], [0, 4],
            [new(0, 0, 0.5f), new(0, 1, 2f), new(1, 0, 1f), new(1, 1, 3f)]);
        var strongest = codes.Strongest(2);
        Assert.Equal([4UL, 2UL], strongest.Codes(0).ToArray());
        Assert.Equal(2, codes.Random(2, 5).RegionCount(0));
        Assert.Equal(codes.Random(2, 5).Codes(0).ToArray(), codes.Random(2, 5).Codes(0).ToArray());
        Assert.Equal(4, codes.Strongest(10).RegionCount(0));
    }

    [Fact]
    public void RandomRegionsAreTheSameInEveryProcess()
    {
        // Pinned: a draw seeded through a per-process hash passes an in-process comparison and changes from run to run.
        var positions = Enumerable.Range(0, 3 * 10).Select(r => new RegionPosition(r % 10 / 5, r % 5, 1)).ToArray();
        var codes = new RegionCodes(8, 2, 5, [.. Enumerable.Range(0, 30).Select(r => (ulong)(r % 10))], [0, 10, 20, 30], positions);
        var drawn = codes.Random(3, 11);
        Assert.Equal(PinnedDraw, Enumerable.Range(0, 3).Select(i => string.Join(",", drawn.Codes(i).ToArray())).ToArray());
    }

    private static readonly string[] PinnedDraw = ["5,6,9", "0,7,9", "4,6,7"];

    [Fact]
    public void PositionsOutsideTheGridAndBadOffsetsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new RegionCodes(8, 2, 2, [1UL], [0, 1], [new(2, 0, 1)]));
        Assert.Throws<ArgumentException>(() => new RegionCodes(8, 2, 2, [1UL], [1, 1], [new(0, 0, 1)]));
        Assert.Throws<ArgumentException>(() => new RegionCodes(8, 2, 2, [1UL, 2UL], [0, 1], [new(0, 0, 1)]));
    }
}

public class RegionSearchTests
{
    [Property(MaxTest = 30)]
    public Property HeadIsReRankedByRegionSimilarityAndTailKeepsStageOneOrder(PositiveInt seed, byte candidates)
    {
        int n = 25, s = seed.Get, shortlist = candidates % 30;
        var rng = new Random(s);
        var global = PackedCodes.FromReal([.. Enumerable.Range(0, n * 16).Select(_ => rng.NextDouble() < 0.5 ? -1f : 1f)], 16);
        var queryGlobal = PackedCodes.FromReal([.. Enumerable.Range(0, 3 * 16).Select(_ => rng.NextDouble() < 0.5 ? -1f : 1f)], 16);
        var regions = RegionMatcherTests.RandomCodes(n, 32, 4, s, minRegions: 1);
        var queryRegions = RegionMatcherTests.RandomCodes(3, 32, 4, s + 3, minRegions: 1);
        var search = new RegionSearch(global, regions);
        var result = search.Search(queryGlobal, queryRegions, shortlist);
        var stage1 = LinearScan.Search(global, queryGlobal, n);
        bool ok = true;
        for (int q = 0; q < 3; q++)
        {
            int head = Math.Min(shortlist, n);
            var stageIds = stage1.Ids.Row(q).ToArray();
            var stageDistances = stage1.Distances.Row(q).ToArray();
            // Brute force: the first N of stage 1, ordered by similarity (desc), global distance, id.
            var expectedHead = stageIds[..head].Select((id, j) => (Id: id, D: stageDistances[j], S: search.Matcher.Similarity(queryRegions, q, id)))
                .OrderByDescending(x => x.S).ThenBy(x => x.D).ThenBy(x => x.Id).Select(x => x.Id);
            ok &= result[q].Ids.Take(head).SequenceEqual(expectedHead);
            ok &= result[q].Ids.Skip(head).SequenceEqual(stageIds.Skip(head));
            ok &= result[q].Ids.Length == n && result[q].Reranked == head;
        }
        return ok.ToProperty();
    }

    [Fact]
    public void MultiIndexStageOneGivesTheSameRanking()
    {
        var rng = new Random(3);
        var global = PackedCodes.FromReal([.. Enumerable.Range(0, 200 * 32).Select(_ => rng.NextDouble() < 0.5 ? -1f : 1f)], 32);
        var queries = PackedCodes.FromReal([.. Enumerable.Range(0, 5 * 32).Select(_ => rng.NextDouble() < 0.5 ? -1f : 1f)], 32);
        var regions = RegionMatcherTests.RandomCodes(200, 64, 3, 4, minRegions: 1);
        var queryRegions = RegionMatcherTests.RandomCodes(5, 64, 3, 5, minRegions: 1);
        var scan = new RegionSearch(global, regions).Search(queries, queryRegions, 40, 60);
        var mih = new RegionSearch(global, regions, stage1: SearchMethod.Mih).Search(queries, queryRegions, 40, 60);
        for (int q = 0; q < 5; q++) Assert.Equal(scan[q].Ids, mih[q].Ids);
    }

    [Fact]
    public void ImagesMustMatchBetweenLevels()
    {
        var global = PackedCodes.FromReal(new float[3 * 8], 8);
        var e = Assert.Throws<ArgumentException>(() => new RegionSearch(global, RegionMatcherTests.RandomCodes(2, 8, 2, 1)));
        Assert.Contains("3 global codes", e.Message);
    }
}
