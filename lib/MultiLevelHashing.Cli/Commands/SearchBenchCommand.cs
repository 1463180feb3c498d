using System.CommandLine;
using System.Globalization;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh bench search</c>: times exact k-NN (stage 1 of the multi-level search) over one database/query pair for
/// several k, thread counts and methods with <see cref="SearchTimer"/>, loading the files and building each index
/// once; checks that multi-index hashing returns exactly the scan's ids.
/// </summary>
public static class SearchBenchCommand
{
    /// <summary>The command; each TSV line is also printed to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var database = new Option<FileInfo>("--database") { Description = "Database codes: uint8 .npy, N x K/8.", Required = true };
        var queries = new Option<FileInfo>("--queries") { Description = "Query codes: uint8 .npy, Q x K/8.", Required = true };
        var ks = new Option<string>("--k") { Description = "Comma-separated neighbour counts.", DefaultValueFactory = _ => "1,10,100" };
        var threads = new Option<string>("--threads") { Description = "Comma-separated thread counts.", DefaultValueFactory = _ => "1,2" };
        var methods = new Option<string>("--methods") { Description = "Comma-separated methods among scan, mih.", DefaultValueFactory = _ => "scan,mih" };
        var maxQueries = new Option<int>("--max-queries") { Description = "Use only the first Q queries (0 = all).", DefaultValueFactory = _ => 0 };
        var table = new Option<FileInfo>("--output") { Description = "Tab-separated results, one line per run (appended).", Required = true };
        var saveDistances = new Option<FileInfo?>("--save-distances") { Description = "Write the scan's int32 distances at the largest k here (for checking against other engines)." };
        var saveIds = new Option<FileInfo?>("--save-ids") { Description = "Write the scan's int32 ids at the largest k here (for checking against other engines)." };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per line; the median is reported.", DefaultValueFactory = _ => 1 };
        var bound = new Option<bool>("--popcount-bound")
        {
            Description = "Also measure the popcount bound per thread count: the time this CPU needs only to compute every distance " +
                          "(XOR, POPCNT or AVX2 nibble lookup, one add; cached codes; no selection), as a line with method popcount-bound.",
        };
        var cmd = new Command("search", "Time exact Hamming k-NN (scan and multi-index hashing) over .npy codes; one TSV line per run.")
        {
            database, queries, ks, threads, methods, maxQueries, table, saveDistances, saveIds, repeats, bound,
        };
        cmd.SetAction(parseResult =>
        {
            var dbPath = parseResult.GetValue(database)!.FullName;
            var (db, allQ) = KnnCommand.LoadPair(dbPath, parseResult.GetValue(queries)!.FullName);
            int max = parseResult.GetValue(maxQueries);
            if (max < 0) throw new UserInputException($"--max-queries must be 0 (all) or positive (got {max}).");
            var q = SearchTimer.Head(allQ, max > 0 ? max : allQ.Count);
            var kList = ParseList(parseResult.GetValue(ks)!, "--k");
            var tList = ParseList(parseResult.GetValue(threads)!, "--threads");
            var mList = parseResult.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(KnnCommand.ParseMethod).ToList();
            if (mList.Count == 0) throw new UserInputException("--methods: empty list.");
            int runs = parseResult.GetValue(repeats);
            if (runs < 1) throw new UserInputException($"--repeats must be at least 1 (got {runs}).");
            string outPath = parseResult.GetValue(table)!.FullName;
            var distancesFile = parseResult.GetValue(saveDistances);
            var idsFile = parseResult.GetValue(saveIds);
            if (!File.Exists(outPath))
                File.WriteAllText(outPath, "engine\tmethod\tdatabase\tn\tbits\tqueries\tk\tthreads\tbuild_seconds\tsearch_seconds\tqueries_per_second\tanswered_by_index\tidentical_to_scan\tindex_bytes\trun_seconds\n");
            void Write(string line)
            {
                File.AppendAllText(outPath, line + "\n");
                CommandOutput.Writer(output).WriteLine(line);
            }
            // The bound is a best case: measured before and after the timed runs, the faster of the two counts, so that a
            // busy moment of a shared machine does not make it look slower than the scan it bounds.
            var boundsBefore = parseResult.GetValue(bound) ? tList.Select(t => PopcountBound.Measure(db.Bits, t, BoundRounds)).ToList() : null;
            SearchTimer.Run(db, q, new SearchTimingPlan(mList, kList, tList, runs), t =>
            {
                if (t.Method == SearchMethod.Scan && t.K == kList.Max() && t.Threads == tList[0])
                {
                    if (distancesFile is not null) NpyFile.WriteInt32(distancesFile.FullName, t.Result.Distances);
                    if (idsFile is not null) NpyFile.WriteInt32(idsFile.FullName, t.Result.Ids);
                }
                string identical = t.IdenticalToScan switch { true => "yes", false => "NO", null => "" };
                Write(string.Join('\t', "ours", KnnCommand.Name(t.Method), Path.GetFileName(dbPath), db.Count, db.Bits, t.Queries,
                    t.K, t.Threads, F(t.BuildSeconds), F(t.SearchSeconds), F(t.QueriesPerSecond), t.Statistics.IndexedQueries, identical, t.IndexBytes,
                    string.Join(',', t.RunSeconds.Select(F))));
            });
            if (boundsBefore is not null)
                for (int i = 0; i < tList.Count; i++)
                {
                    int t = tList[i];
                    var after = PopcountBound.Measure(db.Bits, t, BoundRounds);
                    var peak = after.BestNsPerDistance < boundsBefore[i].BestNsPerDistance ? after : boundsBefore[i];
                    double seconds = peak.BoundSeconds(q.Count, db.Count);
                    Write(string.Join('\t', "ours", "popcount-bound", Path.GetFileName(dbPath), db.Count, db.Bits, q.Count, 0, t, F(0), F(seconds),
                        F(q.Count / seconds), 0, "", 0, $"{peak.BestKernel}: {F(peak.BestNsPerDistance)} ns per distance per thread " +
                        $"({peak.Describe(F)}); the scan uses {PopcountBound.ScanKernel(db.Bits)}"));
                }
            return 0;
        });
        return cmd;
    }

    private static string F(double x) => x.ToString("G6", CultureInfo.InvariantCulture);

    // About a quarter of a second per measurement at 64 bits.
    private const int BoundRounds = 200;

    private static List<int> ParseList(string text, string option)
    {
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1)
                throw new UserInputException($"{option}: '{part}' is not a positive integer.");
            list.Add(v);
        }
        if (list.Count == 0) throw new UserInputException($"{option}: empty list.");
        return list;
    }
}
