using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;

namespace MultiLevelHashing.Tests.Search.Regions;

public class SpatialVerifierTests
{
    /// <summary>Region codes of one image at the given (column, row) cells of a 16 x 16 grid; region r's code is r + 1 (8 bits).</summary>
    private static RegionCodes At(params (int Column, int Row)[] cells) => new(8, 16, 16, [.. cells.Select((_, r) => (ulong)(r + 1))],
        [0, cells.Length], [.. cells.Select(c => new RegionPosition(c.Row, c.Column, 1))]);

    [Fact]
    public void RecoversAKnownSimilarityTransformAmongOutliers()
    {
        // Query cells p; database cells q = a p + b with a = 0.5 i (scale 1/2, a quarter turn), b = 8 + 2i, for six matches;
        // three more matches point at cells the transform does not reach.
        (int, int)[] p = [(0, 0), (4, 0), (0, 4), (4, 4), (2, 6), (6, 2), (1, 1), (3, 5), (5, 3)];
        var a = new Complex(0, 0.5);
        var b = new Complex(8, 2);
        var q = p.Take(6).Select(c => a * new Complex(c.Item1, c.Item2) + b).Select(z => ((int)z.Real, (int)z.Imaginary))
            .Concat([(15, 15), (0, 15), (15, 0)]).ToArray();
        var matches = Enumerable.Range(0, p.Length).Select(r => new RegionMatch(r, r, 0.5f)).ToArray();
        var v = new SpatialVerifier(Tolerance: 0.25, Model: GridTransformModel.Similarity).Verify(matches, At(p), 0, At(q), 0);
        Assert.Equal(6, v.Inliers);
        Assert.Equal(3.0, v.InlierWeight, 6);
        Assert.Equal(4.5, v.MatchWeight, 6);
        Assert.Equal(3.0 / 4.5, v.VerifiedShare, 6);
        // x' = a x + b with a = 0.5 i: column' = -0.5 row + 8, row' = 0.5 column + 2.
        var t = v.Transform!.Value;
        Assert.Equal((0.0, -0.5, 0.5, 0.0, 8.0, 2.0), (Math.Round(t.Xx, 9), Math.Round(t.Xy, 9), Math.Round(t.Yx, 9), Math.Round(t.Yy, 9), Math.Round(t.Tx, 9), Math.Round(t.Ty, 9)));
        Assert.Equal((0.5, 0.5), (Math.Round(t.Scales.Column, 9), Math.Round(t.Scales.Row, 9)));
        Assert.Equal([0, 1, 2, 3, 4, 5], v.InlierMatches.Select(m => m.QueryRegion));
        var (column, row) = t.Apply(4, 4);
        Assert.Equal((6.0, 4.0), (Math.Round(column, 9), Math.Round(row, 9)));
    }

    [Fact]
    public void RecoversAKnownAxisAlignedPlacementThatNoSimilarityFits()
    {
        // A query crop stretched to the square and a photo of another aspect: column' = 2 column + 3, row' = row / 2 + 4,
        // for five matches; two more matches point elsewhere.
        (int, int)[] p = [(0, 0), (2, 2), (4, 4), (1, 6), (5, 2), (3, 3), (6, 0)];
        var q = p.Take(5).Select(c => (2 * c.Item1 + 3, c.Item2 / 2 + 4)).Concat([(0, 15), (15, 0)]).ToArray();
        var matches = Enumerable.Range(0, p.Length).Select(r => new RegionMatch(r, r, 1f)).ToArray();
        var v = SpatialVerifier.Default.Verify(matches, At(p), 0, At(q), 0);
        Assert.Equal(5, v.Inliers);
        var t = v.Transform!.Value;
        Assert.Equal((2.0, 0.0, 0.0, 0.5, 3.0, 4.0), (t.Xx, t.Xy, t.Yx, t.Yy, t.Tx, t.Ty));
        Assert.Equal(5.0 / 7, v.VerifiedShare, 9);
        // One scale for both axes cannot place more than the pairs it is built from, within a quarter cell.
        Assert.True(new SpatialVerifier(Tolerance: 0.25, Model: GridTransformModel.Similarity).Verify(matches, At(p), 0, At(q), 0).Inliers < 5);
    }

    [Fact]
    public void MirroredAxisAlignedPlacementsAreRefused()
    {
        // column' = 15 - column: a mirror image, scale 1 along both axes but not a view of the same object.
        (int, int)[] p = [(0, 0), (2, 2), (4, 4), (6, 1)];
        var q = p.Select(c => (15 - c.Item1, c.Item2)).ToArray();
        var matches = Enumerable.Range(0, p.Length).Select(r => new RegionMatch(r, r, 1f)).ToArray();
        Assert.Equal(0, SpatialVerifier.Default.Verify(matches, At(p), 0, At(q), 0).Inliers);
    }

    [Fact]
    public void TransformsOutsideTheScaleRangeAndTooFewMatchesVerifyNothing()
    {
        // The database cells are the query cells scaled by 8 about the origin: refused when at most 4 is allowed.
        (int, int)[] p = [(0, 0), (1, 0), (0, 1), (1, 1)];
        (int, int)[] q = [(0, 0), (8, 0), (0, 8), (8, 8)];
        var matches = Enumerable.Range(0, 4).Select(r => new RegionMatch(r, r, 1f)).ToArray();
        Assert.Equal(0, new SpatialVerifier(MaxScale: 4).Verify(matches, At(p), 0, At(q), 0).Inliers);
        Assert.Equal(4, new SpatialVerifier(MaxScale: 8).Verify(matches, At(p), 0, At(q), 0).Inliers);
        var one = SpatialVerifier.Default.Verify(matches[..1], At(p), 0, At(q), 0);
        Assert.Equal((0, (GridTransform?)null, 1.0, 0.0), (one.Inliers, one.Transform, one.MatchWeight, one.VerifiedShare));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpatialVerifier(MinScale: 0).Verify(matches, At(p), 0, At(q), 0));
    }

    [Fact]
    public void QueryRegionsPiledOntoOneDatabaseRegionCountOnce()
    {
        // Query cells (0,0), (4,0), (0,1), (1,0); the first and the last two match database region 0 at (2,2), the second
        // region 1 at (6,2). The shift by (2,2) puts all four within one cell of their match, but on two database regions.
        var query = At((0, 0), (4, 0), (0, 1), (1, 0));
        var image = At((2, 2), (6, 2));
        RegionMatch[] matches = [new(0, 0, 0.5f), new(1, 1, 0.6f), new(2, 0, 0.9f), new(3, 0, 0.7f)];
        var v = new SpatialVerifier(Tolerance: 1, MinInliers: 2, Model: GridTransformModel.Similarity).Verify(matches, query, 0, image, 0);
        Assert.Equal(2, v.Inliers);
        Assert.Equal(0.9 + 0.6, v.InlierWeight, 5);
    }

    [Property(MaxTest = 40)]
    public Property MatchesAreEachQueryRegionsBestPositiveKernelValue(PositiveInt seed)
    {
        var database = RegionMatcherTests.RandomCodes(4, 16, 6, seed.Get);
        var queries = RegionMatcherTests.RandomCodes(2, 16, 6, seed.Get + 1);
        var kernel = new SelectiveKernel(3, 0.1);
        var table = kernel.Table(16);
        var matcher = new RegionMatcher(database, kernel);
        bool ok = true;
        for (int qi = 0; qi < queries.Count; qi++)
            for (int i = 0; i < database.Count; i++)
            {
                var expected = new List<RegionMatch>();
                for (int r = 0; r < queries.RegionCount(qi); r++)
                {
                    var values = Enumerable.Range(0, database.RegionCount(i))
                        .Select(s => table[(int)BitOperations.PopCount(queries.Codes(qi)[r] ^ database.Codes(i)[s])]).ToList();
                    if (values.Count > 0 && values.Max() > 0) expected.Add(new RegionMatch(r, values.IndexOf(values.Max()), values.Max()));
                }
                ok &= expected.SequenceEqual(matcher.Matches(queries, qi, i));
            }
        return ok.ToProperty();
    }

    [Fact]
    public void MajorityCodesTakeTheMajorityAndTiesKeepTheQuerysBit()
    {
        var queries = PackedCodes.FromBytes([0b0000_0011], 8);
        var database = PackedCodes.FromBytes([0b0000_0101, 0b0000_0110, 0b1000_0000], 8);
        // Three voters (query, 0, 1): bit 0 in 2, bit 1 in 2, bit 2 in 2 -> 0b111. Two voters (query, 2): bits 0, 1 tie
        // (query has them: kept), bit 7 ties (query lacks it: dropped).
        using var three = RegionSearch.MajorityCodes(queries, database, [[0, 1]]);
        Assert.Equal([0b0000_0111], three.CodeBytes(0));
        using var two = RegionSearch.MajorityCodes(queries, database, [[2]]);
        Assert.Equal([0b0000_0011], two.CodeBytes(0));
    }

    [Property(MaxTest = 25)]
    public Property ExpandedSearchEqualsBruteForce(PositiveInt seed, byte shortlist, byte expansion)
    {
        int n = 20, s = seed.Get, candidates = 1 + shortlist % 25, k = 1 + expansion % 4;
        var rng = new Random(s);
        float[] Bits(int count) => [.. Enumerable.Range(0, count * 16).Select(_ => rng.NextDouble() < 0.5 ? -1f : 1f)];
        var global = PackedCodes.FromReal(Bits(n), 16);
        var queryGlobal = PackedCodes.FromReal(Bits(3), 16);
        var regions = RegionMatcherTests.RandomCodes(n, 32, 4, s, minRegions: 1);
        var queryRegions = RegionMatcherTests.RandomCodes(3, 32, 4, s + 3, minRegions: 1);
        var search = new RegionSearch(global, regions);
        var first = search.Search(queryGlobal, queryRegions, candidates);
        var expanded = search.SearchExpanded(queryGlobal, queryRegions, candidates, k);
        bool ok = true;
        for (int q = 0; q < 3; q++)
        {
            var tops = first[q].Ids[..k];
            // The majority code bit by bit, ties to the query.
            var voters = tops.Select(id => global.CodeBytes(id)).Prepend(queryGlobal.CodeBytes(q)).ToList();
            var code = new float[16];
            for (int bit = 0; bit < 16; bit++)
            {
                int ones = voters.Count(v => (v[bit / 8] >> (bit % 8) & 1) == 1);
                bool queryBit = (voters[0][bit / 8] >> (bit % 8) & 1) == 1;
                code[bit] = 2 * ones > voters.Count || (2 * ones == voters.Count && queryBit) ? 1 : -1;
            }
            using var one = PackedCodes.FromReal(code, 16);
            var stage1 = LinearScan.Search(global, one, n).Ids.Row(0).ToArray();
            int head = Math.Min(candidates, n);
            double Score(int id) => (search.Matcher.Similarity(queryRegions, q, id) + tops.Sum(t => search.Matcher.Similarity(regions, t, id))) / (k + 1);
            var distances = stage1.Select(id => BitOperations.PopCount((uint)(global.CodeBytes(id)[0] | global.CodeBytes(id)[1] << 8) ^
                                                                      (uint)(one.CodeBytes(0)[0] | one.CodeBytes(0)[1] << 8))).ToArray();
            var expectedHead = stage1[..head].Select((id, j) => (Id: id, D: distances[j], S: Math.Round(Score(id), 9)))
                .OrderByDescending(x => x.S).ThenBy(x => x.D).ThenBy(x => x.Id).Select(x => x.Id);
            ok &= expanded[q].Ids.Take(head).SequenceEqual(expectedHead);
            ok &= expanded[q].Ids.Skip(head).SequenceEqual(stage1.Skip(head));
        }
        return ok.ToProperty();
    }

    [Fact]
    public void VerificationOrdersTheTopByTheRegionScoreOfConsistentMatchesAndLeavesTheRest()
    {
        // Query: four regions with codes 1..4 at the corners of a square. Image 0 has the same codes scattered (region
        // similarity 1, but no pair of its matches gives a placement with positive scales: verified score 0); image 1 the
        // same codes translated by (2, 3) (similarity 1, all four matches placed: verified score 1); image 2 has no regions.
        (int, int)[] square = [(1, 1), (3, 1), (1, 3), (3, 3)];
        var query = At(square);
        var database = new RegionCodes(8, 16, 16, [1UL, 2UL, 3UL, 4UL, 1UL, 2UL, 3UL, 4UL], [0, 4, 8, 8],
            [new(0, 9, 1), new(12, 2, 1), new(5, 5, 1), new(15, 0, 1), .. square.Select(c => new RegionPosition(c.Item2 + 3, c.Item1 + 2, 1))]);
        var search = new RegionSearch(PackedCodes.FromBytes([0, 0, 0], 8), database, new SelectiveKernel(1, 0));
        var before = new RegionRanking([0, 2, 1], [0, 0, 0], [0.9, 0.8, 0.7], 3);
        var verifier = new SpatialVerifier(Tolerance: 0.5, MinInliers: 4);
        Assert.Equal([1, 0, 2], search.Verify([before], query, verifier, 3)[0].Ids);
        Assert.Equal([0, 2, 1], search.Verify([before], query, verifier, 2)[0].Ids);
        Assert.Equal([1.0, 0.0, 0.0], search.Verify([before], query, verifier, 3)[0].RegionScores);
        Assert.Equal([0.0, 0.0, 0.7], search.Verify([before], query, verifier, 2)[0].RegionScores);
    }
}
