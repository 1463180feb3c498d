namespace MultiLevelHashing.Search;

/// <summary>
/// Result of a k-nearest-neighbour Hamming search for Q queries: row q lists database row indices nearest first,
/// ties broken by lower index (the ordering of the paper's stage-1 Hamming ranking). Where fewer than k codes exist
/// the row is padded with id -1 and distance -1.
/// </summary>
/// <param name="Ids">Q x k database row indices (int64, the <c>mlh knn</c> output layout).</param>
/// <param name="Distances">Q x k Hamming distances (int32).</param>
public sealed record KnnResult(Array2D<long> Ids, Array2D<int> Distances)
{
    /// <summary>Number of queries.</summary>
    public int QueryCount => Ids.Rows;

    /// <summary>Neighbours requested per query.</summary>
    public int K => Ids.Columns;

    internal static KnnResult Empty(int queries, int k)
    {
        var ids = new Array2D<long>(queries, k);
        var d = new Array2D<int>(queries, k);
        Array.Fill(ids.Data, -1L);
        Array.Fill(d.Data, -1);
        return new KnnResult(ids, d);
    }
}

/// <summary>
/// Result of a range search (all codes within Hamming radius r) for Q queries, in compressed-row form:
/// the neighbours of query q are entries [Offsets[q], Offsets[q+1]), sorted by distance, then by index.
/// </summary>
/// <param name="Offsets">Q + 1 offsets into <paramref name="Ids"/> and <paramref name="Distances"/>.</param>
/// <param name="Ids">Database row indices.</param>
/// <param name="Distances">Hamming distances.</param>
public sealed record RangeResult(long[] Offsets, int[] Ids, int[] Distances)
{
    /// <summary>Number of queries.</summary>
    public int QueryCount => Offsets.Length - 1;

    /// <summary>Row indices of the neighbours of query <paramref name="q"/>.</summary>
    public ReadOnlySpan<int> IdsOf(int q) => Ids.AsSpan((int)Offsets[q], (int)(Offsets[q + 1] - Offsets[q]));

    /// <summary>Distances of the neighbours of query <paramref name="q"/>.</summary>
    public ReadOnlySpan<int> DistancesOf(int q) => Distances.AsSpan((int)Offsets[q], (int)(Offsets[q + 1] - Offsets[q]));

    internal static RangeResult FromLists(List<(int[] Ids, int[] Distances)> perQuery)
    {
        var offsets = new long[perQuery.Count + 1];
        for (int q = 0; q < perQuery.Count; q++) offsets[q + 1] = offsets[q] + perQuery[q].Ids.Length;
        var ids = new int[offsets[^1]];
        var dist = new int[offsets[^1]];
        for (int q = 0; q < perQuery.Count; q++)
        {
            perQuery[q].Ids.CopyTo(ids, offsets[q]);
            perQuery[q].Distances.CopyTo(dist, offsets[q]);
        }
        return new RangeResult(offsets, ids, dist);
    }
}

/// <summary>Options shared by the search methods.</summary>
/// <param name="Threads">Worker threads; 0 means one per logical processor.</param>
public sealed record SearchOptions(int Threads = 0)
{
    /// <summary>All logical processors.</summary>
    public static SearchOptions Default { get; } = new();

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
