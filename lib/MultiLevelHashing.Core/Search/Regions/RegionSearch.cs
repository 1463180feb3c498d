namespace MultiLevelHashing.Search.Regions;

/// <summary>One query's ranking by <see cref="RegionSearch"/>: ids, the global Hamming distances, and the region similarity of the re-ranked head.</summary>
/// <param name="Ids">Database ids, best first.</param>
/// <param name="GlobalDistances">Hamming distance of each id's global code to the query's.</param>
/// <param name="RegionScores">Region similarity of each re-ranked id; NaN beyond the re-ranked head.</param>
/// <param name="Reranked">How many leading entries stage 2 ordered.</param>
public sealed record RegionRanking(int[] Ids, int[] GlobalDistances, double[] RegionScores, int Reranked);

/// <summary>
/// Multi-level search with region codes (lib/MultiLevelHashing/README.md section 2.8): stage 1 ranks the database by
/// Hamming distance on the global code (scan or multi-index hashing) and keeps the best N; stage 2 orders those N by
/// their region similarity to the query (<see cref="RegionMatcher"/>, ties by global distance, then id). The rest keep
/// stage-1 order. With N = database size it is the region codes alone, ordered exactly.
/// </summary>
public sealed class RegionSearch
{
    /// <summary>Stage-1 candidates stage 2 re-ranks by default: 500, the shortlist of the tables' best multi-level row.</summary>
    public const int DefaultCandidates = 500;

    private readonly HammingIndex _stage1;

    /// <summary>A search over the global codes and region codes of the same images (image i of both is the same).</summary>
    public RegionSearch(PackedCodes global, RegionCodes regions, SelectiveKernel? kernel = null, SearchMethod stage1 = SearchMethod.Scan)
        : this(global, new RegionMatcher(regions, kernel), stage1)
    {
    }

    /// <summary>
    /// A search whose stage 2 is <paramref name="matcher"/>, so that engines with another stage 1 share its
    /// self-similarities; with <paramref name="invertedFile"/> (built on the same matcher) stage 1 may also take the
    /// images the region-level inverted file ranks best (<see cref="Search"/>'s <c>invertedCandidates</c>).
    /// </summary>
    public RegionSearch(PackedCodes global, RegionMatcher matcher, SearchMethod stage1 = SearchMethod.Scan, RegionInvertedFile? invertedFile = null)
    {
        if (global.Count != matcher.Database.Count)
            throw new ArgumentException($"{global.Count} global codes but region codes of {matcher.Database.Count} images; both levels must describe the same images.");
        if (invertedFile is not null && !ReferenceEquals(invertedFile.Matcher, matcher))
            throw new ArgumentException("the inverted file must be built on the search's own matcher", nameof(invertedFile));
        Global = global;
        Matcher = matcher;
        InvertedFile = invertedFile;
        _stage1 = new HammingIndex(global, stage1);
        if (stage1 == SearchMethod.Mih) _stage1.Build();
    }

    /// <summary>
    /// The search <c>mlh benchmark --regions</c> and <c>mlh query --regions</c> run: a matcher over
    /// <paramref name="regions"/> and, with <paramref name="vocabulary"/>, the region-level inverted file built on it with
    /// those words, so that <see cref="Search"/>'s <c>invertedCandidates</c> may add its images to the global shortlist.
    /// </summary>
    public static RegionSearch Create(PackedCodes global, RegionCodes regions, SelectiveKernel? kernel = null, RegionVocabulary? vocabulary = null,
        SearchMethod stage1 = SearchMethod.Scan)
    {
        var matcher = new RegionMatcher(regions, kernel);
        return new RegionSearch(global, matcher, stage1, vocabulary is null ? null : new RegionInvertedFile(matcher, vocabulary));
    }

    /// <summary>Global codes.</summary>
    public PackedCodes Global { get; }

    /// <summary>The stage-2 matcher over the database's region codes.</summary>
    public RegionMatcher Matcher { get; }

    /// <summary>The region-level inverted file, the second stage-1 source; null when stage 1 is the global code only.</summary>
    public RegionInvertedFile? InvertedFile { get; }

    /// <summary>
    /// Ranks <paramref name="resultCount"/> ids (0: the whole database) per query, re-ranking the best
    /// <paramref name="candidates"/> of stage 1 by region similarity. Parallel over queries in stage 2. With
    /// <paramref name="invertedCandidates"/> &gt; 0 (and an <see cref="InvertedFile"/>), the shortlist is the union of the
    /// global code's best <paramref name="candidates"/> and the inverted file's best <paramref name="invertedCandidates"/>
    /// (query regions assigned to their <paramref name="probes"/> nearest words), so that a relevant image the global code
    /// ranks far down can still be re-ranked; images only the inverted file found come after the global shortlist
    /// before stage 2 orders them all, and leave the rest of the global order.
    /// </summary>
    public RegionRanking[] Search(PackedCodes globalQueries, RegionCodes queryRegions, int candidates, int resultCount = 0, int threads = 0,
        int invertedCandidates = 0, int probes = 4)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(invertedCandidates);
        if (invertedCandidates > 0 && InvertedFile is null)
            throw new InvalidOperationException("inverted-file candidates asked of a search built without a region-level inverted file");
        if (globalQueries.Count != queryRegions.Count)
            throw new ArgumentException($"{globalQueries.Count} global query codes but region codes of {queryRegions.Count} queries.");
        if (globalQueries.Bits != Global.Bits)
            throw new ArgumentException($"global query codes have {globalQueries.Bits} bits, the database's {Global.Bits}.");
        ArgumentOutOfRangeException.ThrowIfNegative(candidates);
        int n = Global.Count, q = globalQueries.Count;
        if (n == 0) return [.. Enumerable.Range(0, q).Select(_ => new RegionRanking([], [], [], 0))];
        int length = resultCount <= 0 ? n : Math.Min(resultCount, n);
        int rerank = Math.Min(candidates, n);
        int k = Math.Max(length, rerank);
        var stage1 = _stage1.Search(globalQueries, k, new SearchOptions(threads));
        var result = new RegionRanking[q];
        Parallel.For(0, q, Parallelism(threads), i =>
        {
            var ids = stage1.Ids.Row(i).ToArray();
            var distances = stage1.Distances.Row(i).ToArray();
            int head = rerank;
            if (invertedCandidates > 0)
                (ids, distances, head) = WithInvertedCandidates(ids, distances, rerank, InvertedFile!.Search(queryRegions, i, invertedCandidates, probes).Ids,
                    globalQueries.Code(i));
            result[i] = Rerank(ids, distances, Matcher.Similarities(queryRegions, i, ids.AsSpan(0, head)), length);
        });
        return result;
    }

    /// <summary>
    /// Stage 1's ranking with the inverted file's images inserted after the global shortlist (those not in it already),
    /// and removed from the rest; returns the new shortlist length.
    /// </summary>
    private (int[] Ids, int[] Distances, int Head) WithInvertedCandidates(int[] ids, int[] distances, int shortlist, int[] found, ReadOnlySpan<ulong> query)
    {
        var inShortlist = new HashSet<int>(ids.AsSpan(0, shortlist).ToArray());
        var extra = found.Where(inShortlist.Add).ToList();
        if (extra.Count == 0) return (ids, distances, shortlist);
        var extraSet = extra.ToHashSet();
        var outIds = new List<int>(ids.Length + extra.Count);
        var outDistances = new List<int>(ids.Length + extra.Count);
        for (int j = 0; j < shortlist; j++) { outIds.Add(ids[j]); outDistances.Add(distances[j]); }
        foreach (int id in extra)
        {
            outIds.Add(id);
            outDistances.Add(BitPacking.Hamming(Global.Code(id), query));
        }
        for (int j = shortlist; j < ids.Length; j++)
            if (!extraSet.Contains(ids[j])) { outIds.Add(ids[j]); outDistances.Add(distances[j]); }
        return ([.. outIds], [.. outDistances], shortlist + extra.Count);
    }

    /// <summary>
    /// Average query expansion in Hamming space (Chum et al. 2007 made binary; lib/MultiLevelHashing/README.md section
    /// 2.8): a first <see cref="Search"/> gives each query's top <paramref name="expansion"/> images; the expanded global
    /// code is the bitwise majority of the query's code and theirs (ties keep the query's bit), which stage 1 searches
    /// again; stage 2 scores each candidate by the mean of its region similarity to the query and to those images.
    /// </summary>
    public RegionRanking[] SearchExpanded(PackedCodes globalQueries, RegionCodes queryRegions, int candidates, int expansion, int resultCount = 0, int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(expansion, 1);
        var first = Search(globalQueries, queryRegions, candidates, Math.Max(expansion, 1), threads);
        int n = Global.Count, q = globalQueries.Count;
        if (n == 0) return first;
        var tops = first.Select(r => r.Ids[..Math.Min(expansion, r.Ids.Length)]).ToArray();
        using var expanded = MajorityCodes(globalQueries, Global, tops);
        int length = resultCount <= 0 ? n : Math.Min(resultCount, n);
        int rerank = Math.Min(candidates, n);
        var stage1 = _stage1.Search(expanded, Math.Max(length, rerank), new SearchOptions(threads));
        var result = new RegionRanking[q];
        Parallel.For(0, q, Parallelism(threads), i =>
        {
            var ids = stage1.Ids.Row(i).ToArray();
            var head = ids.AsSpan(0, rerank);
            var scores = Matcher.Similarities(queryRegions, i, head);
            foreach (int top in tops[i])
            {
                var more = Matcher.Similarities(Matcher.Database, top, head);
                for (int j = 0; j < scores.Length; j++) scores[j] += more[j];
            }
            for (int j = 0; j < scores.Length; j++) scores[j] /= tops[i].Length + 1;
            result[i] = Rerank(ids, stage1.Distances.Row(i).ToArray(), scores, length);
        });
        return result;
    }

    /// <summary>
    /// Spatial verification of each ranking's top <paramref name="depth"/> (<see cref="SpatialVerifier"/>): each image of
    /// the top is scored by its region similarity counted over the consistently placed matches only (the similarity times
    /// <see cref="Verification.VerifiedShare"/>), and the top is ordered by that score (ties keep their order); the rest of
    /// the ranking is unchanged. The returned region scores of the top are the verified scores. Ordering by the number of
    /// inliers instead, as Philbin et al. do with local features, throws away how close the matched codes are; with 49
    /// coarse cells per image it also rewards chance placements.
    /// </summary>
    public RegionRanking[] Verify(IReadOnlyList<RegionRanking> rankings, RegionCodes queryRegions, SpatialVerifier verifier, int depth, int threads = 0)
    {
        if (rankings.Count != queryRegions.Count)
            throw new ArgumentException($"{rankings.Count} rankings but region codes of {queryRegions.Count} queries.");
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        var result = new RegionRanking[rankings.Count];
        Parallel.For(0, rankings.Count, Parallelism(threads), i =>
        {
            var r = rankings[i];
            int top = Math.Min(depth, r.Ids.Length);
            var verified = new double[top];
            var similarities = Matcher.Similarities(queryRegions, i, r.Ids.AsSpan(0, top));
            for (int j = 0; j < top; j++)
            {
                var v = verifier.Verify(Matcher.Matches(queryRegions, i, r.Ids[j]), queryRegions, i, Matcher.Database, r.Ids[j]);
                verified[j] = similarities[j] * v.VerifiedShare;
            }
            var order = Enumerable.Range(0, r.Ids.Length).ToArray();
            Array.Sort(order, 0, top, Comparer<int>.Create((a, b) => verified[a] != verified[b] ? verified[b].CompareTo(verified[a]) : a.CompareTo(b)));
            result[i] = new RegionRanking([.. order.Select(j => r.Ids[j])], [.. order.Select(j => r.GlobalDistances[j])],
                [.. order.Select((j, rank) => rank < top ? verified[j] : r.RegionScores[j])], Math.Max(r.Reranked, top));
        });
        return result;
    }

    /// <summary>
    /// The bitwise majority of each query's code and the codes of its images <paramref name="tops"/>; where the votes tie
    /// (an even number of voters), the query's bit.
    /// </summary>
    public static PackedCodes MajorityCodes(PackedCodes queries, PackedCodes database, IReadOnlyList<int[]> tops)
    {
        if (queries.Bits != database.Bits) throw new ArgumentException($"query codes have {queries.Bits} bits, the database's {database.Bits}.");
        if (tops.Count != queries.Count) throw new ArgumentException($"{tops.Count} expansion lists for {queries.Count} queries.");
        int bits = queries.Bits, words = queries.WordsPerCode;
        var result = new PackedCodes(bits, queries.Count);
        var votes = new int[bits];
        var code = new ulong[words];
        for (int i = 0; i < queries.Count; i++)
        {
            Array.Clear(votes);
            var query = queries.Code(i);
            Count(query, votes, bits);
            foreach (int id in tops[i]) Count(database.Code(id), votes, bits);
            int voters = tops[i].Length + 1;
            Array.Clear(code);
            for (int b = 0; b < bits; b++)
            {
                bool queryBit = ((query[b >> 6] >> (b & 63)) & 1) != 0;
                bool one = 2 * votes[b] > voters || (2 * votes[b] == voters && queryBit);
                if (one) code[b >> 6] |= 1UL << (b & 63);
            }
            result.AppendWords(code);
        }
        return result;
    }

    private static void Count(ReadOnlySpan<ulong> code, int[] votes, int bits)
    {
        for (int b = 0; b < bits; b++) votes[b] += (int)((code[b >> 6] >> (b & 63)) & 1);
    }

    private static ParallelOptions Parallelism(int threads) => new() { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };

    /// <summary>
    /// One query's ranking: the first <c>scores.Length</c> stage-1 ids ordered by descending score (ties by global
    /// distance, then id), the rest in stage-1 order, cut to <paramref name="length"/>.
    /// </summary>
    private static RegionRanking Rerank(int[] ids, int[] dg, double[] scores, int length)
    {
        int rerank = scores.Length;
        var order = Enumerable.Range(0, rerank).ToArray();
        Array.Sort(order, (a, b) => scores[a] != scores[b] ? scores[b].CompareTo(scores[a])
            : dg[a] != dg[b] ? dg[a].CompareTo(dg[b]) : ids[a].CompareTo(ids[b]));
        var outIds = new int[length];
        var outDg = new int[length];
        var outScores = new double[length];
        for (int j = 0; j < length; j++)
        {
            if (j < rerank)
            {
                int from = order[j];
                (outIds[j], outDg[j], outScores[j]) = (ids[from], dg[from], scores[from]);
            }
            else (outIds[j], outDg[j], outScores[j]) = (ids[j], dg[j], double.NaN);
        }
        return new RegionRanking(outIds, outDg, outScores, Math.Min(rerank, length));
    }
}
