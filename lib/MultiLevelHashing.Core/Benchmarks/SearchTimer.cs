using System.Diagnostics;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Benchmarks;

/// <summary>
/// What <see cref="SearchTimer.Run"/> times: every method, thread count and k, in that nesting order.
/// </summary>
/// <param name="Methods">Stage-1 methods (linear scan, multi-index hashing); each gets its own index, built once.</param>
/// <param name="Ks">Neighbour counts.</param>
/// <param name="Threads">Thread counts (0 = all cores).</param>
/// <param name="Repeats">Timed runs per point; the median counts (a shared machine's noise falls on single runs).</param>
/// <param name="WarmupQueries">
/// Untimed queries searched once per method before timing, so that the timed runs measure optimised (tier-1) code
/// rather than the JIT; 0 times a cold first call.
/// </param>
public sealed record SearchTimingPlan(IReadOnlyList<SearchMethod> Methods, IReadOnlyList<int> Ks, IReadOnlyList<int> Threads,
                                      int Repeats = 1, int WarmupQueries = 8);

/// <summary>One timed point of <see cref="SearchTimer.Run"/>.</summary>
/// <param name="Method">The stage-1 method.</param>
/// <param name="K">Neighbours per query.</param>
/// <param name="Threads">Threads of the search (0 = all cores).</param>
/// <param name="BuildSeconds">Time to build the multi-index tables (0 for the scan, which has none); shared by all points of the method.</param>
/// <param name="SearchSeconds">Median of the timed runs, search only (index built beforehand).</param>
/// <param name="Queries">Queries per run.</param>
/// <param name="Statistics">How the last run answered its queries (index or scan).</param>
/// <param name="IdenticalToScan">
/// Whether the ids equal those of the scan at the same k; null when the plan has no scan at that k, or for the scan itself.
/// </param>
/// <param name="IndexBytes">Bytes of the multi-index tables (0 for the scan).</param>
/// <param name="Result">The result of the last run.</param>
/// <param name="RunSeconds">Every timed run, in order (their median is <paramref name="SearchSeconds"/>).</param>
public sealed record SearchTiming(SearchMethod Method, int K, int Threads, double BuildSeconds, double SearchSeconds, int Queries,
                                  SearchStatistics Statistics, bool? IdenticalToScan, long IndexBytes, KnnResult Result,
                                  IReadOnlyList<double> RunSeconds)
{
    /// <summary>Search throughput.</summary>
    public double QueriesPerSecond => Queries / SearchSeconds;
}

/// <summary>
/// The one timing harness of stage 1 of the multi-level search (exact Hamming k-NN on the global code), used by
/// <c>mlh knn</c>, <c>mlh bench search</c> and <see cref="SearchScaling"/> (notebook 08). Each method's index is
/// built once (timed) and warmed up; every point is then timed on the same queries. Results of every method are
/// checked against the scan's at the same k, so that a wrong fast answer cannot pass as a speed-up.
/// </summary>
public static class SearchTimer
{
    /// <summary>
    /// Times the plan on <paramref name="queries"/> against <paramref name="database"/>. <paramref name="measured"/>
    /// sees each point as soon as it is timed (to print it), including one that disagrees with the scan, after which
    /// an <see cref="InvalidOperationException"/> is thrown.
    /// </summary>
    public static IReadOnlyList<SearchTiming> Run(PackedCodes database, PackedCodes queries, SearchTimingPlan plan,
                                                  Action<SearchTiming>? measured = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Methods.Count == 0 || plan.Ks.Count == 0 || plan.Threads.Count == 0)
            throw new ArgumentException("the plan needs at least one method, one k and one thread count.", nameof(plan));
        int maxK = plan.Ks.Max();
        // Building and warming up with the most threads asked for: both are untimed or timed once per method.
        var widest = new SearchOptions(plan.Threads.Contains(0) ? 0 : plan.Threads.Max());
        var warm = Head(queries, plan.WarmupQueries);
        var scanIds = new Dictionary<int, int[]>();
        var timings = new List<SearchTiming>();
        foreach (var method in plan.Methods)
        {
            var index = new HammingIndex(database, method);
            double build = 0;
            if (method == SearchMethod.Mih)
            {
                var watch = Stopwatch.StartNew();
                index.Build(widest);
                build = watch.Elapsed.TotalSeconds;
            }
            if (warm.Count > 0) index.Search(warm, maxK, widest);
            foreach (int threads in plan.Threads)
                foreach (int k in plan.Ks)
                {
                    var options = new SearchOptions(threads);
                    KnnResult result = null!;
                    var runs = new List<double>();
                    for (int r = 0; r < Math.Max(1, plan.Repeats); r++)
                    {
                        var watch = Stopwatch.StartNew();
                        result = index.Search(queries, k, options);
                        runs.Add(watch.Elapsed.TotalSeconds);
                    }
                    double seconds = Statistics.Median(runs);
                    bool? identical = null;
                    if (method == SearchMethod.Scan) scanIds.TryAdd(k, result.Ids.Data);
                    else if (scanIds.TryGetValue(k, out var reference)) identical = reference.AsSpan().SequenceEqual(result.Ids.Data);
                    var timing = new SearchTiming(method, k, threads, build, seconds, queries.Count, index.LastStatistics, identical,
                                                  index.MultiIndex?.TableBytes ?? 0, result, runs);
                    timings.Add(timing);
                    measured?.Invoke(timing);
                    if (identical == false)
                        throw new InvalidOperationException(
                            $"multi-index hashing disagreed with the scan (N = {database.Count}, {database.Bits} bits, k = {k}, {threads} threads).");
                }
        }
        return timings;
    }

    /// <summary>The first <paramref name="count"/> queries (all of them when there are fewer).</summary>
    public static PackedCodes Head(PackedCodes queries, int count)
    {
        ArgumentNullException.ThrowIfNull(queries);
        int n = Math.Clamp(count, 0, queries.Count);
        if (n == queries.Count) return queries;
        var head = new PackedCodes(queries.Bits, n);
        head.AppendWords(queries.Words(0, n));
        return head;
    }
}
