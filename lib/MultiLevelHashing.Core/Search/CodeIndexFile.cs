using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search.Regions;

namespace MultiLevelHashing.Search;

/// <summary>
/// An opened index file: the image ids and one <see cref="PackedCodes"/> per level (e.g. level 0 = global code,
/// level 1 = local code of the paper's multi-level hashing). The codes are read through a memory mapping, so
/// opening a large index costs no copy; they stay valid until this object is disposed. An index may also hold the
/// region codes of its images (lib/MultiLevelHashing/README.md sections 1.1 and 2.3), mapped the same way.
/// </summary>
public sealed class CodeIndex : IDisposable
{
    private readonly IDisposable? _mapping;

    internal CodeIndex(string path, string[] imageIds, PackedCodes[] levels, RegionCodes? regions, RegionVocabulary? vocabulary, IDisposable? mapping)
    {
        Path = path;
        ImageIds = imageIds;
        Levels = levels;
        Regions = regions;
        Vocabulary = vocabulary;
        _mapping = mapping;
    }

    /// <summary>
    /// The vocabulary of the region-level inverted file fitted on <see cref="Regions"/> when the index was written
    /// (lib/MultiLevelHashing/README.md section 2.8), or null when the file has none (no region codes, or written before
    /// format version 3). Copied out of the file: it stays valid after this object is disposed.
    /// </summary>
    public RegionVocabulary? Vocabulary { get; }

    /// <summary>
    /// The region codes of every image (image i of <see cref="Regions"/> is row i of every level), or null when the file
    /// has none (written without them, or in format version 1). Read in place; valid until this object is disposed.
    /// </summary>
    public RegionCodes? Regions { get; }

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
/// The region section of an index file given in pieces (lib/MultiLevelHashing/README.md section 1.3), for
/// <see cref="CodeIndexFile.Write(string, IReadOnlyList{string}, IReadOnlyList{int}, Func{int, IEnumerable{PackedCodes}}, RegionSection)"/>:
/// the header's descriptor (bits, grid, total regions, which come before the ids, so they are known up front) and
/// <paramref name="Pieces"/>, which yields the region codes of consecutive images, in order, each call from the start.
/// </summary>
/// <param name="Bits">Bits per region code.</param>
/// <param name="GridHeight">Rows of the grid every piece refers to.</param>
/// <param name="GridWidth">Columns of the grid.</param>
/// <param name="TotalRegions">Regions over all pieces.</param>
/// <param name="Pieces">The pieces, image after image; called once per pass (three times), a piece may be released once the next is asked for.</param>
public sealed record RegionSection(int Bits, int GridHeight, int GridWidth, long TotalRegions, Func<IEnumerable<RegionCodes>> Pieces)
{
    /// <summary>The region-level inverted file's vocabulary to store after the region codes (of <see cref="Bits"/>-bit codes); null: none.</summary>
    public RegionVocabulary? Vocabulary { get; init; }
}

/// <summary>
/// The index file of a database of multi-level codes (lib/MultiLevelHashing/README.md section 1.1): header (magic
/// <c>MLHINDEX</c>, format version, number of levels and K per level, N, and from version 2 the region descriptor:
/// bits per region code, 0 when there are none, then grid height, grid width and the total number of regions), the
/// image ids, the codes of each level as 64-bit words (64-byte aligned, so that they can be searched in place through
/// a memory mapping), from version 2 the optional region section (section 2.3: N + 1 int32 offsets, one
/// (int32 row, int32 column, float32 strength) position per region, the packed region codes; each part 64-byte
/// aligned and mapped in place), from version 3 after the region codes the optional vocabulary of the region-level
/// inverted file (section 2.8: int32 word count K, 0 when there is none; then int32 bits, the int32 words asked for,
/// rounds, seed and sample size it was fitted with, the K packed centroids 64-byte aligned, and an XxHash3 of the
/// centroids' bytes), and an XxHash3 checksum of everything before it. Written atomically; a damaged, truncated or
/// mismatched file gives a <see cref="UserInputException"/> naming it. Version 1 files (no region descriptor) and
/// version 2 files (no vocabulary) still open. All integers little-endian.
/// </summary>
public static class CodeIndexFile
{
    /// <summary>Current format version: 2 added the optional region section, 3 the optional vocabulary after it.</summary>
    public const int FormatVersion = 3;

    /// <summary>The first format version that may hold a region vocabulary.</summary>
    public const int VocabularyFormatVersion = 3;

    /// <summary>The first format version, without region codes; still read.</summary>
    public const int FirstFormatVersion = 1;

    /// <summary>Largest grid side an index accepts (a damaged header must not describe an absurd grid).</summary>
    public const int MaxGridSide = 1 << 12;

    private static readonly byte[] Magic = "MLHINDEX"u8.ToArray();
    private static readonly byte[] EndMagic = "MLHEND\0\0"u8.ToArray();
    private const int Alignment = 64;
    private const int TrailerBytes = 16; // checksum (8) + end magic (8)

    /// <summary>
    /// Writes <paramref name="imageIds"/> and the codes of every level (same row count) atomically, with the region codes
    /// of the same images when <paramref name="regions"/> is given, and the vocabulary of their inverted file when
    /// <paramref name="vocabulary"/> is given.
    /// </summary>
    public static void Write(string path, IReadOnlyList<string> imageIds, IReadOnlyList<PackedCodes> levels, RegionCodes? regions = null,
        RegionVocabulary? vocabulary = null)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        ArgumentNullException.ThrowIfNull(levels);
        if (levels.Count is < 1 or > 16) throw new ArgumentException("an index holds 1 to 16 levels of codes.", nameof(levels));
        foreach (var level in levels)
            if (level.Count != imageIds.Count)
                throw new ArgumentException($"a level has {level.Count} codes but there are {imageIds.Count} image ids.", nameof(levels));
        Write(path, imageIds, [.. levels.Select(l => l.Bits)], level => [levels[level]], regions, vocabulary);
    }

    /// <summary>
    /// Writes an index whose codes arrive in pieces, so that a database far larger than memory can be written from
    /// codes stored chunk by chunk: <paramref name="levelChunks"/>(i) yields the codes of level i in row order, in
    /// as many <see cref="PackedCodes"/> as it likes (it keeps ownership; a piece may be disposed once the next is
    /// asked for). The pieces of each level must add up to one code per image, with <paramref name="bits"/>[i] bits.
    /// The file is the same as <see cref="Write(string, IReadOnlyList{string}, IReadOnlyList{PackedCodes}, RegionCodes?, RegionVocabulary?)"/>
    /// writes. <paramref name="regions"/>, when given, are the region codes of the same images, held in memory; region
    /// codes that do not fit in memory stream through <see cref="Write(string, IReadOnlyList{string}, IReadOnlyList{int}, Func{int, IEnumerable{PackedCodes}}, RegionSection)"/>.
    /// </summary>
    public static void Write(string path, IReadOnlyList<string> imageIds, IReadOnlyList<int> bits, Func<int, IEnumerable<PackedCodes>> levelChunks,
        RegionCodes? regions = null, RegionVocabulary? vocabulary = null)
    {
        if (regions is null)
        {
            if (vocabulary is not null) throw new ArgumentException("a region vocabulary is stored only beside region codes.", nameof(vocabulary));
            WriteCore(path, imageIds, bits, levelChunks, null);
            return;
        }
        if (regions.Count != imageIds.Count)
            throw new ArgumentException($"region codes of {regions.Count} images but there are {imageIds.Count} image ids.", nameof(regions));
        WriteCore(path, imageIds, bits, levelChunks,
            new RegionSection(regions.Bits, regions.GridHeight, regions.GridWidth, regions.TotalRegions, () => [regions]) { Vocabulary = vocabulary });
    }

    /// <summary>
    /// As the other streaming writer, with region codes (and their vocabulary, <see cref="RegionSection.Vocabulary"/>) that also arrive in pieces (lib/MultiLevelHashing/README.md
    /// section 1.3): <see cref="RegionSection.Pieces"/> is enumerated three times (offsets, then positions, then codes),
    /// so at most one piece needs to be in memory at a time. The file is byte for byte the one the in-memory writer makes
    /// from the pieces joined by <see cref="RegionCodes.Concat"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The pieces do not add up to one region list per image, or disagree with the section's bits, grid or total.</exception>
    public static void Write(string path, IReadOnlyList<string> imageIds, IReadOnlyList<int> bits, Func<int, IEnumerable<PackedCodes>> levelChunks,
        RegionSection regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        WriteCore(path, imageIds, bits, levelChunks, regions);
    }

    private static void WriteCore(string path, IReadOnlyList<string> imageIds, IReadOnlyList<int> bits, Func<int, IEnumerable<PackedCodes>> levelChunks,
        RegionSection? regions)
    {
        ArgumentNullException.ThrowIfNull(imageIds);
        ArgumentNullException.ThrowIfNull(bits);
        ArgumentNullException.ThrowIfNull(levelChunks);
        if (bits.Count is < 1 or > 16) throw new ArgumentException("an index holds 1 to 16 levels of codes.", nameof(bits));
        foreach (int b in bits) BitPacking.ValidateBits(b);
        if (regions is not null)
        {
            BitPacking.ValidateBits(regions.Bits);
            if (regions.GridHeight is < 1 or > MaxGridSide || regions.GridWidth is < 1 or > MaxGridSide)
                throw new ArgumentException($"a {regions.GridHeight} x {regions.GridWidth} grid cannot be stored (sides 1 to {MaxGridSide}).", nameof(regions));
            if (regions.TotalRegions is < 0 or > int.MaxValue || regions.TotalRegions * BitPacking.WordsPerCode(regions.Bits) > int.MaxValue)
                throw new ArgumentException($"{regions.TotalRegions} regions of {regions.Bits} bits are more than one index holds.", nameof(regions));
            if (regions.Vocabulary is { } words && words.Bits != regions.Bits)
                throw new ArgumentException($"a vocabulary of {words.Bits}-bit codes for {regions.Bits}-bit region codes.", nameof(regions));
        }
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
        void PutChunked(ReadOnlySpan<byte> bytes)
        {
            // In pieces, so that the stream never copies gigabytes at once.
            const int piece = 1 << 24;
            for (int at = 0; at < bytes.Length; at += piece) Put(bytes.Slice(at, Math.Min(piece, bytes.Length - at)));
        }
        Span<byte> scratch = stackalloc byte[8];
        Put(Magic);
        BinaryPrimitives.WriteInt32LittleEndian(scratch, FormatVersion); Put(scratch[..4]);
        BinaryPrimitives.WriteInt32LittleEndian(scratch, bits.Count); Put(scratch[..4]);
        foreach (int b in bits) { BinaryPrimitives.WriteInt32LittleEndian(scratch, b); Put(scratch[..4]); }
        BinaryPrimitives.WriteInt64LittleEndian(scratch, imageIds.Count); Put(scratch);
        BinaryPrimitives.WriteInt32LittleEndian(scratch, regions?.Bits ?? 0); Put(scratch[..4]);
        if (regions is not null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(scratch, regions.GridHeight); Put(scratch[..4]);
            BinaryPrimitives.WriteInt32LittleEndian(scratch, regions.GridWidth); Put(scratch[..4]);
            BinaryPrimitives.WriteInt64LittleEndian(scratch, regions.TotalRegions); Put(scratch);
        }
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
        if (regions is not null)
        {
            // Three passes over the pieces (offsets, positions, codes: the order the sections lie in the file), each piece
            // checked against the header before its bytes go out.
            PadTo(Alignment);
            BinaryPrimitives.WriteInt32LittleEndian(scratch, 0); Put(scratch[..4]);
            long images = 0, region = 0;
            var shifted = new int[4096];
            foreach (var piece in regions.Pieces())
            {
                if (piece.Bits != regions.Bits || piece.GridHeight != regions.GridHeight || piece.GridWidth != regions.GridWidth)
                    throw new ArgumentException($"a piece of region codes has {piece.Bits} bits on a {piece.GridHeight} x {piece.GridWidth} grid; the section has {regions.Bits} bits on {regions.GridHeight} x {regions.GridWidth}.", nameof(regions));
                if (images + piece.Count > imageIds.Count) throw new ArgumentException($"the region codes cover more than the {imageIds.Count} images.", nameof(regions));
                if (region + piece.TotalRegions > regions.TotalRegions) throw new ArgumentException($"the region codes hold more than the {regions.TotalRegions} regions declared.", nameof(regions));
                var own = piece.Offsets;
                for (int at = 1; at < own.Length; at += shifted.Length)
                {
                    int n = Math.Min(shifted.Length, own.Length - at);
                    for (int i = 0; i < n; i++) shifted[i] = (int)(region + own[at + i]);
                    if (BitConverter.IsLittleEndian) Put(MemoryMarshal.AsBytes(shifted.AsSpan(0, n)));
                    else foreach (int v in shifted.AsSpan(0, n)) { BinaryPrimitives.WriteInt32LittleEndian(scratch, v); Put(scratch[..4]); }
                }
                images += piece.Count;
                region += piece.TotalRegions;
            }
            if (images != imageIds.Count) throw new ArgumentException($"region codes of {images} images but there are {imageIds.Count} image ids.", nameof(regions));
            if (region != regions.TotalRegions) throw new ArgumentException($"the region codes hold {region} regions, {regions.TotalRegions} were declared.", nameof(regions));
            PadTo(Alignment);
            region = 0;
            foreach (var piece in regions.Pieces())
            {
                PutChunked(MemoryMarshal.AsBytes(piece.AllPositions));
                region += piece.TotalRegions;
            }
            if (region != regions.TotalRegions) throw new ArgumentException("the pieces of region codes changed between passes.", nameof(regions));
            PadTo(Alignment);
            region = 0;
            foreach (var piece in regions.Pieces())
            {
                PutChunked(MemoryMarshal.AsBytes(piece.AllCodes));
                region += piece.TotalRegions;
            }
            if (region != regions.TotalRegions) throw new ArgumentException("the pieces of region codes changed between passes.", nameof(regions));
            // The vocabulary (format version 3): its count, its fitting, then its centroids with their own checksum.
            var vocabulary = regions.Vocabulary;
            BinaryPrimitives.WriteInt32LittleEndian(scratch, vocabulary?.Count ?? 0); Put(scratch[..4]);
            if (vocabulary is not null)
            {
                var fit = vocabulary.Fitting;
                foreach (int v in new[] { vocabulary.Bits, fit?.Words ?? 0, fit?.Iterations ?? 0, fit?.Seed ?? 0, fit?.SampleSize ?? 0 })
                {
                    BinaryPrimitives.WriteInt32LittleEndian(scratch, v); Put(scratch[..4]);
                }
                PadTo(Alignment);
                var centroids = MemoryMarshal.AsBytes(vocabulary.AllCentroids);
                PutChunked(centroids);
                BinaryPrimitives.WriteUInt64LittleEndian(scratch, XxHash3.HashToUInt64(centroids)); Put(scratch);
            }
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
            if (version is < FirstFormatVersion or > FormatVersion)
                throw UserInputException.InFile(path, $"index format version {version} is not supported (this build reads versions {FirstFormatVersion} to {FormatVersion}).");
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
            int regionBits = 0, gridHeight = 0, gridWidth = 0;
            long totalRegions = 0;
            if (version >= 2)
            {
                regionBits = ReadInt32();
                if (regionBits != 0)
                {
                    if (regionBits < 0 || regionBits % 8 != 0 || regionBits > BitPacking.MaxBits)
                        throw UserInputException.InFile(path, $"damaged header: {regionBits}-bit region codes.");
                    gridHeight = ReadInt32();
                    gridWidth = ReadInt32();
                    if (gridHeight is < 1 or > MaxGridSide || gridWidth is < 1 or > MaxGridSide)
                        throw UserInputException.InFile(path, $"damaged header: a {gridHeight} x {gridWidth} region grid.");
                    totalRegions = (long)(uint)ReadInt32() | ((long)ReadInt32() << 32);
                    // Each region takes at least its 12-byte position: a damaged count cannot claim more than the file holds.
                    if (totalRegions < 0 || totalRegions > int.MaxValue || totalRegions > (length - TrailerBytes - pos) / 12)
                        throw UserInputException.InFile(path, $"damaged header: {totalRegions} regions do not fit in a file of {length} bytes.");
                }
            }
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
            RegionCodes? regions = null;
            RegionVocabulary? vocabulary = null;
            if (regionBits != 0)
            {
                regions = ReadRegions(path, basePtr, ref pos, length, (int)n, regionBits, gridHeight, gridWidth, (int)totalRegions);
                if (version >= VocabularyFormatVersion) vocabulary = ReadVocabulary(path, basePtr, ref pos, length, regionBits);
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
            return new CodeIndex(path, ids, levels, regions, vocabulary, mapping);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The region section at <paramref name="pos"/>: offsets, positions and codes, each 64-byte aligned, checked for
    /// length and consistency (offsets from 0 to the header's total, never decreasing; positions on the grid) so that a
    /// damaged section is refused even when the checksum is not verified.
    /// </summary>
    private static unsafe RegionCodes ReadRegions(string path, byte* basePtr, ref long pos, long length, int images, int bits,
        int gridHeight, int gridWidth, int totalRegions)
    {
        long end = length - TrailerBytes;
        long Section(long at, long bytes, string what)
        {
            at = (at + Alignment - 1) / Alignment * Alignment;
            if (at + bytes > end) throw UserInputException.InFile(path, $"region {what} are truncated: need {bytes} bytes at offset {at}, file has {length}.");
            return at;
        }
        int wordsPer = BitPacking.WordsPerCode(bits);
        long offsetsAt = Section(pos, ((long)images + 1) * 4, "offsets");
        long positionsAt = Section(offsetsAt + ((long)images + 1) * 4, (long)totalRegions * 12, "positions");
        long codeWords = (long)totalRegions * wordsPer;
        if (codeWords > int.MaxValue) throw UserInputException.InFile(path, $"damaged header: {totalRegions} regions of {bits} bits are more than one index holds.");
        long codesAt = Section(positionsAt + (long)totalRegions * 12, codeWords * 8, "codes");
        pos = codesAt + codeWords * 8;
        var offsets = new ReadOnlySpan<int>(basePtr + offsetsAt, images + 1);
        if (offsets[images] != totalRegions)
            throw UserInputException.InFile(path, $"damaged region section: the offsets end at {offsets[images]} regions but the header counts {totalRegions}.");
        try
        {
            return new RegionCodes(bits, gridHeight, gridWidth,
                new MappedMemory<ulong>((ulong*)(basePtr + codesAt), (int)codeWords).Memory,
                new MappedMemory<int>((int*)(basePtr + offsetsAt), images + 1).Memory,
                new MappedMemory<RegionPosition>((RegionPosition*)(basePtr + positionsAt), totalRegions).Memory);
        }
        catch (ArgumentException e)
        {
            throw UserInputException.InFile(path, $"damaged region section: {e.Message}.");
        }
    }

    /// <summary>
    /// The vocabulary after the region section at <paramref name="pos"/> (format version 3), or null when its word count
    /// is 0; every field is checked, and the centroids against their own checksum, so that damage is refused naming the
    /// vocabulary even when the file's checksum is not verified.
    /// </summary>
    private static unsafe RegionVocabulary? ReadVocabulary(string path, byte* basePtr, ref long pos, long length, int regionBits)
    {
        long end = length - TrailerBytes, cursor = pos;
        int ReadInt32()
        {
            if (cursor + 4 > end) throw UserInputException.InFile(path, "the region vocabulary is truncated.");
            int v = BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(basePtr + cursor, 4));
            cursor += 4;
            return v;
        }
        int count = ReadInt32();
        pos = cursor;
        if (count == 0) return null;
        int bits = ReadInt32(), words = ReadInt32(), iterations = ReadInt32(), seed = ReadInt32(), sampleSize = ReadInt32();
        if (bits != regionBits)
            throw UserInputException.InFile(path, $"damaged region vocabulary: {bits}-bit words for {regionBits}-bit region codes.");
        int wordsPer = BitPacking.WordsPerCode(bits);
        long at = (cursor + Alignment - 1) / Alignment * Alignment;
        if (count < 0 || words < 0 || iterations < 0 || sampleSize < 0 || (words > 0 && sampleSize < 1)
            || (long)count * wordsPer > (end - Math.Min(at, end)) / 8)
            throw UserInputException.InFile(path, $"damaged region vocabulary: {count} words (fitted as {words} words, {iterations} rounds, sample {sampleSize}) " +
                                                  $"do not fit in a file of {length} bytes.");
        long bytes = (long)count * wordsPer * 8;
        if (at + bytes + 8 > end) throw UserInputException.InFile(path, $"the region vocabulary is truncated: need {bytes + 8} bytes at offset {at}, file has {length}.");
        var centroidBytes = new ReadOnlySpan<byte>(basePtr + at, (int)bytes);
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(basePtr + at + bytes, 8));
        if (XxHash3.HashToUInt64(centroidBytes) != stored)
            throw UserInputException.InFile(path, "damaged region vocabulary: its checksum does not match its centroids.");
        pos = at + bytes + 8;
        var centroids = MemoryMarshal.Cast<byte, ulong>(centroidBytes).ToArray();
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < centroids.Length; i++) centroids[i] = BinaryPrimitives.ReverseEndianness(centroids[i]);
        return RegionVocabulary.FromCentroids(bits, centroids, words > 0 ? new RegionVocabularyFit(words, iterations, seed, sampleSize) : null);
    }

    /// <summary>Memory over part of a mapping; valid while the <see cref="CodeIndex"/> that owns the mapping is not disposed, as its levels.</summary>
    private sealed unsafe class MappedMemory<T>(T* pointer, int length) : MemoryManager<T>
        where T : unmanaged
    {
        public override Span<T> GetSpan() => new(pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

        public override void Unpin() { }

        protected override void Dispose(bool disposing) { }
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
