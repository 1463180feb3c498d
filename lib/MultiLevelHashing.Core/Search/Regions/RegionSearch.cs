namespace MultiLevelHashing.Search.Regions;

/// <summary>One query's ranking by <see cref="RegionSearch"/>: ids, the global Hamming distances, and the region similarity of the re-ranked head.</summary>
/// <param name="Ids">Database ids, best first.</param>
/// <param name="GlobalDistances">Hamming distance of each id's global code to the query's.</param>
/// <param name="RegionScores">Region similarity of each re-ranked id; NaN beyond the re-ranked head.</param>
/// <param name="Reranked">How many leading entries stage 2 ordered.</param>
public sealed record RegionRanking(int[] Ids, int[] GlobalDistances, double[] RegionScores, int Reranked);

/// <summary>
/// Multi-level search with region codes (lib/MultiLevelHashing/README.md section 2.7): stage 1 ranks the database by
/// Hamming distance on the global code (scan or multi-index hashing) and keeps the best N; stage 2 orders those N by
/// their region similarity to the query (<see cref="RegionMatcher"/>, ties by global distance, then id). The rest keep
/// stage-1 order. With N = database size it is the region codes alone, ordered exactly.
/// </summary>
public sealed class RegionSearch
{
    private readonly HammingIndex _stage1;

    /// <summary>A search over the global codes and region codes of the same images (image i of both is the same).</summary>
    public RegionSearch(PackedCodes global, RegionCodes regions, SelectiveKernel? kernel = null, SearchMethod stage1 = SearchMethod.Scan)
        : this(global, new RegionMatcher(regions, kernel), stage1)
    {
    }

    /// <summary>A search whose stage 2 is <paramref name="matcher"/>, so that engines with another stage 1 share its self-similarities.</summary>
    public RegionSearch(PackedCodes global, RegionMatcher matcher, SearchMethod stage1 = SearchMethod.Scan)
    {
        if (global.Count != matcher.Database.Count)
            throw new ArgumentException($"{global.Count} global codes but region codes of {matcher.Database.Count} images; both levels must describe the same images.");
        Global = global;
        Matcher = matcher;
        _stage1 = new HammingIndex(global, stage1);
        if (stage1 == SearchMethod.Mih) _stage1.Build();
    }

    /// <summary>Global codes.</summary>
    public PackedCodes Global { get; }

    /// <summary>The stage-2 matcher over the database's region codes.</summary>
    public RegionMatcher Matcher { get; }

    /// <summary>
    /// Ranks <paramref name="resultCount"/> ids (0: the whole database) per query, re-ranking the best
    /// <paramref name="candidates"/> of stage 1 by region similarity. Parallel over queries in stage 2.
    /// </summary>
    public RegionRanking[] Search(PackedCodes globalQueries, RegionCodes queryRegions, int candidates, int resultCount = 0, int threads = 0)
    {
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
        Parallel.For(0, q, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount }, i =>
        {
            var ids = stage1.Ids.Row(i).ToArray();
            var dg = stage1.Distances.Row(i).ToArray();
            var head = ids[..rerank].ToArray();
            var scores = Matcher.Similarities(queryRegions, i, head);
            var order = Enumerable.Range(0, rerank).ToArray();
            Array.Sort(order, (a, b) => scores[a] != scores[b] ? scores[b].CompareTo(scores[a])
                : dg[a] != dg[b] ? dg[a].CompareTo(dg[b]) : head[a].CompareTo(head[b]));
            var outIds = new int[length];
            var outDg = new int[length];
            var outScores = new double[length];
            for (int j = 0; j < length; j++)
            {
                if (j < rerank)
                {
                    int from = order[j];
                    (outIds[j], outDg[j], outScores[j]) = (head[from], dg[from], scores[from]);
                }
                else (outIds[j], outDg[j], outScores[j]) = (ids[j], dg[j], double.NaN);
            }
            result[i] = new RegionRanking(outIds, outDg, outScores, Math.Min(rerank, length));
        });
        return result;
    }
}
