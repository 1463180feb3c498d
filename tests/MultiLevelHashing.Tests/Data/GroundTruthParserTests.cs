using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using FsCheck;
using FsCheck.Xunit;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Tests.Data;

public class GroundTruthParserTests
{
    private static Dictionary<string, (string Display, string Text)> Files(params (string Name, string Text)[] files)
        => files.ToDictionary(f => f.Name, f => ("gt/" + f.Name, f.Text));

    private static (string, string)[] OneQuery(string query = "oxc1_a_000001 1 2 30 40\n", string good = "a_000001\na_000002\n", string ok = "b_000001\n", string junk = "c_000001\n")
        => [("a_1_query.txt", query), ("a_1_good.txt", good), ("a_1_ok.txt", ok), ("a_1_junk.txt", junk)];

    [Fact]
    public void ParsesAMinimalQuery()
    {
        var gt = OxfordTextGroundTruth.Parse("gt", Files(OneQuery()));
        var q = Assert.Single(gt.Queries);
        Assert.Equal("a_1", q.Id);
        Assert.Equal("a", q.Landmark);
        Assert.Equal("a_000001", q.ImageName);
        Assert.Equal(new BoundingBox(1, 2, 30, 40), q.Box);
        Assert.Equal(["a_000001", "a_000002", "b_000001", "c_000001"], gt.DatabaseImages);
        Assert.Equal([0, 1], q.Classic!.Good!);
        Assert.Equal([2], q.Classic.Ok!);
        Assert.Equal([0, 1, 2], q.Classic.Positives);
        Assert.Equal([3], q.Classic.Junk);
    }

    [Fact]
    public void QueriesAreOrderedByLandmarkThenNumber()
    {
        var files = new List<(string, string)>();
        foreach (var stem in new[] { "b_10", "a_2", "b_9", "a_1" })
            files.AddRange([($"{stem}_query.txt", "x 0 0 1 1\n"), ($"{stem}_good.txt", "x\n"), ($"{stem}_ok.txt", ""), ($"{stem}_junk.txt", "")]);
        var gt = OxfordTextGroundTruth.Parse("gt", Files([.. files]));
        Assert.Equal(["a_1", "a_2", "b_9", "b_10"], gt.Queries.Select(q => q.Id));
    }

    [Theory]
    [InlineData("a 1 2 3\n", "gt/a_1_query.txt:1", "5 fields")]
    [InlineData("a 1 2 x 4\n", "gt/a_1_query.txt:1", "not a number")]
    [InlineData("a 10 2 5 40\n", "gt/a_1_query.txt:1", "bad box")]
    [InlineData("a -1 2 5 40\n", "gt/a_1_query.txt:1", "bad box")]
    [InlineData("a NaN 2 5 40\n", "gt/a_1_query.txt:1", "not a number")]
    [InlineData("\n\n", "gt/a_1_query.txt", "empty query file")]
    [InlineData("a 1 2 30 40\nb 1 2 30 40\n", "gt/a_1_query.txt:2", "second")]
    public void BadQueryFilesNameFileAndLine(string query, string where, string problem)
    {
        var e = Assert.Throws<UserInputException>(() => OxfordTextGroundTruth.Parse("gt", Files(OneQuery(query: query))));
        Assert.StartsWith(where, e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void ListLinesWithSpacesAreRejected()
    {
        var e = Assert.Throws<UserInputException>(() => OxfordTextGroundTruth.Parse("gt", Files(OneQuery(good: "a_000001\nb 2\n"))));
        Assert.StartsWith("gt/a_1_good.txt:2:", e.Message);
    }

    [Fact]
    public void MissingListFileIsNamed()
    {
        var e = Assert.Throws<UserInputException>(() => OxfordTextGroundTruth.Parse("gt", Files(OneQuery()[..3])));
        Assert.Contains("a_1_junk.txt", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void MissingPathsAndEmptyFilesAreUserErrors()
    {
        string temp = TestPaths.NewTempDirectory("gt-missing");
        try
        {
            Assert.Contains("no such", Assert.Throws<UserInputException>(() => GroundTruthReader.Read(Path.Combine(temp, "nope"))).Message);
            Assert.Contains("no *_query.txt", Assert.Throws<UserInputException>(() => GroundTruthReader.Read(temp)).Message);
            string empty = Path.Combine(temp, "gnd_x.pkl");
            File.WriteAllBytes(empty, []);
            Assert.Contains("empty", Assert.Throws<UserInputException>(() => GroundTruthReader.Read(empty)).Message);
            string notTar = Path.Combine(temp, "x.tgz");
            File.WriteAllText(notTar, "this is not an archive at all, just some text that is long enough to be a header.....");
            var e = Assert.Throws<UserInputException>(() => GroundTruthReader.Read(notTar));
            Assert.StartsWith(notTar, e.Message);
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void EmptyListsReadTheSameFromAFolderAndFromATgz()
    {
        var lists = new (string Name, string Text)[]
        {
            ("a_1_query.txt", "oxc1_a_000001 1 2 30 40\n"), ("a_1_good.txt", "a_000002\n"), ("a_1_ok.txt", ""), ("a_1_junk.txt", "c_000001\n"),
            ("b_1_query.txt", "oxc1_b_000001 0 0 5 6\n"), ("b_1_good.txt", ""), ("b_1_ok.txt", "b_000002\n"), ("b_1_junk.txt", ""),
        };
        string temp = TestPaths.NewTempDirectory("gt-empty-list");
        try
        {
            string folder = Path.Combine(temp, "gt_files");
            Directory.CreateDirectory(folder);
            foreach (var (name, text) in lists) File.WriteAllText(Path.Combine(folder, name), text);
            Assert.Equal(0, new FileInfo(Path.Combine(folder, "a_1_ok.txt")).Length);

            string archive = Path.Combine(temp, "gt_files.tgz");
            using (var file = File.Create(archive))
            using (var gz = new GZipStream(file, CompressionLevel.Optimal))
            using (var tar = new TarWriter(gz, TarEntryFormat.Ustar))
                foreach (var (name, text) in lists)
                {
                    var entry = new UstarTarEntry(TarEntryType.RegularFile, "gt_files/" + name);
                    if (text.Length > 0) entry.DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text));
                    tar.WriteEntry(entry);
                }

            var fromFolder = GroundTruthReader.Read(folder);
            var fromArchive = GroundTruthReader.Read(archive);

            // Hand-derived: database = sorted names of every list and query image.
            string[] database = ["a_000001", "a_000002", "b_000001", "b_000002", "c_000001"];
            foreach (var gt in new[] { fromFolder, fromArchive })
            {
                Assert.Equal(database, gt.DatabaseImages);
                Assert.Equal(["a_1", "b_1"], gt.Queries.Select(q => q.Id));
                var a = gt.Queries[0].Classic!;
                Assert.Equal([1], a.Good!);
                Assert.Empty(a.Ok!);
                Assert.Equal([1], a.Positives);
                Assert.Equal([4], a.Junk);
                var b = gt.Queries[1].Classic!;
                Assert.Empty(b.Good!);
                Assert.Equal([3], b.Ok!);
                Assert.Equal([3], b.Positives);
                Assert.Empty(b.Junk);
            }
            Assert.Equal(fromFolder.Queries.Select(q => (q.Id, q.ImageName, q.Box, q.Landmark)),
                         fromArchive.Queries.Select(q => (q.Id, q.ImageName, q.Box, q.Landmark)));
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void UnknownImagesAreReportedWhenJoiningAnImageList()
    {
        var gt = OxfordTextGroundTruth.Parse("gt", Files(OneQuery()));
        var e = Assert.Throws<UserInputException>(() => gt.WithDatabase(["a_000001", "a_000002", "b_000001"]));
        Assert.Contains("c_000001", e.Message);
    }

    private static GroundTruth RandomTruth(int seed, bool revisited)
    {
        var rng = new Random(seed);
        int n = rng.Next(1, 40);
        var db = Enumerable.Range(0, n).Select(i => $"im_{i:D5}_{rng.Next(1000)}").Distinct().ToArray();
        int[] Subset() => [.. Enumerable.Range(0, db.Length).Where(_ => rng.NextDouble() < 0.2)];
        var queries = Enumerable.Range(0, rng.Next(1, 6)).Select(q =>
        {
            double x1 = Math.Round(rng.NextDouble() * 100, 1), y1 = Math.Round(rng.NextDouble() * 100, 1);
            var box = new BoundingBox(x1, y1, x1 + 1 + Math.Round(rng.NextDouble() * 500, 1), y1 + 1 + Math.Round(rng.NextDouble() * 500, 1));
            int[] good = Subset(), ok = Subset().Except(good).ToArray(), junk = Subset().Except(good).Except(ok).ToArray();
            return new GroundTruthQuery($"lm_{q + 1}", db[rng.Next(db.Length)], box, "lm",
                new ClassicLabels(GroundTruth.Union(good, ok), junk, good, ok), revisited ? new RevisitedLabels(good, ok, junk) : null);
        }).ToList();
        return new GroundTruth("random", db, queries, true);
    }

    [Property(MaxTest = 100)]
    public bool TextListsRoundTrip(int seed)
    {
        var truth = RandomTruth(seed, revisited: false);
        var files = new Dictionary<string, (string, string)>();
        foreach (var q in truth.Queries)
        {
            string L(int[] idx) => string.Concat(idx.Select(i => truth.DatabaseImages[i] + "\r\n"));
            files[$"{q.Id}_query.txt"] = ("f", string.Create(CultureInfo.InvariantCulture, $"oxc1_{q.ImageName} {q.Box.X1} {q.Box.Y1} {q.Box.X2} {q.Box.Y2}\n"));
            files[$"{q.Id}_good.txt"] = ("f", L(q.Classic!.Good!));
            files[$"{q.Id}_ok.txt"] = ("f", L(q.Classic.Ok!));
            files[$"{q.Id}_junk.txt"] = ("f", L(q.Classic.Junk));
        }
        var parsed = OxfordTextGroundTruth.Parse("random", files).WithDatabase(truth.DatabaseImages);
        return parsed.Queries.Zip(truth.Queries).All(p =>
            p.First.Id == p.Second.Id && p.First.ImageName == p.Second.ImageName && p.First.Box == p.Second.Box
            && p.First.Classic!.Good!.SequenceEqual(p.Second.Classic!.Good!) && p.First.Classic.Ok!.SequenceEqual(p.Second.Classic.Ok!)
            && p.First.Classic.Junk.SequenceEqual(p.Second.Classic.Junk));
    }

    [Property(MaxTest = 60)]
    public bool PickleRoundTrips(int seed, bool revisited)
    {
        var truth = RandomTruth(seed, revisited);
        string temp = TestPaths.NewTempDirectory("pkl");
        try
        {
            string path = Path.Combine(temp, "gnd_random.pkl");
            PickleGroundTruth.Write(truth, path);
            var back = PickleGroundTruth.Read(path);
            return back.DatabaseImages.SequenceEqual(truth.DatabaseImages)
                && back.Queries.Zip(truth.Queries).All(p => p.First.ImageName == p.Second.ImageName && p.First.Box == p.Second.Box
                    && p.First.Classic!.Positives.SequenceEqual(p.Second.Classic!.Positives) && p.First.Classic.Junk.SequenceEqual(p.Second.Classic.Junk)
                    && (p.Second.Revisited is null ? p.First.Revisited is null
                        : p.First.Revisited!.Easy.SequenceEqual(p.Second.Revisited.Easy) && p.First.Revisited.Hard.SequenceEqual(p.Second.Revisited.Hard)));
        }
        finally { Directory.Delete(temp, true); }
    }

    [Property(MaxTest = 200)]
    public bool QueryFileParserEitherParsesOrReportsTheFile(string? text)
    {
        try
        {
            var (image, box) = OxfordTextGroundTruth.ParseQueryFile("q.txt", text ?? "");
            return box.IsValid && image.Length > 0;
        }
        catch (UserInputException e)
        {
            return e.Message.StartsWith("q.txt");
        }
    }

    [Property(MaxTest = 200)]
    public bool PickleParserNeverFailsWithAnythingButAUserError(byte[] bytes)
    {
        try
        {
            PickleGroundTruth.Parse("x.pkl", bytes);
            return true;
        }
        catch (UserInputException e)
        {
            return e.Message.StartsWith("x.pkl");
        }
    }

    [Property(MaxTest = 100)]
    public bool TruncatedPicklesAreReportedAsUserErrors(int seed, PositiveInt cut)
    {
        var truth = RandomTruth(seed, revisited: true);
        string temp = TestPaths.NewTempDirectory("pkl-cut");
        try
        {
            string path = Path.Combine(temp, "gnd.pkl");
            PickleGroundTruth.Write(truth, path);
            var bytes = File.ReadAllBytes(path);
            var truncated = bytes[..Math.Max(1, bytes.Length - 1 - cut.Get % (bytes.Length - 1))];
            try
            {
                PickleGroundTruth.Parse(path, truncated);
                return false;
            }
            catch (UserInputException e)
            {
                return e.Message.StartsWith(path);
            }
        }
        finally { Directory.Delete(temp, true); }
    }

    [SkippableFact]
    public void TruncatedRealPickleNamesTheFile()
    {
        var dir = TestPaths.GroundTruthDirectory;
        Skip.If(dir is null, TestPaths.MissingGroundTruth);
        string path = Path.Combine(dir!, "gnd_roxford5k.pkl");
        var bytes = File.ReadAllBytes(path);
        var e = Assert.Throws<UserInputException>(() => PickleGroundTruth.Parse(path, bytes[..(bytes.Length / 2)]));
        Assert.StartsWith(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }
}
