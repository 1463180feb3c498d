using System.Globalization;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Benchmarks;

/// <summary>
/// Sizes and settings of the search-at-scale measurement (notebook 08): queries per second of stage 1 (global
/// Hamming ranking) against database size, for the linear scan and multi-index hashing, on synthetic codes.
/// </summary>
/// <param name="Sizes">Database sizes N.</param>
/// <param name="Bits">Code length K.</param>
/// <param name="Queries">Queries per measurement.</param>
/// <param name="K">Neighbours per query.</param>
/// <param name="Threads">Search threads.</param>
/// <param name="Seed">Seed of the synthetic codes.</param>
/// <param name="Repeats">Timed runs per point; the fastest counts (the machine may be shared).</param>
public sealed record ScalingConfig(int[] Sizes, int Bits = 64, int Queries = 1000, int K = 10, int Threads = 2, int Seed = 1, int Repeats = 3)
{
    /// <summary>Smoke preset: 10k to 300k codes (a few seconds on 2 cores).</summary>
    public static ScalingConfig Smoke { get; } = new([10_000, 30_000, 100_000, 300_000]);

    /// <summary>Full preset: 10k to 10M codes, 1000 queries (about a minute on 2 cores).</summary>
    public static ScalingConfig Full { get; } = new([10_000, 100_000, 1_000_000, 10_000_000]);

    /// <summary>The preset of a run mode: <see cref="Smoke"/> or <see cref="Full"/>.</summary>
    public static ScalingConfig ForMode(RunMode mode) => mode == RunMode.Full ? Full : Smoke;
}

/// <summary>One measured point: an engine and method on one code distribution at database size N.</summary>
/// <param name="Engine">"ours" or "faiss".</param>
/// <param name="Method">scan / mih (ours), flat / multihash (FAISS).</param>
/// <param name="Codes">uniform or clustered (see <see cref="SyntheticCodes"/>).</param>
/// <param name="N">Database size.</param>
/// <param name="QueriesPerSecond">Search throughput (index built beforehand).</param>
/// <param name="AnsweredByIndex">Queries the multi-index answered itself (the rest fell back to the scan); -1 where not applicable.</param>
/// <param name="Queries">Queries timed.</param>
public sealed record ScalingPoint(string Engine, string Method, string Codes, int N, double QueriesPerSecond, int AnsweredByIndex, int Queries);

/// <summary>Runs the search-at-scale measurement and reads the FAISS side-by-side table.</summary>
public static class SearchScaling
{
    /// <summary>
    /// Measures scan and multi-index queries per second for every size and both code distributions with
    /// <see cref="SearchTimer"/>. Each multi-index result is checked against the scan (identical ids), so a wrong
    /// fast answer cannot pass.
    /// </summary>
    public static IReadOnlyList<ScalingPoint> Measure(ScalingConfig config, IProgress<ProgressReport>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var points = new List<ScalingPoint>();
        var plan = new SearchTimingPlan([SearchMethod.Scan, SearchMethod.Mih], [config.K], [config.Threads], config.Repeats);
        int total = config.Sizes.Length * 2, done = 0;
        foreach (string codes in new[] { "uniform", "clustered" })
            foreach (int n in config.Sizes)
            {
                progress.Report("search at scale", done, total, "sizes", $"{codes} N={n:N0}");
                var (db, q) = Generate(codes, n, config);
                foreach (var t in SearchTimer.Run(db, q, plan))
                    points.Add(new ScalingPoint("ours", t.Method == SearchMethod.Scan ? "scan" : "mih", codes, n, t.QueriesPerSecond,
                        t.Method == SearchMethod.Mih ? t.Statistics.IndexedQueries : -1, t.Queries));
                progress.Report("search at scale", ++done, total, "sizes");
            }
        return points;
    }

    /// <summary>The queries per second of the one point of <paramref name="method"/> on <paramref name="codes"/> codes at size <paramref name="n"/>.</summary>
    /// <exception cref="InvalidOperationException">No such point, or more than one.</exception>
    public static double QueriesPerSecond(IEnumerable<ScalingPoint> points, string method, string codes, int n)
        => points.Single(p => p.Method == method && p.Codes == codes && p.N == n).QueriesPerSecond;

    private static (PackedCodes Db, PackedCodes Queries) Generate(string codes, int n, ScalingConfig c)
        => codes == "uniform"
            ? (SyntheticCodes.Uniform(n, c.Bits, c.Seed), SyntheticCodes.Uniform(c.Queries, c.Bits, c.Seed + 1))
            : (SyntheticCodes.Clustered(n, c.Bits, Math.Max(1, n / 100), 5, c.Seed, c.Seed + 100),
               SyntheticCodes.Clustered(c.Queries, c.Bits, Math.Max(1, n / 100), 5, c.Seed + 1, c.Seed + 100));

    /// <summary>
    /// Rows of the side-by-side benchmark table (<c>notebooks/results/benchmarks/search.tsv</c>, written by
    /// <c>compare.sh</c>) for one code length, k and thread count; empty when the file does not exist.
    /// </summary>
    public static IReadOnlyList<ScalingPoint> ReadBenchmarkTable(string path, int bits, int k, int threads)
    {
        if (!File.Exists(path)) return [];
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return [];
        var header = lines[0].Split('\t');
        int Col(string name)
        {
            int i = Array.IndexOf(header, name);
            return i >= 0 ? i : throw UserInputException.InFile(path, $"missing column '{name}'.", 1);
        }
        int engine = Col("engine"), method = Col("method"), kind = Col("kind"), nCol = Col("n"), bitsCol = Col("bits"),
            kCol = Col("k"), tCol = Col("threads"), qps = Col("qps"), queries = Col("queries"), byIndex = Col("by_index");
        var points = new List<ScalingPoint>();
        for (int line = 1; line < lines.Length; line++)
        {
            var f = lines[line].Split('\t');
            if (f.Length != header.Length) throw UserInputException.InFile(path, $"expected {header.Length} columns, found {f.Length}.", line + 1);
            if (f[bitsCol] != bits.ToString(CultureInfo.InvariantCulture) || f[kCol] != k.ToString(CultureInfo.InvariantCulture)
                || f[tCol] != threads.ToString(CultureInfo.InvariantCulture)) continue;
            points.Add(new ScalingPoint(f[engine], f[method], f[kind], int.Parse(f[nCol], CultureInfo.InvariantCulture),
                double.Parse(f[qps], CultureInfo.InvariantCulture),
                int.TryParse(f[byIndex], NumberStyles.Integer, CultureInfo.InvariantCulture, out int b) ? b : -1,
                int.Parse(f[queries], CultureInfo.InvariantCulture)));
        }
        return points;
    }
}
