using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;

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

    /// <summary>Region codes of <paramref name="n"/> images with 0 to 5 regions each on a 3 x 4 grid.</summary>
    private static RegionCodes SampleRegions(int n, int bits, int seed)
    {
        var rng = new Random(seed);
        var offsets = new int[n + 1];
        for (int i = 0; i < n; i++) offsets[i + 1] = offsets[i] + rng.Next(0, 6);
        int regions = offsets[n], words = (bits + 63) / 64;
        var codes = new ulong[regions * words];
        for (int w = 0; w < codes.Length; w++) codes[w] = (ulong)rng.NextInt64() & (bits % 64 == 0 ? ulong.MaxValue : (1UL << (bits % 64)) - 1);
        var positions = Enumerable.Range(0, regions).Select(_ => new RegionPosition(rng.Next(3), rng.Next(4), rng.NextSingle())).ToArray();
        return new RegionCodes(bits, 3, 4, codes, offsets, positions);
    }

    private (string Path, PackedCodes G, RegionCodes Regions) WriteWithRegions(int n = 23)
    {
        var ids = Enumerable.Range(0, n).Select(i => $"r{i}").ToArray();
        var g = SyntheticCodes.Uniform(n, 64, 3);
        var l = SyntheticCodes.Uniform(n, 72, 4);
        var regions = SampleRegions(n, 256, 5);
        string path = Path.Combine(_dir, "regions.mlhindex");
        CodeIndexFile.Write(path, ids, [g, l], regions);
        return (path, g, regions);
    }

    [Fact]
    public void RoundTripsRegionCodesBesideTheLevels()
    {
        var (path, g, regions) = WriteWithRegions();
        using var index = CodeIndexFile.Open(path, [64, 72]);
        Assert.Equal(g.ToArray().Data, index.Levels[0].ToArray().Data);
        var read = index.Regions!;
        Assert.Equal((256, 3, 4, regions.Count, regions.TotalRegions), (read.Bits, read.GridHeight, read.GridWidth, read.Count, read.TotalRegions));
        Assert.Equal(regions.Offsets.ToArray(), read.Offsets.ToArray());
        Assert.Equal(regions.AllPositions.ToArray(), read.AllPositions.ToArray());
        Assert.Equal(regions.AllCodes.ToArray(), read.AllCodes.ToArray());
        // The mapped codes score exactly as the in-memory ones (the 256-bit kernel reads them in place).
        var queries = SampleRegions(4, 256, 6);
        var inMemory = new RegionMatcher(regions).RankAll(queries);
        var mapped = new RegionMatcher(read).RankAll(queries);
        Assert.Equal(inMemory, mapped);
    }

    [Fact]
    public void RegionCodesGoThroughTheChunkedWriterToo()
    {
        var ids = Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray();
        var first = SyntheticCodes.Uniform(4, 64, 7);
        var second = SyntheticCodes.Uniform(6, 64, 8);
        var regions = SampleRegions(10, 40, 8);
        string path = Path.Combine(_dir, "chunked.mlhindex");
        CodeIndexFile.Write(path, ids, [64], _ => [first, second], regions);
        using var index = CodeIndexFile.Open(path);
        Assert.Equal(first.ToArray().Data.Concat(second.ToArray().Data), index.Levels[0].ToArray().Data);
        Assert.Equal(regions.AllCodes.ToArray(), index.Regions!.AllCodes.ToArray());
        Assert.Equal(40, index.Regions.Bits);
    }

    [Fact]
    public void AnIndexWithoutRegionsHasNone()
    {
        var (path, _, _, _) = WriteSample(4);
        using var index = CodeIndexFile.Open(path);
        Assert.Null(index.Regions);
    }

    [Fact]
    public void VersionOneFilesStillOpen()
    {
        // A version-1 file: the version-2 layout without the region descriptor (4 zero bytes after N), checksum redone.
        var (path, ids, g, l) = WriteSample(6);
        var v2 = File.ReadAllBytes(path);
        int afterCount = 8 + 4 + 4 + 2 * 4 + 8;
        Assert.Equal(0, BitConverter.ToInt32(v2, afterCount));
        var v1 = new MemoryStream();
        v1.Write(v2, 0, 8);
        v1.Write(BitConverter.GetBytes(1));
        v1.Write(v2, 12, afterCount - 12);
        foreach (string id in ids)
        {
            var utf8 = System.Text.Encoding.UTF8.GetBytes(id);
            v1.Write(BitConverter.GetBytes(utf8.Length));
            v1.Write(utf8);
        }
        foreach (var level in new[] { g, l })
        {
            while (v1.Length % 64 != 0) v1.WriteByte(0);
            v1.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(level.AllWords));
        }
        var hash = System.IO.Hashing.XxHash3.HashToUInt64(v1.ToArray());
        v1.Write(BitConverter.GetBytes(hash));
        v1.Write("MLHEND\0\0"u8);
        string old = Path.Combine(_dir, "v1.mlhindex");
        File.WriteAllBytes(old, v1.ToArray());
        using var index = CodeIndexFile.Open(old, [64, 72]);
        Assert.Equal(ids, index.ImageIds);
        Assert.Equal(l.ToArray().Data, index.Levels[1].ToArray().Data);
        Assert.Null(index.Regions);
    }

    [Fact]
    public void DamagedOrTruncatedRegionSectionsAreRefusedNamingTheFile()
    {
        var (path, _, regions) = WriteWithRegions();
        var bytes = File.ReadAllBytes(path);
        // A flipped bit inside the region codes (the last section before the vocabulary's word count, 0 here, and the
        // trailer) fails the checksum.
        var flipped = (byte[])bytes.Clone();
        flipped[^24] ^= 0x01;
        File.WriteAllBytes(path, flipped);
        var e = Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path));
        Assert.Contains("checksum", e.Message);
        Assert.Contains(path, e.Message);

        // Without the checksum the layout checks still refuse a region section cut short (trailer kept, codes lost)...
        var cut = bytes[..^(16 + 64)].Concat(bytes[^16..]).ToArray();
        File.WriteAllBytes(path, cut);
        e = Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path, verifyChecksum: false));
        Assert.Contains("region", e.Message);
        Assert.Contains(path, e.Message);

        // ...and a position moved off the grid.
        int positionsAt = Find(bytes, System.Runtime.InteropServices.MemoryMarshal.AsBytes(regions.AllPositions).ToArray());
        var offGrid = (byte[])bytes.Clone();
        BitConverter.GetBytes(99).CopyTo(offGrid, positionsAt);
        File.WriteAllBytes(path, offGrid);
        e = Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path, verifyChecksum: false));
        Assert.Contains("region section", e.Message);
        Assert.Contains(path, e.Message);
        File.WriteAllBytes(path, bytes);
        using (CodeIndexFile.Open(path)) { }
    }

    [Fact]
    public void RegionCodesMustDescribeEveryImage()
    {
        var ids = Enumerable.Range(0, 5).Select(i => $"i{i}").ToArray();
        var g = SyntheticCodes.Uniform(5, 64, 1);
        string path = Path.Combine(_dir, "mismatch.mlhindex");
        var e = Assert.Throws<ArgumentException>(() => CodeIndexFile.Write(path, ids, [g], SampleRegions(4, 64, 2)));
        Assert.Contains("4 images", e.Message);
        Assert.False(File.Exists(path));

        // A file whose offsets disagree with its region count (header says one thing, offsets another) is refused.
        CodeIndexFile.Write(path, ids, [g], SampleRegions(5, 64, 2));
        var bytes = File.ReadAllBytes(path);
        int totalAt = 8 + 4 + 4 + 4 + 8 + 4 + 4 + 4;
        long total = BitConverter.ToInt64(bytes, totalAt);
        BitConverter.GetBytes(total - 1).CopyTo(bytes, totalAt);
        File.WriteAllBytes(path, bytes);
        var refused = Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path, verifyChecksum: false));
        Assert.Contains(path, refused.Message);
    }

    private (string Path, RegionCodes Regions, RegionVocabulary Vocabulary) WriteWithVocabulary(int n = 23, int bits = 256)
    {
        var ids = Enumerable.Range(0, n).Select(i => $"v{i}").ToArray();
        var regions = SampleRegions(n, bits, 11);
        var vocabulary = RegionVocabulary.FitDefault(regions);
        string path = Path.Combine(_dir, "vocabulary.mlhindex");
        CodeIndexFile.Write(path, ids, [SyntheticCodes.Uniform(n, 64, 3)], regions, vocabulary);
        return (path, regions, vocabulary);
    }

    private static void AssertSameVocabulary(RegionVocabulary expected, RegionVocabulary? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal((expected.Bits, expected.Count, expected.Fitting), (actual.Bits, actual.Count, actual.Fitting));
        Assert.Equal(expected.AllCentroids.ToArray(), actual.AllCentroids.ToArray());
    }

    [Theory]
    [InlineData(256)]
    [InlineData(40)]
    public void TheRegionVocabularyRoundTripsAndEqualsAFreshFit(int bits)
    {
        var (path, regions, vocabulary) = WriteWithVocabulary(bits: bits);
        RegionVocabulary read;
        using (var index = CodeIndexFile.Open(path))
        {
            read = index.Vocabulary!;
            AssertSameVocabulary(vocabulary, read);
            Assert.Equal(new RegionVocabularyFit(RegionVocabulary.DefaultSize(regions.TotalRegions), RegionVocabulary.DefaultIterations, 0,
                RegionVocabulary.DefaultSampleSize), read.Fitting);
            // The stored words are those a fresh fit on the stored region codes gives.
            AssertSameVocabulary(RegionVocabulary.FitDefault(index.Regions!), read);
        }
        // Copied out of the mapping: still readable after the index is closed.
        Assert.Equal(vocabulary.AllCentroids.ToArray(), read.AllCentroids.ToArray());

        // The streaming writer stores the same bytes, and centroids given without their fitting reload without it.
        string streamed = Path.Combine(_dir, "streamed.mlhindex");
        var ids = Enumerable.Range(0, regions.Count).Select(i => $"v{i}").ToArray();
        var g = SyntheticCodes.Uniform(regions.Count, 64, 3);
        CodeIndexFile.Write(streamed, ids, [64], _ => [g],
            new RegionSection(bits, 3, 4, regions.TotalRegions, () => [regions.Slice(0, 10), regions.Slice(10, regions.Count - 10)]) { Vocabulary = vocabulary });
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(streamed));
        var bare = RegionVocabulary.FromCentroids(bits, vocabulary.AllCentroids.ToArray());
        CodeIndexFile.Write(streamed, ids, [g], regions, bare);
        using var reloaded = CodeIndexFile.Open(streamed);
        AssertSameVocabulary(bare, reloaded.Vocabulary);
        Assert.Null(reloaded.Vocabulary!.Fitting);
    }

    [Fact]
    public void IndexesWithoutAVocabularyAndVersionTwoFilesStillOpen()
    {
        var (path, _, regions) = WriteWithRegions();
        var v3 = File.ReadAllBytes(path);
        Assert.Equal(CodeIndexFile.FormatVersion, BitConverter.ToInt32(v3, 8));
        using (var index = CodeIndexFile.Open(path))
        {
            Assert.NotNull(index.Regions);
            Assert.Null(index.Vocabulary);
        }
        // A version-2 file: the version-3 layout without the vocabulary's word count (4 zero bytes before the trailer).
        Assert.Equal(0, BitConverter.ToInt32(v3, v3.Length - 20));
        var v2 = v3[..^20];
        BitConverter.GetBytes(2).CopyTo(v2, 8);
        string old = Path.Combine(_dir, "v2.mlhindex");
        File.WriteAllBytes(old, [.. v2, .. BitConverter.GetBytes(System.IO.Hashing.XxHash3.HashToUInt64(v2)), .. "MLHEND\0\0"u8.ToArray()]);
        using (var index = CodeIndexFile.Open(old, [64, 72]))
        {
            Assert.Equal(regions.AllCodes.ToArray(), index.Regions!.AllCodes.ToArray());
            Assert.Equal(regions.Offsets.ToArray(), index.Regions.Offsets.ToArray());
            Assert.Null(index.Vocabulary);
        }
        // Index files without region codes have no vocabulary, and cannot be given one.
        var (plain, ids, g, _) = WriteSample(4);
        using (var index = CodeIndexFile.Open(plain)) Assert.Null(index.Vocabulary);
        Assert.Throws<ArgumentException>(() => CodeIndexFile.Write(plain, ids, [64], _ => [g], null, RegionVocabulary.FitDefault(regions)));
        Assert.Throws<ArgumentException>(() => CodeIndexFile.Write(plain, ids, [g], SampleRegions(4, 128, 1), RegionVocabulary.FitDefault(regions)));
    }

    [Fact]
    public void ADamagedVocabularyIsRefusedNamingTheFile()
    {
        var (path, _, vocabulary) = WriteWithVocabulary();
        var bytes = File.ReadAllBytes(path);
        int centroidsAt = Find(bytes, System.Runtime.InteropServices.MemoryMarshal.AsBytes(vocabulary.AllCentroids).ToArray());
        foreach (bool verify in new[] { true, false })
        {
            // A flipped byte in a centroid: refused by the vocabulary's own checksum, with or without the file's.
            var flipped = (byte[])bytes.Clone();
            flipped[centroidsAt + 13] ^= 0x20;
            File.WriteAllBytes(path, flipped);
            var e = Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path, verifyChecksum: verify));
            Assert.Contains(path, e.Message);
            Assert.Contains(verify ? "damaged" : "damaged region vocabulary", e.Message);
            Assert.Contains("vocabulary", e.Message);

            // A word count that claims more than the file holds, and words of another length than the region codes.
            // (word count, bits, then the fitting's four fields, padded to the centroids' 64-byte boundary)
            int countAt = centroidsAt - 24;
            while (BitConverter.ToInt32(bytes, countAt) != vocabulary.Count || BitConverter.ToInt32(bytes, countAt + 4) != vocabulary.Bits) countAt--;
            Assert.True(centroidsAt - countAt < 64 + 24);
            var huge = (byte[])bytes.Clone();
            BitConverter.GetBytes(1 << 28).CopyTo(huge, countAt);
            File.WriteAllBytes(path, huge);
            e = Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path, verifyChecksum: verify));
            Assert.Contains(path, e.Message);
            Assert.Contains("vocabulary", e.Message);
            var otherBits = (byte[])bytes.Clone();
            BitConverter.GetBytes(128).CopyTo(otherBits, countAt + 4);
            File.WriteAllBytes(path, otherBits);
            e = Assert.Throws<UserInputException>(() => CodeIndexFile.Open(path, verifyChecksum: verify));
            Assert.Contains(path, e.Message);
            Assert.Contains("vocabulary", e.Message);
        }
        File.WriteAllBytes(path, bytes);
        using (var index = CodeIndexFile.Open(path)) AssertSameVocabulary(vocabulary, index.Vocabulary);
    }

    private static int Find(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("not found");
    }
}
