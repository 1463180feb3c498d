using System.Security.Cryptography;
using System.Text;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search;

/// <summary>
/// The codes of a chunk of images as an encoder returns them: one <see cref="PackedCodes"/> per level with a code for
/// each kept image, the kept images' offsets within the chunk (null: all of them, in order) and the problem of each
/// image left out because it could not be read.
/// </summary>
public sealed record ChunkCodes(PackedCodes[] Levels, int[]? Kept = null, IReadOnlyList<string>? Skipped = null);

/// <summary>A chunk of a (shard's) plan: its number, its images [Start, Start + Count), and whether its codes are already stored.</summary>
public sealed record PlannedChunk(int Chunk, int Start, int Count, bool Stored);

/// <summary>What one call encoded: chunks (and their images) made now and found already stored, among those it owns.</summary>
public sealed record ChunkWork(int EncodedChunks, int EncodedImages, int StoredChunks, int StoredImages);

/// <summary>An index made by <see cref="ChunkedCodeCache"/> and the problem of every image it leaves out.</summary>
public sealed record CachedCodes(CodeIndex Index, IReadOnlyList<string> Skipped) : IDisposable
{
    /// <summary>Releases the index's memory mapping.</summary>
    public void Dispose() => Index.Dispose();
}

/// <summary>
/// Encodes a long image list into an index file chunk by chunk, resumably and, if wanted, on many machines
/// (lib/MultiLevelHashing/README.md section 3.5): each chunk's codes are written atomically to
/// <c>&lt;index&gt;.parts/chunk-NNNNNN.bin</c> (checksummed container) as soon as they exist, so an interrupted run loses
/// at most the chunk in progress and the next run encodes only the chunks that are missing or damaged. A
/// <see cref="CodeShard"/> encodes only its own chunks (<see cref="EncodeShard"/>); a run of the whole list finds every
/// chunk any shard stored. When every chunk is there, the chunks are streamed into one <see cref="CodeIndexFile"/> (no
/// level is ever held whole in memory), the parts are deleted, and the index is opened through a memory mapping. An
/// existing index is reused only when it opens cleanly (checksum verified) with the expected code lengths and ids.
/// No lock is taken: every file is written whole under a unique temporary name and renamed, and a chunk's bytes are a
/// function of its images and the encoder, so processes that encode into one cache at once (on one machine or on many
/// sharing a folder) at worst encode a chunk twice; one that finds its parts gone because another finished the index
/// takes that index.
/// </summary>
public static class ChunkedCodeCache
{
    private static readonly byte[] ChunkMagic = "MLHCHUNK"u8.ToArray();
    private const int ChunkVersion = 2;

    /// <summary>
    /// Encodes one chunk: images [start, start + count) of the list, one <see cref="PackedCodes"/> per level (the caller
    /// keeps no reference; the cache disposes them). Progress reports inside a chunk count from 0 to count.
    /// </summary>
    public delegate PackedCodes[] EncodeChunk(int start, int count, IProgress<ProgressReport>? progress);

    /// <summary>As <see cref="EncodeChunk"/>, but images that cannot be read may be left out (<see cref="ChunkCodes.Kept"/>).</summary>
    public delegate ChunkCodes EncodeChunkSkipping(int start, int count, IProgress<ProgressReport>? progress);

    /// <summary>
    /// The index at <paramref name="indexPath"/> for <paramref name="ids"/>, made by <paramref name="encode"/> in chunks of
    /// <paramref name="chunkSize"/> images when it is not there yet. <paramref name="task"/> names the progress bar,
    /// which counts images over the whole list (stored chunks count as done). Every image must have a code: a stored
    /// chunk that left one out (stored by a run that skips unreadable images) ends in a <see cref="UserInputException"/> naming it.
    /// </summary>
    /// <exception cref="ArgumentException">The encoder returned the wrong number of levels, codes or bits.</exception>
    public static CodeIndex Ensure(string indexPath, IReadOnlyList<string> ids, IReadOnlyList<int> bits, int chunkSize, EncodeChunk encode,
                                   string task = "encode", IProgress<ProgressReport>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(encode);
        return EnsureCore(indexPath, ids, bits, chunkSize, (s, c, p) => new ChunkCodes(encode(s, c, p)), allowSkipped: false, task, progress).Index;
    }

    /// <summary>
    /// As <see cref="Ensure(string, IReadOnlyList{string}, IReadOnlyList{int}, int, EncodeChunk, string, IProgress{ProgressReport}?)"/>,
    /// for an encoder that may leave out images it cannot read. With <paramref name="allowSkipped"/> the index holds the
    /// kept images only, in list order, and <see cref="CachedCodes.Skipped"/> names the others; without, a left-out image
    /// (also in a chunk another run stored) ends in a <see cref="UserInputException"/> naming it.
    /// </summary>
    public static CachedCodes Ensure(string indexPath, IReadOnlyList<string> ids, IReadOnlyList<int> bits, int chunkSize,
                                     EncodeChunkSkipping encode, bool allowSkipped, string task = "encode", IProgress<ProgressReport>? progress = null)
        => EnsureCore(indexPath, ids, bits, chunkSize, encode, allowSkipped, task, progress);

    /// <summary>
    /// Encodes the chunks <paramref name="shard"/> owns that are not stored yet, and nothing else: the index is left for a
    /// run of the whole list (<c>Ensure</c>) to assemble. Nothing is encoded when the
    /// index is already complete. <paramref name="allowSkipped"/> as for the run that will assemble.
    /// </summary>
    public static ChunkWork EncodeShard(string indexPath, IReadOnlyList<string> ids, IReadOnlyList<int> bits, int chunkSize, CodeShard shard,
                                        EncodeChunkSkipping encode, bool allowSkipped, string task = "encode", IProgress<ProgressReport>? progress = null)
    {
        Validate(ids, bits, chunkSize, encode);
        if (TryOpen(indexPath, ids, bits, allowSkipped) is { } complete)
        {
            complete.Dispose();
            var owned = Owned(ids.Count, chunkSize, shard).ToList();
            progress.Report(task, ids.Count, ids.Count, "img", "(cached)");
            return new ChunkWork(0, 0, owned.Count, owned.Sum(c => Range(c, chunkSize, ids.Count).Count));
        }
        return EncodeMissing(PartsDirectory(indexPath), ids, bits, chunkSize, shard, encode, allowSkipped, task, progress);
    }

    /// <summary>
    /// The chunks <paramref name="shard"/> owns, and which of them are stored (all, when the index is complete); encodes
    /// nothing. <c>mlh benchmark --dry-run</c> and <c>mlh encode --dry-run</c> print it.
    /// </summary>
    public static IReadOnlyList<PlannedChunk> Plan(string indexPath, IReadOnlyList<string> ids, IReadOnlyList<int> bits, int chunkSize,
                                                   CodeShard shard, bool allowSkipped)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        bool complete = false;
        if (TryOpen(indexPath, ids, bits, allowSkipped) is { } index)
        {
            index.Dispose();
            complete = true;
        }
        string parts = PartsDirectory(indexPath);
        var plan = new List<PlannedChunk>();
        foreach (int c in Owned(ids.Count, chunkSize, shard))
        {
            var (start, count) = Range(c, chunkSize, ids.Count);
            bool stored = complete;
            if (!stored && ReadChunk(ChunkPath(parts, c), start, count, bits) is { } chunk)
            {
                chunk.Dispose();
                stored = true;
            }
            plan.Add(new PlannedChunk(c, start, count, stored));
        }
        return plan;
    }

    /// <summary>
    /// Which images of <paramref name="ids"/> the stored codes of a chunk keep, as list positions in order: from the
    /// index when it is complete, else from the chunk's stored file; null for a chunk that is not stored (yet). Work that
    /// follows the codes chunk by chunk (the region codes, <see cref="Regions.RegionChunkCache"/>) codes exactly these
    /// images, also in a shard run, before the index exists.
    /// </summary>
    public static Func<int, int[]?> KeptImages(string indexPath, IReadOnlyList<string> ids, IReadOnlyList<int> bits, int chunkSize, bool allowSkipped)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        int[]? positions = null;
        if (TryOpen(indexPath, ids, bits, allowSkipped) is { } index)
            using (index) positions = Positions(index.ImageIds, ids);
        string parts = PartsDirectory(indexPath);
        return chunk =>
        {
            var (start, count) = Range(chunk, chunkSize, ids.Count);
            if (positions is not null) return InChunk(positions, chunk, chunkSize, ids.Count);
            using var stored = ReadChunk(ChunkPath(parts, chunk), start, count, bits);
            return stored is null ? null : [.. stored.Kept.Select(k => start + k)];
        };
    }

    /// <summary>
    /// The position in <paramref name="ids"/> of every id of <paramref name="kept"/>, which must be an ordered
    /// subsequence of it (the images an index kept of its list).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="kept"/> is not an ordered subsequence of <paramref name="ids"/>.</exception>
    public static int[] Positions(IReadOnlyList<string> kept, IReadOnlyList<string> ids)
    {
        var positions = new int[kept.Count];
        int next = 0;
        for (int j = 0; j < kept.Count; j++)
        {
            while (next < ids.Count && !string.Equals(ids[next], kept[j], StringComparison.Ordinal)) next++;
            if (next == ids.Count) throw new ArgumentException($"image '{kept[j]}' is not in the image list, or out of its order", nameof(kept));
            positions[j] = next++;
        }
        return positions;
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

    private static CachedCodes EnsureCore(string indexPath, IReadOnlyList<string> ids, IReadOnlyList<int> bits, int chunkSize,
                                          EncodeChunkSkipping encode, bool allowSkipped, string task, IProgress<ProgressReport>? progress)
    {
        Validate(ids, bits, chunkSize, encode);
        if (TryOpen(indexPath, ids, bits, allowSkipped) is { } existing)
        {
            progress.Report(task, ids.Count, ids.Count, "img", "(cached)");
            return new CachedCodes(existing, LeftOut(existing, ids));
        }
        string parts = PartsDirectory(indexPath);
        IReadOnlyList<string> skipped;
        try
        {
            EncodeMissing(parts, ids, bits, chunkSize, CodeShard.All, encode, allowSkipped, task, progress);
            skipped = Assemble(parts, indexPath, ids, bits, chunkSize, allowSkipped);
        }
        catch (Exception e) when (e is IOException or UserInputException or UnauthorizedAccessException)
        {
            // Another process may have finished this index and removed the parts while this one was working.
            if (TryOpen(indexPath, ids, bits, allowSkipped) is { } done) return new CachedCodes(done, LeftOut(done, ids));
            throw;
        }
        try { Directory.Delete(parts, recursive: true); }
        catch (IOException) { } // another process still writing a chunk there: harmless leftovers
        catch (UnauthorizedAccessException) { }
        return new CachedCodes(CodeIndexFile.Open(indexPath, bits), skipped);
    }

    private static void Validate(IReadOnlyList<string> ids, IReadOnlyList<int> bits, int chunkSize, Delegate encode)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(bits);
        ArgumentNullException.ThrowIfNull(encode);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
    }

    internal static IEnumerable<int> Owned(int total, int chunkSize, CodeShard shard)
    {
        int chunks = (total + chunkSize - 1) / chunkSize;
        for (int c = shard.Index; c < chunks; c += shard.Count) yield return c;
    }

    private static ChunkWork EncodeMissing(string parts, IReadOnlyList<string> ids, IReadOnlyList<int> bits, int chunkSize, CodeShard shard,
                                           EncodeChunkSkipping encode, bool allowSkipped, string task, IProgress<ProgressReport>? progress)
    {
        Directory.CreateDirectory(parts);
        var owned = Owned(ids.Count, chunkSize, shard).ToList();
        long total = owned.Sum(c => (long)Range(c, chunkSize, ids.Count).Count), done = 0;
        int storedChunks = 0, storedImages = 0, encodedChunks = 0, encodedImages = 0;
        var missing = new List<int>();
        foreach (int c in owned)
        {
            var (start, count) = Range(c, chunkSize, ids.Count);
            if (ReadStored(parts, c, start, count, bits, allowSkipped))
            {
                done += count;
                storedChunks++;
                storedImages += count;
            }
            else missing.Add(c);
        }
        string shardText = shard.Count > 1 ? $"shard {shard}: " : "";
        progress.Report(task, done, total, "img", storedChunks > 0 ? $"({shardText}{storedChunks} of {owned.Count} chunks stored)" : null);
        foreach (int c in missing)
        {
            var (start, count) = Range(c, chunkSize, ids.Count);
            // Another process may have stored it since the scan above.
            if (ReadStored(parts, c, start, count, bits, allowSkipped))
            {
                done += count;
                storedChunks++;
                storedImages += count;
                continue;
            }
            var inner = progress is null ? null : new OffsetProgress(progress, task, done, total);
            var codes = encode(start, count, inner);
            try
            {
                int[] kept = codes.Kept ?? [.. Enumerable.Range(0, count)];
                var levels = codes.Levels;
                if (levels.Length != bits.Count) throw new ArgumentException($"the encoder returned {levels.Length} levels, expected {bits.Count}");
                for (int i = 0; i < kept.Length; i++)
                    if (kept[i] < 0 || kept[i] >= count || (i > 0 && kept[i] <= kept[i - 1]))
                        throw new ArgumentException($"the encoder's kept offsets for images {start}..{start + count - 1} are not increasing offsets in the chunk");
                for (int l = 0; l < levels.Length; l++)
                {
                    if (levels[l].Bits != bits[l]) throw new ArgumentException($"the encoder returned {levels[l].Bits}-bit codes for level {l}, expected {bits[l]}");
                    if (levels[l].Count != kept.Length) throw new ArgumentException($"the encoder returned {levels[l].Count} codes for images {start}..{start + count - 1}, expected {kept.Length}");
                }
                var skipped = codes.Skipped ?? [];
                if (!allowSkipped && skipped.Count > 0) throw new UserInputException(skipped[0]);
                WriteChunk(ChunkPath(parts, c), start, count, kept, skipped, levels);
            }
            finally
            {
                foreach (var level in codes.Levels) level.Dispose();
            }
            done += count;
            encodedChunks++;
            encodedImages += count;
            progress.Report(task, done, total, "img");
        }
        return new ChunkWork(encodedChunks, encodedImages, storedChunks, storedImages);
    }

    /// <summary>True when chunk <paramref name="chunk"/> is stored intact; a stored chunk that left images out ends a strict run naming the first.</summary>
    private static bool ReadStored(string parts, int chunk, int start, int count, IReadOnlyList<int> bits, bool allowSkipped)
    {
        using var stored = ReadChunk(ChunkPath(parts, chunk), start, count, bits);
        if (stored is null) return false;
        if (!allowSkipped && stored.Skipped.Length > 0) throw new UserInputException(stored.Skipped[0]);
        return true;
    }

    /// <summary>Writes the index from the stored chunks (kept images in list order); returns the problems of the images left out.</summary>
    private static IReadOnlyList<string> Assemble(string parts, string indexPath, IReadOnlyList<string> ids, IReadOnlyList<int> bits, int chunkSize, bool allowSkipped)
    {
        int chunks = (ids.Count + chunkSize - 1) / chunkSize;
        var keptIds = new List<string>(ids.Count);
        var skipped = new List<string>();
        for (int c = 0; c < chunks; c++)
        {
            var (start, count) = Range(c, chunkSize, ids.Count);
            using var stored = ReadChunk(ChunkPath(parts, c), start, count, bits) ?? throw Vanished(ChunkPath(parts, c));
            if (!allowSkipped && stored.Skipped.Length > 0) throw new UserInputException(stored.Skipped[0]);
            foreach (int k in stored.Kept) keptIds.Add(ids[start + k]);
            skipped.AddRange(stored.Skipped);
        }
        try
        {
            CodeIndexFile.Write(indexPath, keptIds, bits, level => LevelPieces(parts, chunks, chunkSize, ids.Count, bits, level));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw AtomicFile.WriteFailure(indexPath, e, "the chunks stay where they are; run again to write the index");
        }
        return skipped;
    }

    private static UserInputException Vanished(string path) =>
        UserInputException.InFile(path, "a chunk of codes changed or vanished while the index was being written; run again");

    private static IEnumerable<PackedCodes> LevelPieces(string parts, int chunks, int chunkSize, int total, IReadOnlyList<int> bits, int level)
    {
        for (int c = 0; c < chunks; c++)
        {
            var (start, count) = Range(c, chunkSize, total);
            string path = ChunkPath(parts, c);
            using var stored = ReadChunk(path, start, count, bits) ?? throw Vanished(path);
            yield return stored.Levels[level];
        }
    }

    /// <summary>The images of <paramref name="ids"/> an index leaves out (it holds an ordered subsequence of them).</summary>
    private static IReadOnlyList<string> LeftOut(CodeIndex index, IReadOnlyList<string> ids)
    {
        if (index.Count == ids.Count) return [];
        var left = new List<string>();
        int j = 0;
        foreach (string id in ids)
        {
            if (j < index.Count && index.ImageIds[j] == id) j++;
            else left.Add($"{id}: left out when these codes were made (the image could not be read)");
        }
        return left;
    }

    private static CodeIndex? TryOpen(string indexPath, IReadOnlyList<string> ids, IReadOnlyList<int> bits, bool allowSkipped)
    {
        if (!File.Exists(indexPath)) return null;
        CodeIndex index;
        try
        {
            index = CodeIndexFile.Open(indexPath, bits);
        }
        catch (Exception e) when (e is UserInputException or IOException or UnauthorizedAccessException)
        {
            return null; // damaged, of another shape or being replaced: made again, never trusted
        }
        bool same = allowSkipped ? index.Count <= ids.Count : index.Count == ids.Count;
        // With skipping, the index holds an ordered subsequence of the ids.
        for (int i = 0, j = 0; same && j < index.Count; i++)
        {
            if (i == ids.Count) same = false;
            else if (index.ImageIds[j] == ids[i]) j++;
            else if (!allowSkipped) same = false;
        }
        if (same) return index;
        index.Dispose();
        return null;
    }

    /// <summary>The list positions among <paramref name="positions"/> (increasing) that chunk <paramref name="chunk"/> covers.</summary>
    internal static int[] InChunk(int[] positions, int chunk, int chunkSize, int total)
    {
        var (start, count) = Range(chunk, chunkSize, total);
        return positions[LowerBound(positions, start)..LowerBound(positions, start + count)];
    }

    /// <summary>The first index of <paramref name="sorted"/> (increasing) whose value is at least <paramref name="value"/>.</summary>
    private static int LowerBound(int[] sorted, int value)
    {
        int at = Array.BinarySearch(sorted, value);
        return at >= 0 ? at : ~at;
    }

    internal static (int Start, int Count) Range(int chunk, int chunkSize, int total)
    {
        int start = chunk * chunkSize;
        return (start, Math.Min(chunkSize, total - start));
    }

    internal static string ChunkPath(string parts, int chunk) => Path.Combine(parts, $"chunk-{chunk:D6}.bin");

    private static void WriteChunk(string path, int start, int count, int[] kept, IReadOnlyList<string> skipped, PackedCodes[] levels)
    {
        try
        {
            ChecksummedFile.Write(path, ChunkMagic, ChunkVersion, w =>
            {
                w.Write(start);
                w.Write(count);
                w.Write(kept.Length);
                foreach (int k in kept) w.Write(k);
                w.Write(skipped.Count);
                foreach (string s in skipped) w.Write(s);
                w.Write(levels.Length);
                foreach (var level in levels)
                {
                    w.Write(level.Bits);
                    foreach (ulong word in level.AllWords) w.Write(word);
                }
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw AtomicFile.WriteFailure(path, e, "the chunks written before are intact; run again to resume");
        }
    }

    private sealed class StoredChunk(PackedCodes[] levels, int[] kept, string[] skipped) : IDisposable
    {
        public PackedCodes[] Levels { get; } = levels;
        public int[] Kept { get; } = kept;
        public string[] Skipped { get; } = skipped;
        public void Dispose() { foreach (var level in Levels) level?.Dispose(); }
    }

    /// <summary>The stored chunk when it is intact and holds exactly these images and code lengths; else null (it is made again).</summary>
    private static StoredChunk? ReadChunk(string path, int start, int count, IReadOnlyList<int> bits)
    {
        if (ChecksummedFile.TryReadPayload(path, ChunkMagic, ChunkVersion, "chunk of codes") is not { } payload) return null;
        using var r = new BinaryReader(new MemoryStream(payload));
        try
        {
            if (r.ReadInt32() != start || r.ReadInt32() != count) return null;
            int keptCount = r.ReadInt32();
            if (keptCount < 0 || keptCount > count) return null;
            var kept = new int[keptCount];
            for (int i = 0; i < keptCount; i++)
            {
                kept[i] = r.ReadInt32();
                if (kept[i] < 0 || kept[i] >= count || (i > 0 && kept[i] <= kept[i - 1])) return null;
            }
            int skippedCount = r.ReadInt32();
            if (skippedCount != count - keptCount) return null;
            var skipped = new string[skippedCount];
            for (int i = 0; i < skippedCount; i++) skipped[i] = r.ReadString();
            if (r.ReadInt32() != bits.Count) return null;
            var levels = new PackedCodes[bits.Count];
            var chunk = new StoredChunk(levels, kept, skipped);
            for (int l = 0; l < bits.Count; l++)
            {
                if (r.ReadInt32() != bits[l]) { chunk.Dispose(); return null; }
                var words = new ulong[(long)keptCount * BitPacking.WordsPerCode(bits[l])];
                for (long i = 0; i < words.Length; i++) words[i] = r.ReadUInt64();
                levels[l] = new PackedCodes(bits[l], keptCount);
                levels[l].AppendWords(words);
            }
            if (r.BaseStream.Position == payload.Length) return chunk;
            chunk.Dispose();
            return null;
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Reports a chunk's own progress (0..count) as progress over the whole list.</summary>
    internal sealed class OffsetProgress(IProgress<ProgressReport> outer, string task, long offset, long total) : IProgress<ProgressReport>
    {
        public void Report(ProgressReport value) => outer.Report(new ProgressReport(task, offset + value.Done, total, value.Unit, value.Detail));
    }
}
