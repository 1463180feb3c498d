using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh bench search</c>: times exact k-NN over one database/query pair for several k, thread counts and methods,
/// loading the files and building the index once; checks that multi-index hashing returns exactly the scan's ids.
/// </summary>
public static class SearchBenchCommand
{
    public static Command Create()
    {
        var database = new Option<FileInfo>("--database") { Description = "Database codes: uint8 .npy, N x K/8.", Required = true };
        var queries = new Option<FileInfo>("--queries") { Description = "Query codes: uint8 .npy, Q x K/8.", Required = true };
        var ks = new Option<string>("--k") { Description = "Comma-separated neighbour counts.", DefaultValueFactory = _ => "1,10,100" };
        var threads = new Option<string>("--threads") { Description = "Comma-separated thread counts.", DefaultValueFactory = _ => "1,2" };
        var methods = new Option<string>("--methods") { Description = "Comma-separated methods among scan, mih.", DefaultValueFactory = _ => "scan,mih" };
        var maxQueries = new Option<int>("--max-queries") { Description = "Use only the first Q queries (0 = all).", DefaultValueFactory = _ => 0 };
        var output = new Option<FileInfo>("--output") { Description = "Tab-separated results, one line per run (appended).", Required = true };
        var saveDistances = new Option<FileInfo?>("--save-distances") { Description = "Write the scan's int32 distances at the largest k here (for checking against other engines)." };
        var cmd = new Command("search", "Time exact Hamming k-NN (scan and multi-index hashing) over .npy codes; one TSV line per run.")
        {
            database, queries, ks, threads, methods, maxQueries, output, saveDistances,
        };
        cmd.SetAction(parseResult =>
        {
            var dbPath = parseResult.GetValue(database)!.FullName;
            var (db, allQ) = KnnCommand.LoadPair(dbPath, parseResult.GetValue(queries)!.FullName);
            int max = parseResult.GetValue(maxQueries);
            var q = allQ;
            if (max > 0 && max < allQ.Count)
            {
                q = new PackedCodes(allQ.Bits, max);
                q.AppendWords(allQ.Words(0, max));
            }
            var kList = ParseList(parseResult.GetValue(ks)!, "--k");
            var tList = ParseList(parseResult.GetValue(threads)!, "--threads");
            var mList = parseResult.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(KnnCommand.ParseMethod).ToList();
            string outPath = parseResult.GetValue(output)!.FullName;
            if (!File.Exists(outPath))
                File.WriteAllText(outPath, "engine\tmethod\tdatabase\tn\tbits\tqueries\tk\tthreads\tbuild_seconds\tsearch_seconds\tqueries_per_second\tanswered_by_index\tidentical_to_scan\tindex_bytes\n");
            var scanIds = new Dictionary<int, long[]>();
            foreach (var m in mList)
            {
                var index = new HammingIndex(db, m);
                double build = 0;
                if (m == SearchMethod.Mih)
                {
                    var w = Stopwatch.StartNew();
                    index.Build(new SearchOptions(tList.Max()));
                    build = w.Elapsed.TotalSeconds;
                }
                // Untimed warm-up so that the timed runs measure optimised (tier-1) code, not the JIT.
                var warm = new PackedCodes(q.Bits, Math.Min(q.Count, 8));
                warm.AppendWords(q.Words(0, Math.Min(q.Count, 8)));
                index.Search(warm, kList.Max(), new SearchOptions(tList.Max()));
                foreach (int t in tList)
                    foreach (int k in kList)
                    {
                        var watch = Stopwatch.StartNew();
                        var r = index.Search(q, k, new SearchOptions(t));
                        double s = watch.Elapsed.TotalSeconds;
                        string identical = "";
                        if (m == SearchMethod.Scan)
                        {
                            scanIds[k] = r.Ids.Data;
                            if (k == kList.Max() && t == tList[0] && parseResult.GetValue(saveDistances) is { } f)
                                NpyFile.WriteInt32(f.FullName, r.Distances);
                        }
                        else if (scanIds.TryGetValue(k, out var reference))
                            identical = reference.AsSpan().SequenceEqual(r.Ids.Data) ? "yes" : "NO";
                        var stats = index.LastStatistics;
                        long indexBytes = index.MultiIndex?.TableBytes ?? 0;
                        string line = string.Join('\t', "ours", KnnCommand.Name(m), Path.GetFileName(dbPath), db.Count, db.Bits, q.Count, k, t,
                            F(build), F(s), F(q.Count / s), stats.IndexedQueries, identical, indexBytes);
                        File.AppendAllText(outPath, line + "\n");
                        System.Console.WriteLine(line);
                        if (identical == "NO") throw new InvalidOperationException("multi-index hashing disagreed with the scan");
                    }
            }
            return 0;
        });
        return cmd;
    }

    private static string F(double x) => x.ToString("G6", CultureInfo.InvariantCulture);

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
