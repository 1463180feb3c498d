using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;
using MultiLevelHashing.Tests.Data;

namespace MultiLevelHashing.Tests.Search.Regions;

/// <summary>
/// Region codes made chunk by chunk (<see cref="RegionChunkCache"/>): the streamed file equals the one written from the
/// region codes held whole in memory, byte for byte; an interrupted run keeps its chunks and resumes; shards and a joining
/// run code every chunk once and write the single run's bytes; a damaged chunk is coded again and chunks on different
/// grids are refused naming the file. Synthetic codes: image i's regions depend on i only (some images have none, and
/// some images are left out by the code cache as unreadable).
/// </summary>
public class RegionChunkCacheTests
{
    private const int RegionBits = 24, Height = 3, Width = 4, Images = 11, Chunk = 4;
    private static readonly int[] CodeBits = ChunkedCodeCacheTests.Bits;
    private static readonly HashSet<int> Unreadable = [2, 9];
    private static readonly List<string> Ids = [.. Enumerable.Range(0, Images).Select(i => $"img_{i}")];

    /// <summary>The region codes of image <paramref name="image"/>: (i mod 5) regions, bits and positions drawn from a generator seeded by i.</summary>
    private static RegionCodes ImageRegions(int image, int height = Height, int width = Width)
    {
        int count = image % 5;
        var rng = new SeededRandom(77 + image);
        var words = Enumerable.Range(0, count).Select(_ => (ulong)rng.Next(1 << RegionBits)).ToArray();
        var positions = Enumerable.Range(0, count).Select(r => new RegionPosition(rng.Next(height), rng.Next(width), (float)rng.NextDouble())).ToArray();
        return new RegionCodes(RegionBits, height, width, words, [0, count], positions);
    }

    private sealed class RegionEncoder(int height = Height, int width = Width)
    {
        public List<int[]> Calls { get; } = [];
        public int FailAfterCalls { get; set; } = int.MaxValue;

        public RegionCodes Encode(IReadOnlyList<int> images, IProgress<ProgressReport>? progress)
        {
            if (Calls.Count >= FailAfterCalls) throw new OperationCanceledException("interrupted");
            Calls.Add([.. images]);
            progress.Report("inner", images.Count, images.Count, "img");
            return RegionCodes.Concat([.. images.Select(i => ImageRegions(i, height, width))], RegionBits, height, width);
        }
    }

    /// <summary>Global and local codes that depend only on the image; the unreadable images are left out.</summary>
    private static ChunkCodes EncodeCodes(int start, int count, IProgress<ProgressReport>? progress)
    {
        var kept = Enumerable.Range(0, count).Where(k => !Unreadable.Contains(start + k)).ToArray();
        var levels = CodeBits.Select((b, l) =>
        {
            var codes = new PackedCodes(b);
            foreach (int k in kept) codes.Append(ChunkedCodeCacheTests.ExpectedCode(l, start + k));
            return codes;
        }).ToArray();
        return new ChunkCodes(levels, kept.Length == count ? null : kept, [.. Enumerable.Range(0, count).Except(kept).Select(k => $"img_{start + k}.jpg: cannot decode")]);
    }

    private static CachedCodes Codes(string dir) =>
        ChunkedCodeCache.Ensure(Path.Combine(dir, "db.mlhidx"), Ids, CodeBits, Chunk, EncodeCodes, allowSkipped: true);

    /// <summary>The truth: the kept images' region codes joined in memory, and the file the in-memory writer makes of them.</summary>
    private static (RegionCodes Regions, byte[] File) InMemory(string dir, CodeIndex codes)
    {
        var kept = Enumerable.Range(0, Images).Where(i => !Unreadable.Contains(i)).ToList();
        var regions = RegionCodes.Concat([.. kept.Select(i => ImageRegions(i))], RegionBits, Height, Width);
        string path = Path.Combine(dir, "in-memory.mlhidx");
        CodeIndexFile.Write(path, codes.ImageIds, [codes.Levels[0]], regions);
        return (regions, File.ReadAllBytes(path));
    }

    private static void AssertSameRegions(RegionCodes expected, RegionCodes actual)
    {
        Assert.Equal((expected.Bits, expected.GridHeight, expected.GridWidth), (actual.Bits, actual.GridHeight, actual.GridWidth));
        Assert.Equal(expected.Offsets.ToArray(), actual.Offsets.ToArray());
        Assert.Equal(expected.AllPositions.ToArray(), actual.AllPositions.ToArray());
        Assert.Equal(expected.AllCodes.ToArray(), actual.AllCodes.ToArray());
    }

    [Fact]
    public void StreamedRegionCodesEqualTheInMemoryOnesAndTheirFileByteForByte()
    {
        string dir = TestPaths.NewTempDirectory("region-chunks");
        try
        {
            using var codes = Codes(dir);
            var (regions, bytes) = InMemory(dir, codes.Index);
            string path = Path.Combine(dir, "db.regions.mlhidx");
            var encoder = new RegionEncoder();
            var reports = new List<ProgressReport>();
            using (var index = RegionChunkCache.Ensure(path, codes.Index, Ids, RegionBits, Chunk, encoder.Encode, "regions db", new SynchronousProgress(reports.Add)))
            {
                Assert.Equal(codes.Index.ImageIds, index.ImageIds);
                Assert.Equal(codes.Index.Levels[0].ToArray().Data, index.Levels[0].ToArray().Data);
                AssertSameRegions(regions, index.Regions!);
            }
            Assert.Equal(bytes, File.ReadAllBytes(path));
            // One call per chunk, each with the images the code cache kept in it (list positions).
            Assert.Equal([[0, 1, 3], [4, 5, 6, 7], [8, 10]], encoder.Calls);
            Assert.Equal((Images, Images), (reports[^1].Done, reports[^1].Total));
            Assert.All(reports, r => Assert.Equal("regions db", r.Task));
            Assert.False(Directory.Exists(RegionChunkCache.PartsDirectory(path)));

            // Found again: nothing coded.
            var again = new RegionEncoder();
            using (RegionChunkCache.Ensure(path, codes.Index, Ids, RegionBits, Chunk, again.Encode)) Assert.Empty(again.Calls);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AnInterruptedRunKeepsItsChunksAndResumesWithTheSameFile()
    {
        string dir = TestPaths.NewTempDirectory("region-resume");
        try
        {
            using var codes = Codes(dir);
            var (_, bytes) = InMemory(dir, codes.Index);
            string path = Path.Combine(dir, "db.regions.mlhidx");
            var first = new RegionEncoder { FailAfterCalls = 2 };
            Assert.Throws<OperationCanceledException>(() => RegionChunkCache.Ensure(path, codes.Index, Ids, RegionBits, Chunk, first.Encode));
            Assert.False(File.Exists(path));
            Assert.Equal(2, Directory.GetFiles(RegionChunkCache.PartsDirectory(path), "chunk-*.bin").Length);

            var resumed = new RegionEncoder();
            using (RegionChunkCache.Ensure(path, codes.Index, Ids, RegionBits, Chunk, resumed.Encode)) { }
            Assert.Equal([[8, 10]], resumed.Calls); // only the chunk the interrupted run did not finish
            Assert.Equal(bytes, File.ReadAllBytes(path));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ShardsThenAJoiningRunCodeEveryChunkOnceAndWriteTheSingleRunsBytes()
    {
        string dir = TestPaths.NewTempDirectory("region-shards");
        try
        {
            string single = Path.Combine(dir, "single"), shared = Path.Combine(dir, "shared");
            Directory.CreateDirectory(single);
            Directory.CreateDirectory(shared);
            using (var codes = Codes(single))
            using (RegionChunkCache.Ensure(Path.Combine(single, "db.regions.mlhidx"), codes.Index, Ids, RegionBits, Chunk, new RegionEncoder().Encode)) { }

            string index = Path.Combine(shared, "db.mlhidx"), regions = Path.Combine(shared, "db.regions.mlhidx");
            // A shard whose code chunks are not stored cannot know which images they keep: refused, naming the file.
            var early = Assert.Throws<UserInputException>(() => RegionChunkCache.EncodeShard(regions, Ids,
                ChunkedCodeCache.KeptImages(index, Ids, CodeBits, Chunk, allowSkipped: true), RegionBits, Chunk, new CodeShard(0, 3), new RegionEncoder().Encode));
            Assert.Contains(regions, early.Message);
            Assert.Contains("not stored", early.Message);

            var coded = new List<int[]>();
            for (int s = 0; s < 3; s++)
            {
                var shard = new CodeShard(s, 3);
                ChunkedCodeCache.EncodeShard(index, Ids, CodeBits, Chunk, shard, EncodeCodes, allowSkipped: true);
                var kept = ChunkedCodeCache.KeptImages(index, Ids, CodeBits, Chunk, allowSkipped: true);
                Assert.All(RegionChunkCache.Plan(regions, Ids, kept, RegionBits, Chunk, shard), c => Assert.False(c.Stored));
                var encoder = new RegionEncoder();
                var work = RegionChunkCache.EncodeShard(regions, Ids, kept, RegionBits, Chunk, shard, encoder.Encode);
                Assert.Equal((1, 0), (work.EncodedChunks, work.StoredChunks)); // three chunks, one per shard
                coded.AddRange(encoder.Calls);
                Assert.All(RegionChunkCache.Plan(regions, Ids, kept, RegionBits, Chunk, shard), c => Assert.True(c.Stored));
            }
            Assert.Equal([[0, 1, 3], [4, 5, 6, 7], [8, 10]], coded);

            var joining = new RegionEncoder();
            using (var codes = Codes(shared))
            using (RegionChunkCache.Ensure(regions, codes.Index, Ids, RegionBits, Chunk, joining.Encode)) { }
            Assert.Empty(joining.Calls);
            Assert.Equal(File.ReadAllBytes(Path.Combine(single, "db.regions.mlhidx")), File.ReadAllBytes(regions));
            Assert.False(Directory.Exists(RegionChunkCache.PartsDirectory(regions)));

            // A shard started after the file is complete codes nothing.
            var late = new RegionEncoder();
            var lateWork = RegionChunkCache.EncodeShard(regions, Ids, ChunkedCodeCache.KeptImages(index, Ids, CodeBits, Chunk, allowSkipped: true),
                RegionBits, Chunk, new CodeShard(1, 3), late.Encode);
            Assert.Equal((0, 1), (lateWork.EncodedChunks, lateWork.StoredChunks));
            Assert.Empty(late.Calls);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ADamagedChunkIsCodedAgainAndChunksOnAnotherGridAreRefusedNamingTheFile()
    {
        string dir = TestPaths.NewTempDirectory("region-damage");
        try
        {
            using var codes = Codes(dir);
            var (_, bytes) = InMemory(dir, codes.Index);
            string path = Path.Combine(dir, "db.regions.mlhidx"), parts = RegionChunkCache.PartsDirectory(path);
            Assert.Throws<OperationCanceledException>(() => RegionChunkCache.Ensure(path, codes.Index, Ids, RegionBits, Chunk, new RegionEncoder { FailAfterCalls = 2 }.Encode));
            string damaged = Path.Combine(parts, "chunk-000001.bin");
            var chunk = File.ReadAllBytes(damaged);
            chunk[chunk.Length / 2] ^= 0x40;
            File.WriteAllBytes(damaged, chunk);
            File.WriteAllBytes(Path.Combine(parts, "chunk-000000.bin"), chunk[..20]); // truncated
            var repaired = new RegionEncoder();
            using (RegionChunkCache.Ensure(path, codes.Index, Ids, RegionBits, Chunk, repaired.Encode)) { }
            Assert.Equal([[0, 1, 3], [4, 5, 6, 7], [8, 10]], repaired.Calls);
            Assert.Equal(bytes, File.ReadAllBytes(path));

            // Chunks stored by another coder (another grid) are not silently mixed: the join names the chunk.
            string other = Path.Combine(dir, "other.regions.mlhidx");
            var kept = ChunkedCodeCache.KeptImages(codes.Index.Path, Ids, CodeBits, Chunk, allowSkipped: true);
            RegionChunkCache.EncodeShard(other, Ids, kept, RegionBits, Chunk, new CodeShard(1, 3), new RegionEncoder(5, 5).Encode);
            var e = Assert.Throws<UserInputException>(() => RegionChunkCache.Ensure(other, codes.Index, Ids, RegionBits, Chunk, new RegionEncoder().Encode));
            Assert.Contains(Path.Combine(RegionChunkCache.PartsDirectory(other), "chunk-000001.bin"), e.Message);
            Assert.Contains("5 x 5 grid", e.Message);
            Assert.False(File.Exists(other));
        }
        finally { Directory.Delete(dir, true); }
    }

    private sealed class SynchronousProgress(Action<ProgressReport> report) : IProgress<ProgressReport>
    {
        public void Report(ProgressReport value) => report(value);
    }

    [Fact]
    public void TheStreamingWriterRefusesPiecesThatDisagreeWithTheSection()
    {
        string dir = TestPaths.NewTempDirectory("region-section");
        try
        {
            var ids = new[] { "a", "b" };
            using var level = new PackedCodes(64);
            level.Append(new byte[8]);
            level.Append(new byte[8]);
            var pieces = new[] { ImageRegions(1), ImageRegions(2) };
            string path = Path.Combine(dir, "x.mlhidx");
            Assert.Throws<ArgumentException>(() => CodeIndexFile.Write(path, ids, [64], _ => [level],
                new RegionSection(RegionBits, Height, Width, 2, () => pieces))); // 3 regions, 2 declared
            Assert.Throws<ArgumentException>(() => CodeIndexFile.Write(path, ids, [64], _ => [level],
                new RegionSection(RegionBits, Height, Width, 1, () => pieces[..1]))); // one image of two
            Assert.False(File.Exists(path));
            CodeIndexFile.Write(path, ids, [64], _ => [level], new RegionSection(RegionBits, Height, Width, 3, () => pieces));
            using var index = CodeIndexFile.Open(path, [64]);
            AssertSameRegions(RegionCodes.Concat(pieces, RegionBits, Height, Width), index.Regions!);
        }
        finally { Directory.Delete(dir, true); }
    }
}
