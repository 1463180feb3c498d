using System.Runtime.CompilerServices;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search;

/// <summary>
/// Exhaustive Hamming search: stage 1 of the paper's multi-level search (Hamming ranking of the whole database on
/// the global code). The database is split into one contiguous chunk per thread; each chunk is scanned in tiles
/// that stay in cache while every query of the batch passes over them (so a large batch reads the database from
/// memory once per chunk, not once per query); per-query top-k uses counting selection over the small integer
/// distances (<see cref="TopKCollector"/>); chunk results are merged exactly. Ties are broken by lower index.
/// </summary>
public static unsafe class LinearScan
{
    /// <summary>Tile and chunk sizes; tests shrink them to exercise the multi-chunk and multi-tile paths on small data.</summary>
    /// <param name="TileBytes">Bytes of codes per tile: sized for the per-core L2 cache.</param>
    /// <param name="MinChunkCodes">Smallest chunk worth a thread.</param>
    internal sealed record Tuning(int TileBytes = 64 * 1024, int MinChunkCodes = 16384)
    {
        public static Tuning Default { get; } = new();
        public int TileCodes(int words) => Math.Max(8, TileBytes / (8 * words));
    }

    /// <summary>The k nearest database codes of every query, by Hamming distance then index.</summary>
    public static KnnResult Search(PackedCodes database, PackedCodes queries, int k, SearchOptions? options = null,
                                   IProgress<ProgressReport>? progress = null)
        => Search(database, queries, k, options, progress, Tuning.Default);

    internal static KnnResult Search(PackedCodes database, PackedCodes queries, int k, SearchOptions? options,
                                     IProgress<ProgressReport>? progress, Tuning tuning)
    {
        Check(database, queries);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int threads = (options ?? SearchOptions.Default).EffectiveThreads;
        int q = queries.Count, n = database.Count, bits = database.Bits;
        var result = KnnResult.Empty(q, k);
        if (q == 0 || n == 0) return result;

        var chunks = Split(n, threads, tuning);
        var perChunkIds = new int[chunks.Length][];
        var perChunkDist = new int[chunks.Length][];
        var perChunkCount = new int[chunks.Length][];
        long scanned = 0;
        Parallel.For(0, chunks.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            var (start, count) = chunks[c];
            var collectors = new TopKCollector[q];
            for (int i = 0; i < q; i++) collectors[i] = new TopKCollector(k, bits);
            ScanChunkNearest(database, queries, start, count, tuning, collectors, done => ReportProgress(progress, ref scanned, done, (long)n * q));
            var ids = new int[q * k];
            var dist = new int[q * k];
            var counts = new int[q];
            for (int i = 0; i < q; i++)
                counts[i] = collectors[i].Finish(ids.AsSpan(i * k, k), dist.AsSpan(i * k, k));
            perChunkIds[c] = ids;
            perChunkDist[c] = dist;
            perChunkCount[c] = counts;
        });
        MergeChunks(result, perChunkIds, perChunkDist, perChunkCount, k, bits);
        return result;
    }

    /// <summary>All database codes within Hamming distance <paramref name="radius"/> of each query, by distance then index.</summary>
    public static RangeResult SearchRange(PackedCodes database, PackedCodes queries, int radius, SearchOptions? options = null,
                                          IProgress<ProgressReport>? progress = null)
        => SearchRange(database, queries, radius, options, progress, Tuning.Default);

    internal static RangeResult SearchRange(PackedCodes database, PackedCodes queries, int radius, SearchOptions? options,
                                            IProgress<ProgressReport>? progress, Tuning tuning)
    {
        Check(database, queries);
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        int threads = (options ?? SearchOptions.Default).EffectiveThreads;
        int q = queries.Count, n = database.Count;
        var chunks = Split(n, threads, tuning);
        var found = new List<(int Id, int D)>[chunks.Length][];
        long scanned = 0;
        Parallel.For(0, chunks.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            var (start, count) = chunks[c];
            var lists = new List<(int, int)>[q];
            for (int i = 0; i < q; i++) lists[i] = new List<(int, int)>();
            ScanChunk(database, queries, start, count, tuning, (d, len, first, qi) =>
            {
                var list = lists[qi];
                for (int j = 0; j < len; j++)
                    if (d[j] <= radius) list.Add((first + j, d[j]));
            }, done => ReportProgress(progress, ref scanned, done, (long)n * q));
            found[c] = lists;
        });
        var perQuery = new List<(int[] Ids, int[] Distances)>(q);
        for (int i = 0; i < q; i++)
        {
            // Chunks are in index order, so concatenation is in index order; a stable sort by distance keeps ties by index.
            var all = new List<(int Id, int D)>();
            foreach (var lists in found) all.AddRange(lists[i]);
            perQuery.Add(SortByDistance(all, database.Bits));
        }
        return RangeResult.FromLists(perQuery);
    }

    internal delegate void TileSink(int* distances, int count, int firstId, int query);

    /// <summary>Work on one tile (codes [0, count) = database rows firstId onwards) for one query, with a scratch buffer of a tile's ints.</summary>
    private delegate void TileQuery(ulong* codes, int count, int firstId, int query, ulong* q, int* scratch);

    /// <summary>Scans rows [start, start+count) tile by tile; for each tile, every query's distances go to <paramref name="sink"/>.</summary>
    internal static void ScanChunk(PackedCodes database, PackedCodes queries, int start, int count, Tuning tuning, TileSink sink,
                                   Action<long>? onTile = null)
    {
        int words = database.WordsPerCode;
        ForEachTile(database, queries, start, count, tuning, (codes, len, first, qi, q, d) =>
        {
            HammingKernels.Distances(codes, len, words, q, d);
            sink(d, len, first, qi);
        }, onTile);
    }

    /// <summary>
    /// <see cref="ScanChunk"/> for k-NN: every query's collector takes each tile through
    /// <see cref="HammingKernels.OfferNearest"/>, which at 64 bits tests the distances against the collector's bound
    /// in registers instead of storing them.
    /// </summary>
    internal static void ScanChunkNearest(PackedCodes database, PackedCodes queries, int start, int count, Tuning tuning,
                                          TopKCollector[] collectors, Action<long>? onTile = null)
    {
        int words = database.WordsPerCode;
        ForEachTile(database, queries, start, count, tuning,
            (codes, len, first, qi, q, d) => HammingKernels.OfferNearest(codes, len, words, q, first, collectors[qi], d), onTile);
    }

    /// <summary>The tile loop: each tile of rows [start, start+count) stays in cache while every query passes over it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForEachTile(PackedCodes database, PackedCodes queries, int start, int count, Tuning tuning, TileQuery work,
                                    Action<long>? onTile)
    {
        int words = database.WordsPerCode;
        int tile = tuning.TileCodes(words);
        var dbuf = new int[tile];
        var qwords = queries.AllWords;
        int q = queries.Count;
        fixed (int* d = dbuf)
        fixed (ulong* qbase = qwords)
        {
            for (int t = start; t < start + count; t += tile)
            {
                int len = Math.Min(tile, start + count - t);
                fixed (ulong* codes = database.Words(t, len))
                {
                    for (int qi = 0; qi < q; qi++) work(codes, len, t, qi, qbase + (long)qi * words, d);
                }
                onTile?.Invoke((long)len * q);
            }
        }
    }

    internal static (int Start, int Count)[] Split(int n, int threads, Tuning tuning)
    {
        // Chunks have a minimum size so that tiny databases do not pay for threads.
        int parts = Math.Max(1, Math.Min(threads, n / Math.Max(1, tuning.MinChunkCodes)));
        var chunks = new (int, int)[parts];
        long s = 0;
        for (int i = 0; i < parts; i++)
        {
            long e = (long)n * (i + 1) / parts;
            chunks[i] = ((int)s, (int)(e - s));
            s = e;
        }
        return chunks;
    }

    internal static void MergeChunks(KnnResult result, int[][] ids, int[][] dist, int[][] counts, int k, int bits)
    {
        int q = result.QueryCount;
        var hist = new int[bits + 2];
        for (int qi = 0; qi < q; qi++)
        {
            var outIds = result.Ids.Row(qi);
            var outD = result.Distances.Row(qi);
            if (ids.Length == 1)
            {
                int n = counts[0][qi];
                for (int j = 0; j < n; j++) { outIds[j] = ids[0][qi * k + j]; outD[j] = dist[0][qi * k + j]; }
                continue;
            }
            // Stable counting sort of the concatenation (chunk order = index order within equal distances).
            Array.Clear(hist);
            for (int c = 0; c < ids.Length; c++)
                for (int j = 0; j < counts[c][qi]; j++) hist[dist[c][qi * k + j] + 1]++;
            for (int d = 1; d < hist.Length; d++) hist[d] += hist[d - 1];
            for (int c = 0; c < ids.Length; c++)
                for (int j = 0; j < counts[c][qi]; j++)
                {
                    int d = dist[c][qi * k + j];
                    int pos = hist[d]++;
                    if (pos < k) { outIds[pos] = ids[c][qi * k + j]; outD[pos] = d; }
                }
        }
    }

    internal static (int[] Ids, int[] Distances) SortByDistance(List<(int Id, int D)> items, int bits)
    {
        var hist = new int[bits + 2];
        foreach (var (_, d) in items) hist[d + 1]++;
        for (int d = 1; d < hist.Length; d++) hist[d] += hist[d - 1];
        var ids = new int[items.Count];
        var dist = new int[items.Count];
        foreach (var (id, d) in items)
        {
            int pos = hist[d]++;
            ids[pos] = id;
            dist[pos] = d;
        }
        return (ids, dist);
    }

    internal static void Check(PackedCodes database, PackedCodes queries)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(queries);
        if (database.Bits != queries.Bits)
            throw new ArgumentException($"queries have {queries.Bits}-bit codes but the database has {database.Bits}-bit codes.");
    }

    private static void ReportProgress(IProgress<ProgressReport>? progress, ref long scanned, long done, long total)
    {
        if (progress is null) return;
        long now = Interlocked.Add(ref scanned, done);
        progress.Report("scan", now, total, "codes");
    }
}
