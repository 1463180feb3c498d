using System.Diagnostics;
using MultiLevelHashing.Evaluation;

namespace MultiLevelHashing.Benchmarks;

/// <summary>
/// Wall time per query of a search over a whole query set: one warm-up run, then <c>repeats</c> timed runs, each
/// repeating the search until it has run for at least <see cref="MinimumRunMilliseconds"/> (small benchmarks search in
/// microseconds), reported as the median. A cost column for result tables, not a benchmark: the ratios that the
/// speed targets are set on come from <c>mlh bench</c>.
/// </summary>
public static class QueryTiming
{
    /// <summary>Shortest timed run, so that the clock's resolution does not matter.</summary>
    public const double MinimumRunMilliseconds = 20;

    /// <summary>Median milliseconds per query of <paramref name="searchAll"/>, which searches all <paramref name="queries"/> queries once.</summary>
    public static double MillisecondsPerQuery(Action searchAll, int queries, int repeats = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        searchAll();
        var perQuery = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            int runs = 0;
            var clock = Stopwatch.StartNew();
            do { searchAll(); runs++; } while (clock.Elapsed.TotalMilliseconds < MinimumRunMilliseconds);
            perQuery[r] = clock.Elapsed.TotalMilliseconds / runs / queries;
        }
        return Statistics.Median(perQuery);
    }
}
