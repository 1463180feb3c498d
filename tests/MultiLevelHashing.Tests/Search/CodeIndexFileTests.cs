using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Tests.Search;

public sealed class CodeIndexFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mlh-index-" + Guid.NewGuid().ToString("N"));

    public CodeIndexFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (string Path, string[] Ids, PackedCodes G, PackedCodes L) WriteSample(int n = 37)
    {
        var ids = Enumerable.Range(0, n).Select(i => $"image_{i:D4}_é").ToArray();
        var g = SyntheticCodes.Uniform(n, 64, 1);
        var l = SyntheticCodes.Uniform(n, 72, 2);
        string path = Path.Combine(_dir, "db.mlhindex");
        CodeIndexFile.Write(path, ids, [g, l]);
        return (path, ids, g, l);
    }

    [Fact]
    public void RoundTripsIdsAndEveryLevel()
    {
        var (path, ids, g, l) = WriteSample();
        using var index = CodeIndexFile.Open(path, [64, 72]);
        Assert.Equal(ids, index.ImageIds);
        Assert.True(index.Levels[0].IsMemoryMapped);
        Assert.Equal(g.ToArray().Data, index.Levels[0].ToArray().Data);
        Assert.Equal(l.ToArray().Data, index.Levels[1].ToArray().Data);
        // Searching the mapped codes gives the same answers as the in-memory ones.
        var q = SyntheticCodes.Uniform(3, 72, 9);
        Assert.Equal(LinearScan.Search(l, q, 5).Ids.Data, LinearScan.Search(index.Levels[1], q, 5).Ids.Data);
    }

    [Fact]
    public void AFlippedByteIsReportedAsDamage()
    {
        var (path, _, _, _) = WriteSample();
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length - 40] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path));
        Assert.Contains("checksum", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void TruncationIsReported()
    {
        var (path, _, _, _) = WriteSample();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^20]);
        Assert.Contains("truncated", Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path)).Message);
    }

    [Fact]
    public void MismatchedCodeLengthsAreReported()
    {
        var (path, _, _, _) = WriteSample();
        var e = Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path, [64, 256]));
        Assert.Contains("72-bit", e.Message);
        Assert.Contains("256-bit", e.Message);
        Assert.Contains("2 levels", Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path, [64])).Message);
    }

    [Fact]
    public void OtherFilesAndNewerVersionsAreRejected()
    {
        string other = Path.Combine(_dir, "other.bin");
        File.WriteAllBytes(other, new byte[100]);
        Assert.Contains("not an index file", Assert.Throws<UserInputException>(() => CodeIndexFile.Open(other)).Message);
        var (path, _, _, _) = WriteSample();
        var bytes = File.ReadAllBytes(path);
        bytes[8] = 99;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("version 99", Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path)).Message);
        Assert.Contains("not found", Assert.Throws<UserInputException>(() => CodeIndexFile.Open(Path.Combine(_dir, "missing"))).Message);
    }

    [Fact]
    public void EmptyIndexRoundTrips()
    {
        string path = Path.Combine(_dir, "empty.mlhindex");
        CodeIndexFile.Write(path, [], [new PackedCodes(256)]);
        using var index = CodeIndexFile.Open(path);
        Assert.Equal(0, index.Count);
        Assert.Equal(256, index.Levels[0].Bits);
    }

    [Fact]
    public void AppendingToAMappedDatabaseCopiesItFirst()
    {
        var (path, _, g, _) = WriteSample(5);
        using var index = CodeIndexFile.Open(path);
        var codes = index.Levels[0];
        codes.Append(g.CodeBytes(0));
        Assert.False(codes.IsMemoryMapped);
        Assert.Equal(6, codes.Count);
        Assert.Equal(g.CodeBytes(0), codes.CodeBytes(5));
        Assert.Equal(g.CodeBytes(4), codes.CodeBytes(4));
    }
}
