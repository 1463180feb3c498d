namespace MultiLevelHashing.Search;

/// <summary>
/// Result of a k-nearest-neighbour Hamming search for Q queries: row q lists database row indices nearest first,
/// ties broken by lower index (the ordering of the paper's stage-1 Hamming ranking). Where fewer than k codes exist
/// the row is padded with id -1 and distance -1.
/// </summary>
/// <remarks>
/// Ids are int32 throughout the search engine (<see cref="KnnResult"/>, <see cref="RangeResult"/>,
/// <see cref="MultiLevelRanking"/>): the database is an in-memory <see cref="PackedCodes"/> addressed by int row
/// index, so databases of 2^31 codes or more are out of scope. Ids are widened to int64 only where a file format
/// asks for it (the <c>mlh knn</c> output, laid out as FAISS writes its labels).
/// </remarks>
/// <param name="Ids">Q x k database row indices (int32).</param>
/// <param name="Distances">Q x k Hamming distances (int32).</param>
public sealed record KnnResult(Array2D<int> Ids, Array2D<int> Distances)
{
    /// <summary>Number of queries.</summary>
    public int QueryCount => Ids.Rows;

    /// <summary>Neighbours requested per query.</summary>
    public int K => Ids.Columns;

    internal static KnnResult Empty(int queries, int k)
    {
        var ids = new Array2D<int>(queries, k);
        var d = new Array2D<int>(queries, k);
        Array.Fill(ids.Data, -1);
        Array.Fill(d.Data, -1);
        return new KnnResult(ids, d);
    }
}

/// <summary>
/// Result of a range search (all codes within Hamming radius r) for Q queries, in compressed-row form:
/// the neighbours of query q are entries [Offsets[q], Offsets[q+1]), sorted by distance, then by index.
/// </summary>
/// <param name="Offsets">Q + 1 offsets into <paramref name="Ids"/> and <paramref name="Distances"/> (int32, like the
/// arrays they index).</param>
/// <param name="Ids">Database row indices (int32, see <see cref="KnnResult"/>).</param>
/// <param name="Distances">Hamming distances.</param>
public sealed record RangeResult(int[] Offsets, int[] Ids, int[] Distances)
{
    /// <summary>Number of queries.</summary>
    public int QueryCount => Offsets.Length - 1;

    /// <summary>Row indices of the neighbours of query <paramref name="q"/>.</summary>
    public ReadOnlySpan<int> IdsOf(int q) => Ids.AsSpan(Offsets[q], Offsets[q + 1] - Offsets[q]);

    /// <summary>Distances of the neighbours of query <paramref name="q"/>.</summary>
    public ReadOnlySpan<int> DistancesOf(int q) => Distances.AsSpan(Offsets[q], Offsets[q + 1] - Offsets[q]);

    internal static RangeResult FromLists(List<(int[] Ids, int[] Distances)> perQuery)
    {
        var offsets = new int[perQuery.Count + 1];
        // A single array holds every neighbour, so more than int.MaxValue of them cannot be returned at all.
        for (int q = 0; q < perQuery.Count; q++) offsets[q + 1] = checked(offsets[q] + perQuery[q].Ids.Length);
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
