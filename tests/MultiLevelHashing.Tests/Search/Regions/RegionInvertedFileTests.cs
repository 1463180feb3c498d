using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;

namespace MultiLevelHashing.Tests.Search.Regions;

/// <summary>The region-level inverted file and its vocabulary (lib/MultiLevelHashing/README.md section 2.8), against brute force.</summary>
public class RegionInvertedFileTests
{
    private static RegionCodes Codes(int images, int bits, int seed) => RegionMatcherTests.RandomCodes(images, bits, maxRegions: 6, seed, minRegions: 1);

    private static int Distance(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        int d = 0;
        for (int w = 0; w < a.Length; w++) d += BitOperations.PopCount(a[w] ^ b[w]);
        return d;
    }

    /// <summary>The images with a positive exact similarity, best first, ties by id: what an inverted file that visits every pair returns.</summary>
    private static (int[] Ids, double[] Scores) Exact(RegionMatcher matcher, RegionCodes queries, int query)
    {
        var all = Enumerable.Range(0, matcher.Database.Count).ToArray();
        var scores = matcher.Similarities(queries, query, all);
        var order = RegionMatcher.Order(all, scores).Where(i => scores[i] > 0).ToArray();
        return (order, [.. order.Select(i => scores[i])]);
    }

    [Property(MaxTest = 40)]
    public Property WithOneWordTheInvertedFileIsTheExactKernel(PositiveInt seed, bool allPairs)
    {
        int bits = 64;
        var database = Codes(30, bits, seed.Get);
        var queries = Codes(4, bits, seed.Get + 1);
        var kernel = new SelectiveKernel(3, 0.1, allPairs ? RegionAggregation.AllPairs : RegionAggregation.BestMatch);
        var matcher = new RegionMatcher(database, kernel);
        var file = new RegionInvertedFile(matcher, RegionVocabulary.FromCentroids(bits, [0xF0F0F0F0F0F0F0F0UL]));
        for (int q = 0; q < queries.Count; q++)
        {
            var (ids, scores) = file.Search(queries, q, database.Count);
            var (exactIds, exactScores) = Exact(matcher, queries, q);
            if (!ids.SequenceEqual(exactIds)) return false.Label($"query {q}: ids differ");
            for (int j = 0; j < ids.Length; j++)
                if (Math.Abs(scores[j] - exactScores[j]) > (allPairs ? 1e-6 : 0)) return false.Label($"query {q}, image {ids[j]}: {scores[j]} against {exactScores[j]}");
        }
        return true.ToProperty();
    }

    [Fact]
    public void ProbingEveryWordIsExactAndFewerProbesFindASubsetWithScoresNoHigher()
    {
        var database = Codes(60, 128, 5);
        var queries = Codes(6, 128, 6);
        var matcher = new RegionMatcher(database);
        var vocabulary = RegionVocabulary.Fit(database, 8, seed: 3);
        Assert.Equal(8, vocabulary.Count);
        var file = new RegionInvertedFile(matcher, vocabulary);
        Assert.Equal(database.TotalRegions, Enumerable.Range(0, 8).Sum(file.ListLength));
        for (int q = 0; q < queries.Count; q++)
        {
            var (ids, scores) = file.Search(queries, q, database.Count, probes: 8);
            var exact = Exact(matcher, queries, q);
            Assert.Equal(exact.Ids, ids);
            Assert.Equal(exact.Scores, scores);

            // One probe visits a subset of the pairs: every image it scores has at most its exact score.
            var (few, fewScores) = file.Search(queries, q, database.Count, probes: 1);
            var exactById = exact.Ids.Zip(exact.Scores).ToDictionary(p => p.First, p => p.Second);
            for (int j = 0; j < few.Length; j++) Assert.True(fewScores[j] <= exactById[few[j]] + 1e-12);
            // And the count cuts the ranking.
            var (top3, _) = file.Search(queries, q, 3, probes: 8);
            Assert.Equal(exact.Ids.Take(3), top3);
        }
    }

    [Property(MaxTest = 60)]
    public Property NearestWordsAreTheBruteForceOrder(PositiveInt seed, PositiveInt want)
    {
        var rng = new Random(seed.Get);
        int words = 1 + rng.Next(20), wpc = 2;
        var centroids = Enumerable.Range(0, words * wpc).Select(_ => (ulong)rng.NextInt64() & 0xFFFF_0000_FFFF_FFFFUL).ToArray();
        var vocabulary = RegionVocabulary.FromCentroids(128, centroids);
        var code = new[] { (ulong)rng.NextInt64(), (ulong)rng.NextInt64() };
        var expected = Enumerable.Range(0, words).OrderBy(w => Distance(code, vocabulary.Centroid(w))).ThenBy(w => w).Take(want.Get % 25).ToArray();
        var nearest = new int[want.Get % 25];
        int found = vocabulary.Nearest(code, nearest);
        bool one = words == 0 || vocabulary.Nearest(code) == Enumerable.Range(0, words).OrderBy(w => Distance(code, vocabulary.Centroid(w))).ThenBy(w => w).First();
        return (found == expected.Length && nearest[..found].SequenceEqual(expected) && one).ToProperty();
    }

    [Fact]
    public void FittingIsDeterministicAndEndsAtAFixedPointOfKMajority()
    {
        var codes = Codes(200, 64, 11);
        var first = RegionVocabulary.Fit(codes, 12, iterations: 100, seed: 4);
        var again = RegionVocabulary.Fit(codes, 12, iterations: 100, seed: 4);
        var other = RegionVocabulary.Fit(codes, 12, iterations: 100, seed: 5);
        var words = Enumerable.Range(0, 12);
        Assert.Equal(words.SelectMany(w => first.Centroid(w).ToArray()), words.SelectMany(w => again.Centroid(w).ToArray()));
        Assert.NotEqual(words.SelectMany(w => first.Centroid(w).ToArray()), words.SelectMany(w => other.Centroid(w).ToArray()));

        // Converged: every centroid is the bitwise majority of the codes nearest to it (a tied bit may go either way).
        var members = words.ToDictionary(w => w, _ => new List<ulong>());
        for (int r = 0; r < codes.TotalRegions; r++)
        {
            var code = codes.AllCodes.Slice(r, 1);
            members[first.Nearest(code)].Add(code[0]);
        }
        foreach (var (word, list) in members)
        {
            if (list.Count == 0) continue;
            for (int b = 0; b < 64; b++)
            {
                int ones = list.Count(c => ((c >> b) & 1) == 1);
                bool bit = ((first.Centroid(word)[0] >> b) & 1) == 1;
                if (2 * ones > list.Count) Assert.True(bit, $"word {word}, bit {b}");
                if (2 * ones < list.Count) Assert.False(bit, $"word {word}, bit {b}");
            }
        }
    }

    [Fact]
    public void FewerDistinctCodesThanWordsGiveFewerWordsAndBadInputIsRefused()
    {
        var codes = new RegionCodes(64, 1, 2, [7UL, 7UL, 9UL], [0, 2, 3], [new(0, 0, 1), new(0, 1, 1), new(0, 0, 1)]);
        Assert.Equal(2, RegionVocabulary.Fit(codes, 5).Count);
        Assert.Throws<ArgumentException>(() => RegionVocabulary.FromCentroids(128, [1UL]));
        var matcher = new RegionMatcher(codes);
        Assert.Throws<ArgumentException>(() => new RegionInvertedFile(matcher, RegionVocabulary.FromCentroids(128, [1UL, 2UL])));
    }

    [Property(MaxTest = 30)]
    public Property TheUnionShortlistHoldsBothSourcesAndIsOrderedByTheExactKernel(PositiveInt seed)
    {
        int n = 40, rerank = 5, inverted = 6;
        var database = Codes(n, 64, seed.Get);
        var queries = Codes(3, 64, seed.Get + 7);
        var rng = new Random(seed.Get);
        var global = new PackedCodes(32);
        for (int i = 0; i < n; i++) global.AppendWords([(ulong)rng.Next() & 0xFFFF_FFFFUL]);
        var globalQueries = new PackedCodes(32);
        for (int i = 0; i < queries.Count; i++) globalQueries.AppendWords([(ulong)rng.Next() & 0xFFFF_FFFFUL]);
        var matcher = new RegionMatcher(database);
        var file = new RegionInvertedFile(matcher, RegionVocabulary.Fit(database, 4, seed: seed.Get));
        var search = new RegionSearch(global, matcher, invertedFile: file);
        var plain = search.Search(globalQueries, queries, rerank);
        var union = search.Search(globalQueries, queries, rerank, invertedCandidates: inverted, probes: 2);
        for (int q = 0; q < queries.Count; q++)
        {
            var r = union[q];
            var shortlist = r.Ids[..r.Reranked];
            var fromGlobal = plain[q].Ids.Take(rerank).ToHashSet(); // the plain search's head holds the global top 5
            var fromFile = file.Search(queries, q, inverted, 2).Ids;
            var expected = fromGlobal.Union(fromFile).ToHashSet();
            if (!shortlist.ToHashSet().SetEquals(expected)) return false.Label($"query {q}: shortlist {string.Join(",", shortlist)}");
            if (!r.Ids.OrderBy(i => i).SequenceEqual(Enumerable.Range(0, n))) return false.Label($"query {q}: not a permutation");
            var exact = matcher.Similarities(queries, q, shortlist);
            for (int j = 0; j < shortlist.Length; j++)
            {
                if (exact[j] != r.RegionScores[j]) return false.Label($"query {q}: score {j}");
                if (j > 0 && exact[j] > exact[j - 1]) return false.Label($"query {q}: order at {j}");
                if (r.GlobalDistances[j] != Distance(globalQueries.Code(q), global.Code(shortlist[j]))) return false.Label($"query {q}: global distance {j}");
            }
            // Beyond the shortlist, the global order of the rest.
            var rest = r.Ids[r.Reranked..];
            var globalOrder = plain[q].Ids.Skip(rerank).Where(i => !expected.Contains(i)).ToArray();
            if (!rest.SequenceEqual(globalOrder)) return false.Label($"query {q}: rest");
        }
        return true.ToProperty();
    }
}
