using System.CommandLine;
using MultiLevelHashing.Cli.Console;
using System.Globalization;
using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Cli.Commands;

/// <summary><c>mlh knn</c>: exact Hamming k-NN between two packed-code .npy files (stage 1 of the multi-level search).</summary>
public static class KnnCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var database = new Option<FileInfo>("--database") { Description = "Database codes: uint8 .npy, N x K/8 (FAISS layout).", Required = true };
        var queries = new Option<FileInfo>("--queries") { Description = "Query codes: uint8 .npy, Q x K/8.", Required = true };
        var k = new Option<int>("--k") { Description = "Neighbours per query.", Required = true };
        var method = new Option<string>("--method") { Description = "scan (linear scan) or mih (multi-index hashing, falls back to the scan where it cannot win).", DefaultValueFactory = _ => "scan" };
        method.AcceptOnlyFromAmong("scan", "mih");
        var threads = new Option<int>("--threads") { Description = "Worker threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var idsFile = new Option<FileInfo>("--output") { Description = "Result ids: int64 .npy, Q x k, nearest first, ties by lower index, -1 where fewer than k exist.", Required = true };
        var distances = new Option<FileInfo?>("--distances") { Description = "Optional int32 .npy of the Hamming distances, Q x k (-1 for padding)." };
        var cmd = new Command("knn", "Exact Hamming k-nearest-neighbour search between .npy code files; prints search_seconds last.")
        {
            database, queries, k, method, threads, idsFile, distances,
        };
        cmd.SetAction(parseResult => Run(CommandOutput.Writer(output), parseResult.GetValue(database)!.FullName, parseResult.GetValue(queries)!.FullName,
            parseResult.GetValue(k), parseResult.GetValue(method)!, parseResult.GetValue(threads), parseResult.GetValue(idsFile)!.FullName,
            parseResult.GetValue(distances)?.FullName));
        return cmd;
    }

    /// <summary>
    /// Runs the search and writes the result files; reports to <paramref name="output"/>, whose last line is
    /// <c>search_seconds: X</c> (search only, excluding file input and output and the index build).
    /// </summary>
    public static int Run(TextWriter output, string databasePath, string queriesPath, int k, string method, int threads,
                          string outputPath, string? distancesPath)
    {
        if (k < 1) throw new UserInputException($"--k must be at least 1 (got {k}).");
        if (threads < 0) throw new UserInputException($"--threads must be 0 (all cores) or positive (got {threads}).");
        var m = ParseMethod(method);
        var (db, q) = LoadPair(databasePath, queriesPath);
        // No warm-up: the command answers the queries once rather than benchmarking them.
        var timing = SearchTimer.Run(db, q, new SearchTimingPlan([m], [k], [threads], Repeats: 1, WarmupQueries: 0))[0];
        if (m == SearchMethod.Mih)
            output.WriteLine($"build_seconds: {timing.BuildSeconds.ToString("F6", CultureInfo.InvariantCulture)}");
        var result = timing.Result;
        NpyFile.WriteInt64(outputPath, WidenIds(result.Ids));
        if (distancesPath is not null) NpyFile.WriteInt32(distancesPath, result.Distances);
        var stats = timing.Statistics;
        output.WriteLine($"database: {db.Count} codes of {db.Bits} bits; queries: {q.Count}; k: {k}; method: {Name(m)}");
        if (m == SearchMethod.Mih)
            output.WriteLine($"answered_by_index: {stats.IndexedQueries}; answered_by_scan: {stats.ScannedQueries}" +
                             (stats.FellBackForBatch ? " (the index could not beat the scan on these codes)" : ""));
        output.WriteLine($"search_seconds: {timing.SearchSeconds.ToString("F6", CultureInfo.InvariantCulture)}");
        return 0;
    }

    /// <summary>
    /// The ids as int64, the label type FAISS reads and writes, so that the output file compares directly with a
    /// FAISS result; the search itself works in int32 row indices.
    /// </summary>
    internal static Array2D<long> WidenIds(Array2D<int> ids) => new(ids.Rows, ids.Columns, Array.ConvertAll<int, long>(ids.Data, id => id));

    internal static SearchMethod ParseMethod(string name) => name switch
    {
        "scan" => SearchMethod.Scan,
        "mih" => SearchMethod.Mih,
        _ => throw new UserInputException($"unknown method '{name}' (use scan or mih)."),
    };

    internal static string Name(SearchMethod m) => m == SearchMethod.Scan ? "scan" : "mih";

    /// <summary>Reads database and query codes and checks that their code lengths agree.</summary>
    internal static (PackedCodes Database, PackedCodes Queries) LoadPair(string dbPath, string qPath)
    {
        var db = PackedCodes.ReadNpy(dbPath);
        var q = PackedCodes.ReadNpy(qPath);
        if (db.Bits != q.Bits)
            throw UserInputException.InFile(qPath, $"queries have {q.BytesPerCode} bytes per code ({q.Bits} bits) but the database {dbPath} has {db.BytesPerCode} ({db.Bits} bits).");
        return (db, q);
    }
}
