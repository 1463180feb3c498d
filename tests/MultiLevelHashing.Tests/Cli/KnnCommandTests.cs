using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Tests.Search;

namespace MultiLevelHashing.Tests.Cli;

public sealed class KnnCommandTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("knn");

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData("scan")]
    [InlineData("mih")]
    public void WritesIdsAndDistancesPaddedWithMinusOneAndEndsWithSearchSeconds(string method)
    {
        // 3 database codes, k = 5: the last two columns are padding.
        byte[][] db = [[0x0F], [0x00], [0x0F]];
        byte[][] q = [[0x0F], [0xFF]];
        NpyFile.WriteUInt8(P("db.npy"), new Array2D<byte>(3, 1, db.SelectMany(x => x).ToArray()));
        NpyFile.WriteUInt8(P("q.npy"), new Array2D<byte>(2, 1, q.SelectMany(x => x).ToArray()));
        var output = new StringWriter();
        Assert.Equal(0, KnnCommand.Run(output, P("db.npy"), P("q.npy"), 5, method, 2, P("ids.npy"), P("d.npy")));
        var ids = NpyFile.ReadInt64(P("ids.npy"));
        var d = NpyFile.ReadInt32(P("d.npy"));
        Assert.Equal((2, 5), (ids.Rows, ids.Columns));
        // Query 0x0F: rows 0 and 2 at distance 0 (tie: lower index first), row 1 at 4.
        Assert.Equal(new long[] { 0, 2, 1, -1, -1, 0, 2, 1, -1, -1 }, ids.Data);
        Assert.Equal(new[] { 0, 0, 4, -1, -1, 4, 4, 8, -1, -1 }, d.Data);
        Assert.Equal("<i8", NpyFile.ReadHeader(P("ids.npy")).Descr);
        Assert.Equal("<i4", NpyFile.ReadHeader(P("d.npy")).Descr);
        string last = output.ToString().TrimEnd('\n').Split('\n')[^1];
        Assert.Matches(@"^search_seconds: \d+\.\d+$", last);
    }

    [Fact]
    public void MatchesBruteForceOnRandomCodes()
    {
        var s = new Scenario(72, CodeKind.Duplicates, 200, 7, 9, 0, 42);
        var (db, q) = s.Generate();
        Scenario.Pack(db, 72).WriteNpy(P("db.npy"));
        Scenario.Pack(q, 72).WriteNpy(P("q.npy"));
        KnnCommand.Run(TextWriter.Null, P("db.npy"), P("q.npy"), 9, "mih", 1, P("ids.npy"), null);
        var ids = NpyFile.ReadInt64(P("ids.npy"));
        // The file holds int64 ids (FAISS labels); the reference is in the engine's int32.
        for (int i = 0; i < q.Length; i++) Assert.Equal(Array.ConvertAll<int, long>(BruteForce.Knn(db, q[i], 9).Ids, id => id), ids.Row(i).ToArray());
    }

    [Fact]
    public void BenchSearchWritesOneTsvLinePerRunWithTheIndexIdenticalToTheScan()
    {
        var (db, q) = new Scenario(64, CodeKind.Clustered, 400, 6, 5, 0, 8).Generate();
        Scenario.Pack(db, 64).WriteNpy(P("db.npy"));
        Scenario.Pack(q, 64).WriteNpy(P("q.npy"));
        var printed = new StringWriter();
        int rc = SearchBenchCommand.Create(printed).Parse(["--database", P("db.npy"), "--queries", P("q.npy"), "--k", "1,5", "--threads", "1",
            "--max-queries", "4", "--output", P("bench.tsv"), "--save-distances", P("d.npy"), "--save-ids", P("i.npy"), "--repeats", "3",
            "--popcount-bound"]).Invoke();
        Assert.Equal(0, rc);
        var lines = File.ReadAllLines(P("bench.tsv"));
        Assert.StartsWith("engine\tmethod\tdatabase\tn\tbits\tqueries\tk", lines[0]);
        Assert.EndsWith("\trun_seconds", lines[0]);
        Assert.Equal(lines[1..], printed.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var rows = lines[1..].Select(l => l.Split('\t')).ToList();
        Assert.Equal([("scan", "1"), ("scan", "5"), ("mih", "1"), ("mih", "5"), ("popcount-bound", "0")], rows.Select(r => (r[1], r[6])));
        Assert.All(rows, r => Assert.Equal(15, r.Length));
        Assert.All(rows, r => Assert.Equal(("400", "64", "4"), (r[3], r[4], r[5])));
        Assert.Equal(["", "", "yes", "yes", ""], rows.Select(r => r[12]));
        Assert.All(rows.Where(r => r[1] == "scan"), r => Assert.Equal("0", r[8]));
        // Every timed run is listed and the reported seconds are their median.
        foreach (var r in rows.Where(r => r[1] != "popcount-bound"))
        {
            var runs = r[14].Split(',').Select(x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();
            Assert.Equal(3, runs.Length);
            Assert.Equal(runs[1], double.Parse(r[9], System.Globalization.CultureInfo.InvariantCulture), 5);
        }
        // The popcount bound: positive seconds for the queries x codes, and the kernel that gave it.
        var bound = rows[^1];
        Assert.True(double.Parse(bound[9], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Contains("ns per distance per thread", bound[14]);
        Assert.EndsWith($"the scan uses {MultiLevelHashing.Benchmarks.PopcountBound.ScanKernel(64)}", bound[14]);
        // The scan's distances and ids at the largest k, for the queries timed.
        var d = NpyFile.ReadInt32(P("d.npy"));
        var ids = NpyFile.ReadInt32(P("i.npy"));
        Assert.Equal((4, 5), (d.Rows, d.Columns));
        Assert.Equal((4, 5), (ids.Rows, ids.Columns));
        for (int i = 0; i < 4; i++)
        {
            var expected = BruteForce.Knn(db, q[i], 5);
            Assert.Equal(expected.Distances, d.Row(i).ToArray());
            Assert.Equal(expected.Ids, ids.Row(i).ToArray());
        }
    }

    [Fact]
    public void BadInputIsAUserErrorNamingTheFile()
    {
        NpyFile.WriteUInt8(P("db.npy"), new Array2D<byte>(3, 8));
        NpyFile.WriteUInt8(P("q32.npy"), new Array2D<byte>(1, 32));
        NpyFile.WriteInt64(P("wrong.npy"), new Array2D<long>(1, 8));
        var e = Assert.Throws<UserInputException>(() => KnnCommand.Run(TextWriter.Null, P("db.npy"), P("q32.npy"), 1, "scan", 1, P("o.npy"), null));
        Assert.Contains("q32.npy", e.Message);
        Assert.Contains("256 bits", e.Message);
        Assert.Contains("int64", Assert.Throws<UserInputException>(() => KnnCommand.Run(TextWriter.Null, P("db.npy"), P("wrong.npy"), 1, "scan", 1, P("o.npy"), null)).Message);
        Assert.Contains("--k", Assert.Throws<UserInputException>(() => KnnCommand.Run(TextWriter.Null, P("db.npy"), P("db.npy"), 0, "scan", 1, P("o.npy"), null)).Message);
        Assert.Contains("not found", Assert.Throws<UserInputException>(() => KnnCommand.Run(TextWriter.Null, P("none.npy"), P("db.npy"), 1, "scan", 1, P("o.npy"), null)).Message);
        Assert.False(File.Exists(P("o.npy")));
    }
}
