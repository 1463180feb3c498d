using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search;

/// <summary>
/// An opened index file: the image ids and one <see cref="PackedCodes"/> per level (e.g. level 0 = global code,
/// level 1 = local code of the paper's multi-level hashing). The codes are read through a memory mapping, so
/// opening a large index costs no copy; they stay valid until this object is disposed.
/// </summary>
public sealed class CodeIndex : IDisposable
{
    private readonly IDisposable? _mapping;

    internal CodeIndex(string path, string[] imageIds, PackedCodes[] levels, IDisposable? mapping)
    {
        Path = path;
        ImageIds = imageIds;
        Levels = levels;
        _mapping = mapping;
    }

    /// <summary>The file this index was read from.</summary>
    public string Path { get; }

    /// <summary>Image identifier of each database row.</summary>
    public IReadOnlyList<string> ImageIds { get; }

    /// <summary>Codes per level, all with <see cref="Count"/> rows.</summary>
    public IReadOnlyList<PackedCodes> Levels { get; }

    /// <summary>Number of images N.</summary>
    public int Count => ImageIds.Count;

    /// <summary>Releases the memory mapping; the codes must not be used afterwards.</summary>
    public void Dispose()
    {
        foreach (var level in Levels) level.Dispose();
        _mapping?.Dispose();
    }
}

/// <summary>
/// The index file of a database of multi-level codes: header (magic <c>MLHINDEX</c>, format version, number of
/// levels and K per level, N), the image ids, the codes of each level as 64-bit words (64-byte aligned, so that
/// they can be searched in place through a memory mapping), and an XxHash3 checksum of everything before it.
/// Written atomically; a damaged, truncated or mismatched file gives a <see cref="UserInputException"/> naming it.
/// All integers little-endian.
/// </summary>
public static class CodeIndexFile
{
    /// <summary>Current format version.</summary>
    public const int FormatVersion = 1;

    private static readonly byte[] Magic = "MLHINDEX"u8.ToArray();
    private static readonly byte[] EndMagic = "MLHEND\0\0"u8.ToArray();
    private const int Alignment = 64;
    private const int TrailerBytes = 16; // checksum (8) + end magic (8)

    /// <summary>Writes <paramref name="imageIds"/> and the codes of every level (same row count) atomically.</summary>
    public static void Write(string path, IReadOnlyList<string> imageIds, IReadOnlyList<PackedCodes> levels)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        ArgumentNullException.ThrowIfNull(levels);
        if (levels.Count is < 1 or > 16) throw new ArgumentException("an index holds 1 to 16 levels of codes.", nameof(levels));
        foreach (var level in levels)
            if (level.Count != imageIds.Count)
                throw new ArgumentException($"a level has {level.Count} codes but there are {imageIds.Count} image ids.", nameof(levels));
        Write(path, imageIds, [.. levels.Select(l => l.Bits)], level => [levels[level]]);
    }

    /// <summary>
    /// Writes an index whose codes arrive in pieces, so that a database far larger than memory can be written from
    /// codes stored chunk by chunk: <paramref name="levelChunks"/>(i) yields the codes of level i in row order, in
    /// as many <see cref="PackedCodes"/> as it likes (it keeps ownership; a piece may be disposed once the next is
    /// asked for). The pieces of each level must add up to one code per image, with <paramref name="bits"/>[i] bits.
    /// The file is the same as <see cref="Write(string, IReadOnlyList{string}, IReadOnlyList{PackedCodes})"/> writes.
    /// </summary>
    public static void Write(string path, IReadOnlyList<string> imageIds, IReadOnlyList<int> bits, Func<int, IEnumerable<PackedCodes>> levelChunks)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        ArgumentNullException.ThrowIfNull(bits);
        ArgumentNullException.ThrowIfNull(levelChunks);
        if (bits.Count is < 1 or > 16) throw new ArgumentException("an index holds 1 to 16 levels of codes.", nameof(bits));
        foreach (int b in bits) BitPacking.ValidateBits(b);
        using var file = AtomicFile.Begin(path);
        var hash = new XxHash3();
        long written = 0;
        void Put(ReadOnlySpan<byte> bytes)
        {
            file.Stream.Write(bytes);
            hash.Append(bytes);
            written += bytes.Length;
        }
        void PadTo(int alignment)
        {
            int pad = (int)((alignment - written % alignment) % alignment);
            if (pad > 0) Put(new byte[pad]);
        }
        Span<byte> scratch = stackalloc byte[8];
        Put(Magic);
        BinaryPrimitives.WriteInt32LittleEndian(scratch, FormatVersion); Put(scratch[..4]);
        BinaryPrimitives.WriteInt32LittleEndian(scratch, bits.Count); Put(scratch[..4]);
        foreach (int b in bits) { BinaryPrimitives.WriteInt32LittleEndian(scratch, b); Put(scratch[..4]); }
        BinaryPrimitives.WriteInt64LittleEndian(scratch, imageIds.Count); Put(scratch);
        foreach (string id in imageIds)
        {
            ArgumentNullException.ThrowIfNull(id, nameof(imageIds));
            byte[] utf8 = Encoding.UTF8.GetBytes(id);
            BinaryPrimitives.WriteInt32LittleEndian(scratch, utf8.Length); Put(scratch[..4]);
            Put(utf8);
        }
        for (int i = 0; i < bits.Count; i++)
        {
            PadTo(Alignment);
            long rows = 0;
            foreach (var piece in levelChunks(i))
            {
                if (piece.Bits != bits[i]) throw new ArgumentException($"level {i} is declared with {bits[i]}-bit codes but a piece has {piece.Bits} bits.", nameof(levelChunks));
                if (rows + piece.Count > imageIds.Count) throw new ArgumentException($"level {i} has more codes than the {imageIds.Count} image ids.", nameof(levelChunks));
                const int chunk = 1 << 16;
                for (int start = 0; start < piece.Count; start += chunk)
                    Put(MemoryMarshal.AsBytes(piece.Words(start, Math.Min(chunk, piece.Count - start))));
                rows += piece.Count;
            }
            if (rows != imageIds.Count) throw new ArgumentException($"level {i} has {rows} codes but there are {imageIds.Count} image ids.", nameof(levelChunks));
        }
        BinaryPrimitives.WriteUInt64LittleEndian(scratch, hash.GetCurrentHashAsUInt64());
        file.Stream.Write(scratch);
        file.Stream.Write(EndMagic);
        file.Commit();
    }

    /// <summary>
    /// Opens an index file through a memory mapping. <paramref name="expectedBits"/>, when given, must match the
    /// code length of every level (a mismatch names the file and both lengths). The checksum is verified unless
    /// <paramref name="verifyChecksum"/> is false (it reads the whole file once).
    /// </summary>
    public static unsafe CodeIndex Open(string path, IReadOnlyList<int>? expectedBits = null, bool verifyChecksum = true)
    {
        if (!File.Exists(path)) throw UserInputException.InFile(path, "index file not found.");
        long length = new FileInfo(path).Length;
        if (length < Magic.Length + 16 + TrailerBytes) throw UserInputException.InFile(path, $"too short ({length} bytes) to be an index file.");
        var mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        var mapping = new Mapping(mmf, view);
        try
        {
            byte* basePtr = mapping.Pointer;
            var all = new ReadOnlySpan<byte>(basePtr, (int)Math.Min(length, int.MaxValue));
            if (!all[..8].SequenceEqual(Magic)) throw UserInputException.InFile(path, "not an index file (missing MLHINDEX magic).");
            if (!new ReadOnlySpan<byte>(basePtr + length - 8, 8).SequenceEqual(EndMagic))
                throw UserInputException.InFile(path, "index file is truncated or damaged (missing end marker).");
            long pos = 8;
            int ReadInt32()
            {
                if (pos + 4 > length - TrailerBytes) throw UserInputException.InFile(path, "index header is truncated.");
                int v = BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(basePtr + pos, 4));
                pos += 4;
                return v;
            }
            int version = ReadInt32();
            if (version != FormatVersion)
                throw UserInputException.InFile(path, $"index format version {version} is not supported (this build reads version {FormatVersion}).");
            int levelCount = ReadInt32();
            if (levelCount is < 1 or > 16) throw UserInputException.InFile(path, $"damaged header: {levelCount} levels.");
            var bits = new int[levelCount];
            for (int i = 0; i < levelCount; i++)
            {
                bits[i] = ReadInt32();
                if (bits[i] <= 0 || bits[i] % 8 != 0 || bits[i] > BitPacking.MaxBits)
                    throw UserInputException.InFile(path, $"damaged header: level {i} has {bits[i]}-bit codes.");
            }
            if (expectedBits is not null)
            {
                if (expectedBits.Count != levelCount)
                    throw UserInputException.InFile(path, $"index has {levelCount} levels ({string.Join(", ", bits)} bits) but {expectedBits.Count} were expected ({string.Join(", ", expectedBits)} bits).");
                for (int i = 0; i < levelCount; i++)
                    if (expectedBits[i] != bits[i])
                        throw UserInputException.InFile(path, $"level {i} holds {bits[i]}-bit codes but {expectedBits[i]}-bit codes were expected.");
            }
            long n = (long)(uint)ReadInt32() | ((long)ReadInt32() << 32);
            // Every id takes at least its 4-byte length: a damaged count cannot make us allocate more ids than the file could hold.
            if (n < 0 || n > int.MaxValue || n > (length - TrailerBytes - pos) / 4)
                throw UserInputException.InFile(path, $"damaged header: {n} images do not fit in a file of {length} bytes.");
            var ids = new string[n];
            for (long r = 0; r < n; r++)
            {
                int len = ReadInt32();
                if (len < 0 || pos + len > length - TrailerBytes) throw UserInputException.InFile(path, $"image id {r} is truncated or damaged.");
                ids[r] = Encoding.UTF8.GetString(basePtr + pos, len);
                pos += len;
            }
            var levels = new PackedCodes[levelCount];
            for (int i = 0; i < levelCount; i++)
            {
                pos = (pos + Alignment - 1) / Alignment * Alignment;
                long bytes = n * BitPacking.WordsPerCode(bits[i]) * 8;
                if (pos + bytes > length - TrailerBytes) throw UserInputException.InFile(path, $"codes of level {i} are truncated: need {bytes} bytes at offset {pos}, file has {length}.");
                levels[i] = new PackedCodes(bits[i], (int)n, (ulong*)(basePtr + pos), NoOwner.Instance);
                pos += bytes;
            }
            if (pos != length - TrailerBytes) throw UserInputException.InFile(path, $"damaged: {length - TrailerBytes - pos} unexpected bytes before the checksum.");
            if (verifyChecksum)
            {
                var hash = new XxHash3();
                for (long at = 0; at < pos; at += 1 << 30)
                    hash.Append(new ReadOnlySpan<byte>(basePtr + at, (int)Math.Min(1 << 30, pos - at)));
                ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(basePtr + pos, 8));
                if (hash.GetCurrentHashAsUInt64() != stored) throw UserInputException.InFile(path, "checksum mismatch: the index file is damaged.");
            }
            return new CodeIndex(path, ids, levels, mapping);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    private sealed unsafe class Mapping : IDisposable
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _view;
        private bool _disposed;

        public Mapping(MemoryMappedFile file, MemoryMappedViewAccessor view)
        {
            _file = file;
            _view = view;
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            Pointer = p + view.PointerOffset;
        }

        public byte* Pointer { get; }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }

    private sealed class NoOwner : IDisposable
    {
        public static readonly NoOwner Instance = new();
        public void Dispose() { }
    }
}
