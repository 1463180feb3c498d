using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Data;

namespace MultiLevelHashing.Tests.Search;

/// <summary>Chunked, resumable encoding into an index file, and the streaming index writer it uses.</summary>
public class ChunkedCodeCacheTests
{
    internal static readonly int[] Bits = [64, 24];

    /// <summary>The code of image i at a level: bytes drawn from a generator seeded by (level, i), independent of chunking.</summary>
    internal static byte[] ExpectedCode(int level, int image)
    {
        var rng = new SeededRandom(1000 * level + image);
        return [.. Enumerable.Range(0, Bits[level] / 8).Select(_ => (byte)rng.Next(256))];
    }

    private sealed class CountingEncoder
    {
        public List<(int Start, int Count)> Calls { get; } = [];
        public int FailAfterCalls { get; set; } = int.MaxValue;

        public PackedCodes[] Encode(int start, int count, IProgress<ProgressReport>? progress)
        {
            if (Calls.Count >= FailAfterCalls) throw new OperationCanceledException("interrupted");
            Calls.Add((start, count));
            var levels = new PackedCodes[Bits.Length];
            for (int l = 0; l < Bits.Length; l++)
            {
                levels[l] = new PackedCodes(Bits[l]);
                for (int i = start; i < start + count; i++) levels[l].Append(ExpectedCode(l, i));
                progress.Report("inner", count, count, "img");
            }
            return levels;
        }
    }

    private static void AssertHoldsExpectedCodes(CodeIndex index, IReadOnlyList<string> ids)
    {
        Assert.Equal(ids, index.ImageIds);
        for (int l = 0; l < Bits.Length; l++)
        {
            Assert.True(index.Levels[l].IsMemoryMapped);
            for (int i = 0; i < ids.Count; i++) Assert.Equal(ExpectedCode(l, i), index.Levels[l].CodeBytes(i));
        }
    }

    [Fact]
    public void AnInterruptedRunResumesWithTheMissingChunksOnly()
    {
        string dir = TestPaths.NewTempDirectory("chunks");
        try
        {
            var ids = Enumerable.Range(0, 23).Select(i => $"img_{i:D3}").ToList();
            string path = Path.Combine(dir, "db.mlhidx");
            var first = new CountingEncoder { FailAfterCalls = 2 };
            Assert.Throws<OperationCanceledException>(() => ChunkedCodeCache.Ensure(path, ids, Bits, 5, first.Encode));
            Assert.False(File.Exists(path));
            Assert.Equal(2, Directory.GetFiles(ChunkedCodeCache.PartsDirectory(path)).Length);

            // Damage the second stored chunk: it must be encoded again, never trusted.
            string second = Directory.GetFiles(ChunkedCodeCache.PartsDirectory(path)).Order().ElementAt(1);
            var bytes = File.ReadAllBytes(second);
            bytes[30] ^= 0x40;
            File.WriteAllBytes(second, bytes);

            var reports = new List<ProgressReport>();
            var resumed = new CountingEncoder();
            using (var index = ChunkedCodeCache.Ensure(path, ids, Bits, 5, resumed.Encode, "encode db", new SynchronousProgress(reports.Add)))
                AssertHoldsExpectedCodes(index, ids);
            Assert.Equal([(5, 5), (10, 5), (15, 5), (20, 3)], resumed.Calls);
            Assert.False(Directory.Exists(ChunkedCodeCache.PartsDirectory(path)));
            // Progress counts images over the whole list: resumed chunks count as done, inner reports are offset.
            Assert.All(reports, r => Assert.Equal(("encode db", 23L), (r.Task, r.Total)));
            Assert.Equal(5, reports[0].Done);
            Assert.Equal(23, reports[^1].Done);
            Assert.Contains(reports, r => r.Done == 15); // the inner report of chunk [10, 15)

            // The whole index is cached now.
            var again = new CountingEncoder();
            using (var index = ChunkedCodeCache.Ensure(path, ids, Bits, 5, again.Encode)) AssertHoldsExpectedCodes(index, ids);
            Assert.Empty(again.Calls);

            // An index over other ids, or a damaged one, is made again.
            var otherIds = ids.Select(i => i + "x").ToList();
            var other = new CountingEncoder();
            using (var index = ChunkedCodeCache.Ensure(path, otherIds, Bits, 10, other.Encode)) Assert.Equal(otherIds, index.ImageIds);
            Assert.Equal(3, other.Calls.Count);
            var indexBytes = File.ReadAllBytes(path);
            indexBytes[indexBytes.Length / 2] ^= 1;
            File.WriteAllBytes(path, indexBytes);
            var repaired = new CountingEncoder();
            using (var index = ChunkedCodeCache.Ensure(path, otherIds, Bits, 10, repaired.Encode)) Assert.Equal(otherIds, index.ImageIds);
            Assert.Equal(3, repaired.Calls.Count);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AnEncoderThatReturnsTheWrongShapeIsRefused()
    {
        string dir = TestPaths.NewTempDirectory("chunks-bad");
        try
        {
            var ids = new[] { "a", "b", "c" };
            var e = Assert.Throws<ArgumentException>(() => ChunkedCodeCache.Ensure(Path.Combine(dir, "x.mlhidx"), ids, Bits, 2,
                (start, count, _) => [new PackedCodes(64, 0), new PackedCodes(24, 0)]));
            Assert.Contains("expected 2", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void StreamedIndexIsByteIdenticalToTheOneShotWrite()
    {
        string dir = TestPaths.NewTempDirectory("stream-index");
        try
        {
            var ids = Enumerable.Range(0, 37).Select(i => $"id{i}").ToList();
            var levels = Bits.Select((b, l) => { var c = new PackedCodes(b); foreach (int i in Enumerable.Range(0, ids.Count)) c.Append(ExpectedCode(l, i)); return c; }).ToArray();
            string whole = Path.Combine(dir, "whole.mlhidx"), pieces = Path.Combine(dir, "pieces.mlhidx");
            CodeIndexFile.Write(whole, ids, levels);
            CodeIndexFile.Write(pieces, ids, Bits, l => Enumerable.Range(0, 4).Select(p =>
            {
                int start = p * 10, count = Math.Min(10, ids.Count - start);
                var piece = new PackedCodes(Bits[l]);
                piece.AppendWords(levels[l].Words(start, count));
                return piece;
            }));
            Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(pieces));
            // Pieces that do not add up to one code per id are refused.
            Assert.Throws<ArgumentException>(() => CodeIndexFile.Write(Path.Combine(dir, "short.mlhidx"), ids, Bits, l => new[] { levels[l] }.Take(l == 0 ? 1 : 0)));
            foreach (var level in levels) level.Dispose();
        }
        finally { Directory.Delete(dir, true); }
    }

    private sealed class SynchronousProgress(Action<ProgressReport> report) : IProgress<ProgressReport>
    {
        public void Report(ProgressReport value) => report(value);
    }
}
