using System.Diagnostics;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search;

/// <summary>How stage 1 (Hamming ranking on the global code) finds neighbours.</summary>
public enum SearchMethod
{
    /// <summary>Exhaustive linear scan (<see cref="LinearScan"/>).</summary>
    Scan,

    /// <summary>
    /// Exact multi-index hashing (<see cref="MultiIndexHashing"/>), falling back to the scan by itself for queries
    /// (or whole batches) where the index cannot beat it.
    /// </summary>
    Mih,
}

/// <summary>Counts of how the last search answered its queries.</summary>
/// <param name="IndexedQueries">Queries answered by multi-index hashing.</param>
/// <param name="ScannedQueries">Queries answered by the linear scan.</param>
/// <param name="FellBackForBatch">True when the sample of the batch showed the index cannot win and the rest was scanned.</param>
public readonly record struct SearchStatistics(int IndexedQueries, int ScannedQueries, bool FellBackForBatch);

/// <summary>
/// Exact Hamming k-NN and range search over a growing database of packed codes: the linear scan, or multi-index
/// hashing with automatic fallback. Both give identical results (ids and distances, ties by lower index); the
/// method only changes the speed. This is stage 1 of the paper's multi-level search (lib/MultiLevelHashing/README.md section 2.8).
/// </summary>
public sealed class HammingIndex
{
    private MultiIndexHashing? _mih;

    /// <summary>An index over <paramref name="database"/>; codes appended to it later are searched too.</summary>
    public HammingIndex(PackedCodes database, SearchMethod method = SearchMethod.Scan, int? substrings = null)
    {
        Database = database ?? throw new ArgumentNullException(nameof(database));
        Method = method;
        Substrings = substrings;
    }

    /// <summary>The codes searched.</summary>
    public PackedCodes Database { get; }

    /// <summary>The search method.</summary>
    public SearchMethod Method { get; }

    /// <summary>Substring count for multi-index hashing; null chooses it from N and K.</summary>
    public int? Substrings { get; }

    /// <summary>The multi-index tables, once built.</summary>
    public MultiIndexHashing? MultiIndex => _mih;

    /// <summary>How the last search answered its queries.</summary>
    public SearchStatistics LastStatistics { get; private set; }

    /// <summary>
    /// Fraction of one query's scan cost that a multi-index query may spend before it gives up and is scanned.
    /// Below 1 so that a query the index cannot win costs less than twice a scan. A query also gives up as soon as the
    /// lookups it is predicted still to need would exceed it (<c>MultiIndexHashing.PredictedOutOfBudget</c>), or those
    /// of its next probe alone would (<c>NextProbeOutOfBudget</c>).
    /// </summary>
    public double BudgetFraction { get; init; } = 0.5;

    /// <summary>Builds (or rebuilds after appends) the multi-index tables; search does this lazily.</summary>
    public void Build(SearchOptions? options = null, IProgress<ProgressReport>? progress = null)
    {
        if (Method != SearchMethod.Mih) return;
        if (_mih is null || _mih.IndexedCount != Database.Count)
            _mih = MultiIndexHashing.Build(Database, Substrings, options, progress);
    }

    /// <summary>The k nearest codes of each query by (Hamming distance, index).</summary>
    public KnnResult Search(PackedCodes queries, int k, SearchOptions? options = null, IProgress<ProgressReport>? progress = null)
    {
        LinearScan.Check(Database, queries);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (Method == SearchMethod.Scan || Database.Count == 0 || queries.Count == 0)
        {
            LastStatistics = new(0, queries.Count, false);
            return LinearScan.Search(Database, queries, k, options, progress);
        }
        Build(options, progress);
        var mih = _mih!;
        int q = queries.Count, threads = (options ?? SearchOptions.Default).EffectiveThreads;
        var result = KnnResult.Empty(q, k);
        double scanNs = Database.Count * MultiIndexHashing.ScanNsPerCode(Database.WordsPerCode);
        var budget = new MultiIndexHashing.Budget(BudgetFraction * scanNs);
        var answered = new bool[q];
        var spent = new double[q];
        int sample = Math.Min(q, 16 + 4 * threads);
        int done = 0;
        void Run(int from, int to)
        {
            Parallel.For(from, to, new ParallelOptions { MaxDegreeOfParallelism = threads }, mih.NewScratch, (i, loop, scratch) =>
            {
                answered[i] = mih.TryKnn(queries.Code(i), k, scratch, budget, result.Ids.Row(i), result.Distances.Row(i), out _);
                spent[i] = scratch.Spent;
                progress.Report("multi-index search", Interlocked.Increment(ref done), q, "queries");
                return scratch;
            }, _ => { });
        }
        Run(0, sample);
        bool fallBack = !TryingPays(answered.AsSpan(0, sample), spent.AsSpan(0, sample), scanNs);
        if (!fallBack) Run(sample, q);
        var rest = Enumerable.Range(0, q).Where(i => !answered[i]).ToArray();
        LastStatistics = new(q - rest.Length, rest.Length, fallBack);
        if (rest.Length > 0)
        {
            var sub = new PackedCodes(queries.Bits, rest.Length);
            foreach (int i in rest) sub.AppendWords(queries.Code(i));
            var scanned = LinearScan.Search(Database, sub, k, options, progress);
            for (int j = 0; j < rest.Length; j++)
            {
                scanned.Ids.Row(j).CopyTo(result.Ids.Row(rest[j]));
                scanned.Distances.Row(j).CopyTo(result.Distances.Row(rest[j]));
            }
        }
        return result;
    }

    /// <summary>
    /// The batch rule, by expected cost in the cost model's units: trying the index on a query costs the work it spent
    /// (all of it when answered; up to giving up otherwise, and then the scan too), so trying pays when the sample's
    /// work is less than the scans its answered queries saved. With a budget of a whole scan or more
    /// (<see cref="BudgetFraction"/> at least 1) the caller has chosen the index whatever it costs, and it is always tried.
    /// </summary>
    private bool TryingPays(ReadOnlySpan<bool> answered, ReadOnlySpan<double> spent, double scanNs)
    {
        if (BudgetFraction >= 1) return true;
        double work = 0;
        int saved = 0;
        for (int i = 0; i < answered.Length; i++)
        {
            work += spent[i];
            if (answered[i]) saved++;
        }
        return work < saved * scanNs;
    }

    /// <summary>All codes within <paramref name="radius"/> of each query, by (distance, index).</summary>
    public RangeResult SearchRange(PackedCodes queries, int radius, SearchOptions? options = null, IProgress<ProgressReport>? progress = null)
    {
        LinearScan.Check(Database, queries);
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        if (Method == SearchMethod.Scan || Database.Count == 0 || queries.Count == 0)
        {
            LastStatistics = new(0, queries.Count, false);
            return LinearScan.SearchRange(Database, queries, radius, options, progress);
        }
        Build(options, progress);
        var mih = _mih!;
        int q = queries.Count, threads = (options ?? SearchOptions.Default).EffectiveThreads;
        var budget = new MultiIndexHashing.Budget(BudgetFraction * Database.Count * MultiIndexHashing.ScanNsPerCode(Database.WordsPerCode));
        var lists = new (int[] Ids, int[] Distances)[q];
        var answered = new bool[q];
        Parallel.For(0, q, new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => (mih.NewScratch(), new List<long>()), (i, _, local) =>
            {
                if (mih.TryRange(queries.Code(i), radius, local.Item1, budget, local.Item2))
                {
                    answered[i] = true;
                    lists[i] = (local.Item2.Select(MultiIndexHashing.IdOf).ToArray(), local.Item2.Select(MultiIndexHashing.DistanceOf).ToArray());
                }
                return local;
            }, _ => { });
        var rest = Enumerable.Range(0, q).Where(i => !answered[i]).ToArray();
        LastStatistics = new(q - rest.Length, rest.Length, false);
        if (rest.Length > 0)
        {
            var sub = new PackedCodes(queries.Bits, rest.Length);
            foreach (int i in rest) sub.AppendWords(queries.Code(i));
            var scanned = LinearScan.SearchRange(Database, sub, radius, options, progress);
            for (int j = 0; j < rest.Length; j++) lists[rest[j]] = (scanned.IdsOf(j).ToArray(), scanned.DistancesOf(j).ToArray());
        }
        return RangeResult.FromLists(lists.ToList());
    }
}
