using System.Security.Cryptography;
using System.Text;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search;

/// <summary>
/// Encodes a long image list into an index file chunk by chunk, resumably (lib/MultiLevelHashing/README.md section 3.5):
/// each chunk's codes are written atomically to <c>&lt;index&gt;.parts/chunk-NNNNNN.bin</c> (checksummed container) as soon
/// as they exist, so an interrupted run loses at most the chunk in progress and the next run encodes only the chunks
/// that are missing or damaged. When every chunk is there, the chunks are streamed into one <see cref="CodeIndexFile"/>
/// (no level is ever held whole in memory), the parts are deleted, and the index is opened through a memory mapping.
/// An existing index is reused only when it opens cleanly (checksum verified) with the expected code lengths and ids.
/// </summary>
public static class ChunkedCodeCache
{
    private static readonly byte[] ChunkMagic = "MLHCHUNK"u8.ToArray();
    private const int ChunkVersion = 1;

    /// <summary>
    /// Encodes one chunk: images [start, start + count) of the list, one <see cref="PackedCodes"/> per level (the caller
    /// keeps no reference; the cache disposes them). Progress reports inside a chunk count from 0 to count.
    /// </summary>
    public delegate PackedCodes[] EncodeChunk(int start, int count, IProgress<ProgressReport>? progress);

    /// <summary>
    /// The index at <paramref name="indexPath"/> for <paramref name="ids"/>, made by <paramref name="encode"/> in chunks of
    /// <paramref name="chunkSize"/> images when it is not there yet. <paramref name="task"/> names the progress bar,
    /// which counts images over the whole list (resumed chunks count as done).
    /// </summary>
    /// <exception cref="ArgumentException">The encoder returned the wrong number of levels, codes or bits.</exception>
    public static CodeIndex Ensure(string indexPath, IReadOnlyList<string> ids, IReadOnlyList<int> bits, int chunkSize, EncodeChunk encode,
                                   string task = "encode", IProgress<ProgressReport>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(encode);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        if (TryOpen(indexPath, ids, bits) is { } existing)
        {
            progress.Report(task, ids.Count, ids.Count, "img", "(cached)");
            return existing;
        }
        string parts = PartsDirectory(indexPath);
        Directory.CreateDirectory(parts);
        int chunks = (ids.Count + chunkSize - 1) / chunkSize;
        long done = 0;
        var missing = new List<int>();
        for (int c = 0; c < chunks; c++)
        {
            var (start, count) = Range(c, chunkSize, ids.Count);
            if (ReadChunk(ChunkPath(parts, c), start, count, bits) is { } stored)
            {
                foreach (var level in stored) level.Dispose();
                done += count;
            }
            else missing.Add(c);
        }
        progress.Report(task, done, ids.Count, "img", missing.Count < chunks ? $"({chunks - missing.Count} of {chunks} chunks cached)" : null);
        foreach (int c in missing)
        {
            var (start, count) = Range(c, chunkSize, ids.Count);
            long before = done;
            var inner = progress is null ? null : new OffsetProgress(progress, task, before, ids.Count);
            var levels = encode(start, count, inner);
            try
            {
                if (levels.Length != bits.Count) throw new ArgumentException($"the encoder returned {levels.Length} levels, expected {bits.Count}");
                for (int l = 0; l < levels.Length; l++)
                {
                    if (levels[l].Bits != bits[l]) throw new ArgumentException($"the encoder returned {levels[l].Bits}-bit codes for level {l}, expected {bits[l]}");
                    if (levels[l].Count != count) throw new ArgumentException($"the encoder returned {levels[l].Count} codes for images {start}..{start + count - 1}, expected {count}");
                }
                WriteChunk(ChunkPath(parts, c), start, count, levels);
            }
            finally
            {
                foreach (var level in levels) level.Dispose();
            }
            done += count;
            progress.Report(task, done, ids.Count, "img");
        }

        CodeIndexFile.Write(indexPath, ids, bits, level => LevelPieces(parts, chunks, chunkSize, ids.Count, bits, level));
        Directory.Delete(parts, recursive: true);
        return CodeIndexFile.Open(indexPath, bits);
    }

    /// <summary>The folder that holds the chunks of <paramref name="indexPath"/> while it is being made.</summary>
    public static string PartsDirectory(string indexPath) => indexPath + ".parts";

    /// <summary>
    /// A key over an image list for cache names: the first 16 hex digits of a SHA-256 over every image's path, size,
    /// modification time and crop, in order. Streams the list, so it costs no memory however long the list is.
    /// </summary>
    public static string Fingerprint(IEnumerable<(string Path, BoundingBox? Crop)> images, string salt = "")
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(salt + "\n"));
        foreach (var (path, crop) in images)
        {
            var info = new FileInfo(path);
            string line = $"{Path.GetFullPath(path)}|{(info.Exists ? info.Length : -1)}|{(info.Exists ? info.LastWriteTimeUtc.Ticks : 0)}|{crop}\n";
            sha.AppendData(Encoding.UTF8.GetBytes(line));
        }
        return Convert.ToHexString(sha.GetHashAndReset())[..16].ToLowerInvariant();
    }

    private static IEnumerable<PackedCodes> LevelPieces(string parts, int chunks, int chunkSize, int total, IReadOnlyList<int> bits, int level)
    {
        for (int c = 0; c < chunks; c++)
        {
            var (start, count) = Range(c, chunkSize, total);
            string path = ChunkPath(parts, c);
            var stored = ReadChunk(path, start, count, bits)
                ?? throw new UserInputException($"{path}: a chunk of codes changed or vanished while the index was being written; run again");
            for (int l = 0; l < stored.Length; l++)
                if (l != level) stored[l].Dispose();
            try
            {
                yield return stored[level];
            }
            finally
            {
                stored[level].Dispose();
            }
        }
    }

    private static CodeIndex? TryOpen(string indexPath, IReadOnlyList<string> ids, IReadOnlyList<int> bits)
    {
        if (!File.Exists(indexPath)) return null;
        CodeIndex index;
        try
        {
            index = CodeIndexFile.Open(indexPath, bits);
        }
        catch (UserInputException)
        {
            return null; // damaged or of another shape: made again, never trusted
        }
        bool same = index.Count == ids.Count;
        for (int i = 0; same && i < ids.Count; i++) same = index.ImageIds[i] == ids[i];
        if (same) return index;
        index.Dispose();
        return null;
    }

    private static (int Start, int Count) Range(int chunk, int chunkSize, int total)
    {
        int start = chunk * chunkSize;
        return (start, Math.Min(chunkSize, total - start));
    }

    private static string ChunkPath(string parts, int chunk) => Path.Combine(parts, $"chunk-{chunk:D6}.bin");

    private static void WriteChunk(string path, int start, int count, PackedCodes[] levels) =>
        ChecksummedFile.Write(path, ChunkMagic, ChunkVersion, w =>
        {
            w.Write(start);
            w.Write(count);
            w.Write(levels.Length);
            foreach (var level in levels)
            {
                w.Write(level.Bits);
                foreach (ulong word in level.AllWords) w.Write(word);
            }
        });

    /// <summary>The stored chunk when it is intact and holds exactly these images and code lengths; else null (it is made again).</summary>
    private static PackedCodes[]? ReadChunk(string path, int start, int count, IReadOnlyList<int> bits)
    {
        if (!File.Exists(path)) return null;
        byte[] payload;
        try
        {
            payload = ChecksummedFile.ReadPayload(path, ChunkMagic, ChunkVersion, "chunk of codes");
        }
        catch (UserInputException)
        {
            return null;
        }
        using var r = new BinaryReader(new MemoryStream(payload));
        try
        {
            if (r.ReadInt32() != start || r.ReadInt32() != count || r.ReadInt32() != bits.Count) return null;
            var levels = new PackedCodes[bits.Count];
            for (int l = 0; l < bits.Count; l++)
            {
                if (r.ReadInt32() != bits[l]) { foreach (var done in levels[..l]) done.Dispose(); return null; }
                var words = new ulong[(long)count * BitPacking.WordsPerCode(bits[l])];
                for (long i = 0; i < words.Length; i++) words[i] = r.ReadUInt64();
                levels[l] = new PackedCodes(bits[l], count);
                levels[l].AppendWords(words);
            }
            return r.BaseStream.Position == payload.Length ? levels : null;
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }

    /// <summary>Reports a chunk's own progress (0..count) as progress over the whole list.</summary>
    private sealed class OffsetProgress(IProgress<ProgressReport> outer, string task, long offset, long total) : IProgress<ProgressReport>
    {
        public void Report(ProgressReport value) => outer.Report(new ProgressReport(task, offset + value.Done, total, value.Unit, value.Detail));
    }
}
