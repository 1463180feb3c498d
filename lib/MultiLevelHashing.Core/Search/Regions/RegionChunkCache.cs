using System.Runtime.InteropServices;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search.Regions;

/// <summary>
/// Region codes of a long image list made chunk by chunk, resumably and, if wanted, on many machines, as
/// <see cref="ChunkedCodeCache"/> makes the global and local codes (lib/MultiLevelHashing/README.md sections 1.3 and
/// 3.5). The chunks are the code cache's: chunk c covers images [c x chunk, (c + 1) x chunk) of the list and codes the
/// images the global codes of that chunk kept. Each chunk's region codes (kept images, offsets, positions, packed codes)
/// are written atomically to <c>&lt;file&gt;.parts/chunk-NNNNNN.bin</c> (checksummed container, magic
/// <c>MLHRCHNK</c>) as soon as they exist, so an interrupted run loses at most the chunk in progress, and a
/// <see cref="CodeShard"/> codes only its own chunks (<see cref="EncodeShard"/>). When every chunk is stored, they are
/// streamed into one <see cref="CodeIndexFile"/> (the images' ids, their global codes and the region section, in the
/// format every index has) without ever holding more than one chunk: memory holds one batch of maps and one chunk,
/// whatever the number of images. A stored chunk that is damaged, or holds other images or code lengths, is made again,
/// never trusted; chunks that disagree on the grid are refused, naming the file.
/// </summary>
public static class RegionChunkCache
{
    private static readonly byte[] ChunkMagic = "MLHRCHNK"u8.ToArray();
    private const int ChunkVersion = 1;

    /// <summary>
    /// Codes the images at list positions <paramref name="images"/> (increasing; one chunk's kept images), one
    /// <see cref="RegionCodes"/> image per position in that order. Progress reports count from 0 to the number of images.
    /// </summary>
    public delegate RegionCodes EncodeChunk(IReadOnlyList<int> images, IProgress<ProgressReport>? progress);

    /// <summary>The folder that holds the region chunks of <paramref name="path"/> while it is being made (as the code cache's).</summary>
    public static string PartsDirectory(string path) => ChunkedCodeCache.PartsDirectory(path);

    /// <summary>
    /// The index file at <paramref name="path"/> holding the images of <paramref name="codes"/> (ids and level 0), and
    /// <paramref name="bits"/>-bit region codes of each, made by <paramref name="encode"/> chunk by chunk of
    /// <paramref name="chunkSize"/> positions of <paramref name="ids"/> (the list <paramref name="codes"/> was made from,
    /// of which it holds an ordered subsequence) when it is not there yet; chunks already stored (by an interrupted run
    /// or by shards) are not coded again. Opened through its memory mapping; dispose it when done.
    /// </summary>
    /// <exception cref="UserInputException">A stored chunk disagrees with the others (its file is named), or the file cannot be written.</exception>
    public static CodeIndex Ensure(string path, CodeIndex codes, IReadOnlyList<string> ids, int bits, int chunkSize, EncodeChunk encode,
        string task = "region codes", IProgress<ProgressReport>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(codes);
        Validate(ids, bits, chunkSize, encode);
        int levelBits = codes.Levels[0].Bits;
        if (TryOpen(path, codes.ImageIds, levelBits, bits) is { } found)
        {
            progress.Report(task, ids.Count, ids.Count, "img", "(cached)");
            return found;
        }
        var positions = ChunkedCodeCache.Positions(codes.ImageIds, ids);
        int[]? Kept(int chunk) => ChunkedCodeCache.InChunk(positions, chunk, chunkSize, ids.Count);
        string parts = PartsDirectory(path);
        try
        {
            EncodeMissing(path, ids.Count, Kept, bits, chunkSize, CodeShard.All, encode, task, progress);
            Assemble(path, codes, ids.Count, Kept, bits, chunkSize);
        }
        catch (Exception e) when (e is IOException or UserInputException or UnauthorizedAccessException)
        {
            // Another process may have finished this file and removed the parts while this one was working.
            if (TryOpen(path, codes.ImageIds, levelBits, bits) is { } done) return done;
            throw;
        }
        try { Directory.Delete(parts, recursive: true); }
        catch (IOException) { } // another process still writing a chunk there: harmless leftovers
        catch (UnauthorizedAccessException) { }
        return CodeIndexFile.Open(path, [levelBits]);
    }

    /// <summary>
    /// Codes the chunks <paramref name="shard"/> owns that are not stored yet, and nothing else; a later
    /// <see cref="Ensure"/> joins them. <paramref name="kept"/> gives the list positions a chunk's global codes kept
    /// (<see cref="ChunkedCodeCache.KeptImages"/>): the shard's own code chunks must be stored first. Nothing is coded
    /// when the file at <paramref name="path"/> is already complete for <paramref name="ids"/>.
    /// </summary>
    /// <exception cref="UserInputException">The codes of an owned chunk are not stored, so which images it keeps is unknown.</exception>
    public static ChunkWork EncodeShard(string path, IReadOnlyList<string> ids, Func<int, int[]?> kept, int bits, int chunkSize, CodeShard shard,
        EncodeChunk encode, string task = "region codes", IProgress<ProgressReport>? progress = null)
    {
        Validate(ids, bits, chunkSize, encode);
        ArgumentNullException.ThrowIfNull(kept);
        if (IsComplete(path, ids, bits))
        {
            var owned = Owned(ids.Count, chunkSize, shard).ToList();
            progress.Report(task, ids.Count, ids.Count, "img", "(cached)");
            return new ChunkWork(0, 0, owned.Count, owned.Sum(c => Range(c, chunkSize, ids.Count).Count));
        }
        return EncodeMissing(path, ids.Count, kept, bits, chunkSize, shard, encode, task, progress);
    }

    /// <summary>
    /// The chunks <paramref name="shard"/> owns and which of them are stored (all, when the file is complete); codes
    /// nothing. A chunk whose code chunk is not stored yet counts as not stored.
    /// </summary>
    public static IReadOnlyList<PlannedChunk> Plan(string path, IReadOnlyList<string> ids, Func<int, int[]?> kept, int bits, int chunkSize, CodeShard shard)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(kept);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        bool complete = IsComplete(path, ids, bits);
        var plan = new List<PlannedChunk>();
        foreach (int c in Owned(ids.Count, chunkSize, shard))
        {
            var (start, count) = Range(c, chunkSize, ids.Count);
            bool stored = complete || (kept(c) is { } images && ReadChunk(ChunkPath(PartsDirectory(path), c), start, count, images, bits) is not null);
            plan.Add(new PlannedChunk(c, start, count, stored));
        }
        return plan;
    }

    private static void Validate(IReadOnlyList<string> ids, int bits, int chunkSize, Delegate encode)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(encode);
        BitPacking.ValidateBits(bits);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
    }

    private static ChunkWork EncodeMissing(string path, int total, Func<int, int[]?> kept, int bits, int chunkSize, CodeShard shard,
        EncodeChunk encode, string task, IProgress<ProgressReport>? progress)
    {
        string parts = PartsDirectory(path);
        Directory.CreateDirectory(parts);
        var owned = Owned(total, chunkSize, shard).ToList();
        long all = owned.Sum(c => (long)Range(c, chunkSize, total).Count), done = 0;
        int storedChunks = 0, storedImages = 0, encodedChunks = 0, encodedImages = 0;
        var missing = new List<(int Chunk, int[] Images)>();
        foreach (int c in owned)
        {
            var (start, count) = Range(c, chunkSize, total);
            int[] images = kept(c) ?? throw new UserInputException(
                $"{path}: the codes of images {start}..{start + count - 1} (chunk {c}) are not stored yet, so it is not known which images to give region codes; encode them first");
            if (ReadChunk(ChunkPath(parts, c), start, count, images, bits) is not null)
            {
                done += count;
                storedChunks++;
                storedImages += count;
            }
            else missing.Add((c, images));
        }
        string shardText = shard.Count > 1 ? $"shard {shard}: " : "";
        progress.Report(task, done, all, "img", storedChunks > 0 ? $"({shardText}{storedChunks} of {owned.Count} chunks stored)" : null);
        foreach (var (c, images) in missing)
        {
            var (start, count) = Range(c, chunkSize, total);
            string chunkPath = ChunkPath(parts, c);
            // Another process may have stored it since the scan above.
            if (ReadChunk(chunkPath, start, count, images, bits) is not null)
            {
                done += count;
                storedChunks++;
                storedImages += count;
                continue;
            }
            var codes = images.Length == 0
                ? new RegionCodes(bits, 1, 1, [], [0], [])
                : encode(images, progress is null ? null : new ChunkedCodeCache.OffsetProgress(progress, task, done, all));
            if (codes.Bits != bits) throw new ArgumentException($"the region encoder returned {codes.Bits}-bit codes, expected {bits}");
            if (codes.Count != images.Length) throw new ArgumentException($"the region encoder returned codes of {codes.Count} images for images {start}..{start + count - 1}, expected {images.Length}");
            WriteChunk(chunkPath, start, count, images, codes);
            done += count;
            encodedChunks++;
            encodedImages += count;
            progress.Report(task, done, all, "img");
        }
        return new ChunkWork(encodedChunks, encodedImages, storedChunks, storedImages);
    }

    /// <summary>
    /// Writes the file from the stored chunks: one pass to check them and count the regions (the header needs the total
    /// before the ids), then the writer's three passes over the region section, one chunk in memory at a time.
    /// </summary>
    private static void Assemble(string path, CodeIndex codes, int total, Func<int, int[]?> kept, int bits, int chunkSize)
    {
        string parts = PartsDirectory(path);
        int chunks = (total + chunkSize - 1) / chunkSize;
        long regions = 0, images = 0;
        int gridHeight = 0, gridWidth = 0;
        string? gridFrom = null;
        for (int c = 0; c < chunks; c++)
        {
            var stored = Read(parts, c, total, kept, bits, chunkSize);
            images += stored.Count;
            regions += stored.TotalRegions;
            if (stored.TotalRegions == 0) continue;
            if (gridFrom is null) (gridHeight, gridWidth, gridFrom) = (stored.GridHeight, stored.GridWidth, ChunkPath(parts, c));
            else if (stored.GridHeight != gridHeight || stored.GridWidth != gridWidth)
                throw UserInputException.InFile(ChunkPath(parts, c),
                    $"region codes on a {stored.GridHeight} x {stored.GridWidth} grid, but {gridFrom} has a {gridHeight} x {gridWidth} grid; " +
                    "chunks made by different region coders or image sizes cannot be joined (delete the folder to code them again)");
        }
        if (images != codes.Count) throw new InvalidOperationException($"region chunks of {images} images for {codes.Count} indexed images");
        if (regions * BitPacking.WordsPerCode(bits) > int.MaxValue)
            throw new UserInputException($"{path}: {regions} regions of {bits} bits are more than one index file holds; index fewer images per file");
        if (gridFrom is null) (gridHeight, gridWidth) = (1, 1); // no region at all: the grid of an empty RegionCoderEncoding result
        IEnumerable<RegionCodes> Pieces()
        {
            for (int c = 0; c < chunks; c++)
            {
                var piece = Read(parts, c, total, kept, bits, chunkSize);
                yield return piece.TotalRegions == 0 && (piece.GridHeight != gridHeight || piece.GridWidth != gridWidth)
                    ? new RegionCodes(bits, gridHeight, gridWidth, [], [.. piece.Offsets], [])
                    : piece;
            }
        }
        var level = codes.Levels[0];
        try
        {
            CodeIndexFile.Write(path, codes.ImageIds, [level.Bits], _ => [level], new RegionSection(bits, gridHeight, gridWidth, regions, Pieces));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw AtomicFile.WriteFailure(path, e, "the chunks stay where they are; run again to write the file");
        }
    }

    private static RegionCodes Read(string parts, int chunk, int total, Func<int, int[]?> kept, int bits, int chunkSize)
    {
        var (start, count) = Range(chunk, chunkSize, total);
        string path = ChunkPath(parts, chunk);
        return (kept(chunk) is { } images ? ReadChunk(path, start, count, images, bits) : null)
               ?? throw UserInputException.InFile(path, "a chunk of region codes changed or vanished while the file was being written; run again");
    }

    private static bool IsComplete(string path, IReadOnlyList<string> ids, int bits)
    {
        if (!File.Exists(path)) return false;
        try
        {
            using var index = CodeIndexFile.Open(path);
            if (index.Regions is not { } regions || regions.Bits != bits) return false;
            ChunkedCodeCache.Positions(index.ImageIds, ids);
            return true;
        }
        catch (Exception e) when (e is UserInputException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    private static CodeIndex? TryOpen(string path, IReadOnlyList<string> ids, int levelBits, int bits)
    {
        if (!File.Exists(path)) return null;
        CodeIndex index;
        try
        {
            index = CodeIndexFile.Open(path, [levelBits]);
        }
        catch (Exception e) when (e is UserInputException or IOException or UnauthorizedAccessException)
        {
            return null; // damaged, of another shape or being replaced: made again, never trusted
        }
        if (index.Regions is { } regions && regions.Bits == bits && index.ImageIds.SequenceEqual(ids, StringComparer.Ordinal)) return index;
        index.Dispose();
        return null;
    }

    // The chunks are the code cache's: the same ranges, owners and file names.
    private static IEnumerable<int> Owned(int total, int chunkSize, CodeShard shard) => ChunkedCodeCache.Owned(total, chunkSize, shard);

    private static (int Start, int Count) Range(int chunk, int chunkSize, int total) => ChunkedCodeCache.Range(chunk, chunkSize, total);

    private static string ChunkPath(string parts, int chunk) => ChunkedCodeCache.ChunkPath(parts, chunk);

    // Payload: int32 start, count (the list range), bits, grid height, grid width, kept K, K x int32 list positions,
    // int32 regions R, (K + 1) x int32 offsets, R x (int32 row, int32 column, float32 strength), R x ceil(B/64) uint64.
    private static void WriteChunk(string path, int start, int count, int[] images, RegionCodes codes)
    {
        try
        {
            ChecksummedFile.Write(path, ChunkMagic, ChunkVersion, w =>
            {
                w.Write(start);
                w.Write(count);
                w.Write(codes.Bits);
                w.Write(codes.GridHeight);
                w.Write(codes.GridWidth);
                w.Write(images.Length);
                foreach (int i in images) w.Write(i);
                w.Write(codes.TotalRegions);
                foreach (int o in codes.Offsets) w.Write(o);
                foreach (var p in codes.AllPositions)
                {
                    w.Write(p.Row);
                    w.Write(p.Column);
                    w.Write(p.Strength);
                }
                foreach (ulong word in codes.AllCodes) w.Write(word);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw AtomicFile.WriteFailure(path, e, "the chunks written before are intact; run again to resume");
        }
    }

    /// <summary>The stored chunk when it is intact and holds exactly these images and code length; else null (it is made again).</summary>
    private static RegionCodes? ReadChunk(string path, int start, int count, int[] images, int bits)
    {
        if (ChecksummedFile.TryReadPayload(path, ChunkMagic, ChunkVersion, "chunk of region codes") is not { } payload) return null;
        using var r = new BinaryReader(new MemoryStream(payload));
        try
        {
            if (r.ReadInt32() != start || r.ReadInt32() != count || r.ReadInt32() != bits) return null;
            int gridHeight = r.ReadInt32(), gridWidth = r.ReadInt32();
            if (gridHeight is < 1 or > CodeIndexFile.MaxGridSide || gridWidth is < 1 or > CodeIndexFile.MaxGridSide) return null;
            if (r.ReadInt32() != images.Length) return null;
            for (int i = 0; i < images.Length; i++)
                if (r.ReadInt32() != images[i]) return null;
            int regions = r.ReadInt32();
            int wordsPer = BitPacking.WordsPerCode(bits);
            long need = (images.Length + 1L) * 4 + regions * 12L + (long)regions * wordsPer * 8;
            if (regions < 0 || need != payload.Length - r.BaseStream.Position) return null;
            int at = (int)r.BaseStream.Position;
            var offsets = MemoryMarshal.Cast<byte, int>(payload.AsSpan(at, (images.Length + 1) * 4)).ToArray();
            at += (images.Length + 1) * 4;
            var positions = MemoryMarshal.Cast<byte, RegionPosition>(payload.AsSpan(at, regions * 12)).ToArray();
            at += regions * 12;
            var words = MemoryMarshal.Cast<byte, ulong>(payload.AsSpan(at, regions * wordsPer * 8)).ToArray();
            if (offsets[^1] != regions) return null;
            return new RegionCodes(bits, gridHeight, gridWidth, words, offsets, positions);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException)
        {
            return null;
        }
    }
}
