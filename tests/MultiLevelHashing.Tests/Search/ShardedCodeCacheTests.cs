using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Data;

namespace MultiLevelHashing.Tests.Search;

/// <summary>
/// <see cref="CodeShard"/> and the sharded <see cref="ChunkedCodeCache"/>: shards split the chunks exactly, a run of the
/// whole list after them encodes nothing and writes the bytes of a single run, and chunks that left images out keep the
/// rest in order.
/// </summary>
public class ShardedCodeCacheTests
{
    private static readonly int[] Bits = ChunkedCodeCacheTests.Bits;

    private static byte[] Code(int level, int image) => ChunkedCodeCacheTests.ExpectedCode(level, image);

    /// <summary>Codes that depend only on the image; images in <paramref name="bad"/> are left out as unreadable.</summary>
    private sealed class Encoder(ISet<int>? bad = null)
    {
        public List<int> Chunks { get; } = [];

        public ChunkCodes Encode(int start, int count, IProgress<ProgressReport>? progress)
        {
            Chunks.Add(start);
            var kept = Enumerable.Range(0, count).Where(k => bad is null || !bad.Contains(start + k)).ToArray();
            var levels = Bits.Select((b, l) =>
            {
                var codes = new PackedCodes(b);
                foreach (int k in kept) codes.Append(Code(l, start + k));
                return codes;
            }).ToArray();
            return new ChunkCodes(levels, kept.Length == count ? null : kept,
                [.. Enumerable.Range(0, count).Except(kept).Select(k => $"img_{start + k}.jpg: cannot decode")]);
        }
    }

    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("3/4", 3, 4)]
    [InlineData("12/100", 12, 100)]
    public void ParsesShards(string text, int index, int count) => Assert.Equal(new CodeShard(index, count), CodeShard.Parse(text));

    [Theory]
    [InlineData("4/4")]
    [InlineData("-1/4")]
    [InlineData("1/0")]
    [InlineData("1")]
    [InlineData("a/b")]
    [InlineData("1/4/2")]
    public void RejectsBadShardsNamingTheOption(string text)
    {
        var e = Assert.Throws<UserInputException>(() => CodeShard.Parse(text));
        Assert.StartsWith($"--shard {text}: ", e.Message);
    }

    [Fact]
    public void ShardsThenAJoiningRunEncodeEveryChunkOnceAndWriteTheSingleRunsBytes()
    {
        string dir = TestPaths.NewTempDirectory("sharded-cache");
        try
        {
            var ids = Enumerable.Range(0, 23).Select(i => $"img_{i:D3}").ToList();
            string single = Path.Combine(dir, "single", "db.mlhidx"), sharded = Path.Combine(dir, "sharded", "db.mlhidx");
            ChunkedCodeCache.Ensure(single, ids, Bits, 3, new Encoder().Encode, allowSkipped: true).Dispose();

            var encoders = Enumerable.Range(0, 3).Select(_ => new Encoder()).ToList();
            for (int s = 0; s < 3; s++)
            {
                var plan = ChunkedCodeCache.Plan(sharded, ids, Bits, 3, new CodeShard(s, 3), allowSkipped: true);
                Assert.All(plan, c => Assert.False(c.Stored));
                var work = ChunkedCodeCache.EncodeShard(sharded, ids, Bits, 3, new CodeShard(s, 3), encoders[s].Encode, allowSkipped: true);
                Assert.Equal(plan.Select(c => c.Start), encoders[s].Chunks);
                Assert.Equal((plan.Count, 0), (work.EncodedChunks, work.StoredChunks));
                // Again: everything of this shard is stored.
                Assert.Equal(plan.Count, ChunkedCodeCache.EncodeShard(sharded, ids, Bits, 3, new CodeShard(s, 3), encoders[s].Encode, allowSkipped: true).StoredChunks);
            }
            Assert.Equal(Enumerable.Range(0, 8).Select(c => 3 * c), encoders.SelectMany(e => e.Chunks).Order());
            Assert.All(ChunkedCodeCache.Plan(sharded, ids, Bits, 3, CodeShard.All, allowSkipped: true), c => Assert.True(c.Stored));

            var joining = new Encoder();
            using (var index = ChunkedCodeCache.Ensure(sharded, ids, Bits, 3, joining.Encode, allowSkipped: true))
                Assert.Equal(ids, index.Index.ImageIds);
            Assert.Empty(joining.Chunks);
            Assert.Equal(File.ReadAllBytes(single), File.ReadAllBytes(sharded));
            Assert.False(Directory.Exists(ChunkedCodeCache.PartsDirectory(sharded)));
            // A shard started after the index is complete has nothing to do.
            var late = new Encoder();
            Assert.Equal(0, ChunkedCodeCache.EncodeShard(sharded, ids, Bits, 3, new CodeShard(1, 3), late.Encode, allowSkipped: true).EncodedChunks);
            Assert.Empty(late.Chunks);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ChunksThatLeftImagesOutKeepTheRestInOrderAndAStrictRunNamesThem()
    {
        string dir = TestPaths.NewTempDirectory("sharded-skip");
        try
        {
            var ids = Enumerable.Range(0, 10).Select(i => $"img_{i}").ToList();
            string path = Path.Combine(dir, "db.mlhidx");
            ChunkedCodeCache.EncodeShard(path, ids, Bits, 4, new CodeShard(0, 2), new Encoder(new HashSet<int> { 1, 9 }).Encode, allowSkipped: true);
            // A strict run finds the stored chunk that left img_1 out and names it.
            var e = Assert.Throws<UserInputException>(() => ChunkedCodeCache.Ensure(path, ids, Bits, 4, new Encoder().Encode, allowSkipped: false));
            Assert.Equal("img_1.jpg: cannot decode", e.Message);
            using (var cached = ChunkedCodeCache.Ensure(path, ids, Bits, 4, new Encoder(new HashSet<int> { 1, 9 }).Encode, allowSkipped: true))
            {
                var kept = Enumerable.Range(0, 10).Where(i => i is not 1 and not 9).ToList();
                Assert.Equal(kept.Select(i => ids[i]), cached.Index.ImageIds);
                for (int l = 0; l < Bits.Length; l++)
                    for (int r = 0; r < kept.Count; r++) Assert.Equal(Code(l, kept[r]), cached.Index.Levels[l].CodeBytes(r));
                Assert.Equal(["img_1.jpg: cannot decode", "img_9.jpg: cannot decode"], cached.Skipped);
            }
            // Reused from the cache: the left-out images are still named.
            using (var again = ChunkedCodeCache.Ensure(path, ids, Bits, 4, new Encoder().Encode, allowSkipped: true))
                Assert.Equal(2, again.Skipped.Count);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// On a cache folder several machines share, a writer removes only temporaries of its own machine's dead processes:
    /// another machine's process ids mean nothing here, and its file may be in progress.
    /// </summary>
    [Fact]
    public void AnotherMachinesTemporaryIsLeftAloneAndThisMachinesDeadOnesAreRemoved()
    {
        string dir = TestPaths.NewTempDirectory("sharded-temp");
        try
        {
            string path = Path.Combine(dir, "chunk-000000.bin");
            string host = new([.. Environment.MachineName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' ? c : '_')]);
            string mineDead = $"{path}.tmp-{int.MaxValue}-0123456789abcdef0123456789abcdef-{host}";
            string otherMachine = $"{path}.tmp-{int.MaxValue}-0123456789abcdef0123456789abcdef-{host}x.elsewhere";
            File.WriteAllBytes(mineDead, [1]);
            File.WriteAllBytes(otherMachine, [2]);
            AtomicFile.WriteAllBytes(path, [9]);
            Assert.False(File.Exists(mineDead));
            Assert.True(File.Exists(otherMachine));
            Assert.Equal([9], File.ReadAllBytes(path));
        }
        finally { Directory.Delete(dir, true); }
    }
}
