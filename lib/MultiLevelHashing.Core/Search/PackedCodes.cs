using System.Runtime.InteropServices;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Search;

/// <summary>
/// A database of K-bit binary codes (K a multiple of 8 up to 1024) packed into 64-bit words, ceil(K/64) words per
/// code, row after row; it grows by appending. This is the storage the paper's Hamming ranking (stage 1 of the
/// multi-level search, global code) and the bit-selected re-ranking (stage 2, local code) scan.
/// Bit convention: see <see cref="BitPacking"/> (FAISS layout when exported as bytes, N x K/8).
/// Reading is thread-safe; appending is not and must not overlap searches.
/// </summary>
public sealed unsafe class PackedCodes : IDisposable
{
    private ulong[] _words;
    private int _count;
    // Set when the codes live in external memory (a memory-mapped index file); copied out on the first append.
    private ulong* _external;
    private IDisposable? _owner;

    /// <summary>An empty database of <paramref name="bits"/>-bit codes with room for <paramref name="capacity"/> codes.</summary>
    public PackedCodes(int bits, int capacity = 0)
    {
        BitPacking.ValidateBits(bits);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Bits = bits;
        WordsPerCode = BitPacking.WordsPerCode(bits);
        _words = capacity == 0 ? [] : new ulong[checked((long)capacity * WordsPerCode)];
    }

    /// <summary>Wraps codes held in external memory (e.g. a memory-mapped file); <paramref name="owner"/> is disposed with this object.</summary>
    internal PackedCodes(int bits, int count, ulong* words, IDisposable owner)
    {
        BitPacking.ValidateBits(bits);
        Bits = bits;
        WordsPerCode = BitPacking.WordsPerCode(bits);
        _words = [];
        _count = count;
        _external = words;
        _owner = owner;
    }

    /// <summary>Code length K in bits.</summary>
    public int Bits { get; }

    /// <summary>64-bit words per code, ceil(K/64).</summary>
    public int WordsPerCode { get; }

    /// <summary>Bytes per code in the FAISS byte layout, K/8.</summary>
    public int BytesPerCode => Bits / 8;

    /// <summary>Number of codes N.</summary>
    public int Count => _count;

    /// <summary>Bytes of code storage in use (N x words x 8).</summary>
    public long StorageBytes => (long)_count * WordsPerCode * sizeof(ulong);

    /// <summary>True when the codes are read from a memory-mapped file rather than managed memory.</summary>
    public bool IsMemoryMapped => _external != null;

    /// <summary>All words, code after code (length N x <see cref="WordsPerCode"/>).</summary>
    public ReadOnlySpan<ulong> AllWords => Words(0, _count);

    /// <summary>Code <paramref name="index"/> as <see cref="WordsPerCode"/> words.</summary>
    public ReadOnlySpan<ulong> Code(int index)
    {
        if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index), index, $"index must be in [0, {_count}).");
        return Words(index, 1);
    }

    /// <summary>Codes [<paramref name="start"/>, start + <paramref name="count"/>) as consecutive words.</summary>
    public ReadOnlySpan<ulong> Words(int start, int count)
    {
        if (start < 0 || count < 0 || (long)start + count > _count)
            throw new ArgumentOutOfRangeException(nameof(start), $"range [{start}, {start}+{count}) outside [0, {_count}).");
        long offset = (long)start * WordsPerCode;
        int length = checked(count * WordsPerCode);
        return _external != null
            ? new ReadOnlySpan<ulong>(_external + offset, length)
            : new ReadOnlySpan<ulong>(_words, (int)offset, length);
    }

    /// <summary>Code <paramref name="index"/> in the FAISS byte layout (K/8 bytes).</summary>
    public byte[] CodeBytes(int index)
    {
        var bytes = new byte[BytesPerCode];
        BitPacking.WordsToBytes(Code(index), bytes);
        return bytes;
    }

    /// <summary>Appends codes given in the FAISS byte layout: a multiple of K/8 bytes, code after code.</summary>
    public void Append(ReadOnlySpan<byte> packed)
    {
        int bpc = BytesPerCode;
        if (packed.Length % bpc != 0)
            throw new ArgumentException($"{packed.Length} bytes is not a whole number of {Bits}-bit codes ({bpc} bytes each).", nameof(packed));
        int n = packed.Length / bpc;
        var dest = Reserve(n);
        if (bpc % 8 == 0)
        {
            // K multiple of 64: the little-endian byte layout is exactly the word layout.
            packed.CopyTo(MemoryMarshal.AsBytes(dest));
        }
        else
        {
            int w = WordsPerCode;
            for (int i = 0; i < n; i++) BitPacking.BytesToWords(packed.Slice(i * bpc, bpc), dest.Slice(i * w, w));
        }
        _count += n;
    }

    /// <summary>Appends codes given as words, <see cref="WordsPerCode"/> per code; unused high bits must be zero.</summary>
    public void AppendWords(ReadOnlySpan<ulong> words)
    {
        int w = WordsPerCode;
        if (words.Length % w != 0) throw new ArgumentException($"{words.Length} words is not a whole number of codes ({w} words each).", nameof(words));
        if (Bits % 64 != 0)
        {
            ulong unused = ~0UL << (Bits % 64);
            for (int i = w - 1; i < words.Length; i += w)
                if ((words[i] & unused) != 0) throw new ArgumentException("bits above the code length must be zero.", nameof(words));
        }
        int n = words.Length / w;
        words.CopyTo(Reserve(n));
        _count += n;
    }

    /// <summary>Appends real-valued codes (count x K floats, row-major), bit = (u &gt; 0).</summary>
    public void AppendReal(ReadOnlySpan<float> real)
    {
        if (real.Length % Bits != 0) throw new ArgumentException($"{real.Length} values is not a whole number of {Bits}-bit codes.", nameof(real));
        int n = real.Length / Bits;
        Span<byte> buffer = stackalloc byte[BitPacking.MaxBits / 8];
        var bytes = buffer[..BytesPerCode];
        for (int i = 0; i < n; i++)
        {
            BitPacking.Pack(real.Slice(i * Bits, Bits), bytes);
            Append(bytes);
        }
    }

    /// <summary>Appends every code of <paramref name="other"/>, which must have the same length.</summary>
    public void Append(PackedCodes other)
    {
        if (other.Bits != Bits) throw new ArgumentException($"cannot append {other.Bits}-bit codes to a {Bits}-bit database.", nameof(other));
        AppendWords(other.AllWords);
    }

    /// <summary>A database holding <paramref name="packed"/> (FAISS byte layout).</summary>
    public static PackedCodes FromBytes(ReadOnlySpan<byte> packed, int bits)
    {
        BitPacking.ValidateBits(bits);
        var codes = new PackedCodes(bits, packed.Length / (bits / 8));
        codes.Append(packed);
        return codes;
    }

    /// <summary>A database from an N x K/8 uint8 array (FAISS layout).</summary>
    public static PackedCodes FromArray(Array2D<byte> packed)
    {
        int bits = packed.Columns * 8;
        if (packed.Columns == 0 || bits > BitPacking.MaxBits)
            throw new ArgumentException($"a packed code array needs 1 to {BitPacking.MaxBits / 8} columns, found {packed.Columns}.", nameof(packed));
        return FromBytes(packed.Data, bits);
    }

    /// <summary>A database from real-valued codes (count x <paramref name="bits"/> floats), bit = (u &gt; 0).</summary>
    public static PackedCodes FromReal(ReadOnlySpan<float> real, int bits)
    {
        BitPacking.ValidateBits(bits);
        var codes = new PackedCodes(bits, real.Length / bits);
        codes.AppendReal(real);
        return codes;
    }

    /// <summary>
    /// Row i of <paramref name="first"/> followed by row i of <paramref name="second"/>: a (K1 + K2)-bit code whose
    /// Hamming distance is the sum of the two codes' distances (the concatenated global and local codes).
    /// </summary>
    public static PackedCodes Concatenate(PackedCodes first, PackedCodes second)
    {
        if (first.Count != second.Count) throw new ArgumentException($"{first.Count} codes against {second.Count}; both must describe the same items.");
        var a = first.ToArray();
        var b = second.ToArray();
        int width = a.Columns + b.Columns;
        var joined = new byte[(long)first.Count * width];
        for (int i = 0; i < first.Count; i++)
        {
            a.Data.AsSpan(i * a.Columns, a.Columns).CopyTo(joined.AsSpan(i * width));
            b.Data.AsSpan(i * b.Columns, b.Columns).CopyTo(joined.AsSpan(i * width + a.Columns));
        }
        return FromBytes(joined, width * 8);
    }

    /// <summary>Reads packed codes from a uint8 N x K/8 <c>.npy</c> file (FAISS layout).</summary>
    public static PackedCodes ReadNpy(string path)
    {
        var array = NpyFile.ReadUInt8(path);
        if (array.Columns == 0 || array.Columns > BitPacking.MaxBits / 8)
            throw UserInputException.InFile(path, $"packed codes need 1 to {BitPacking.MaxBits / 8} bytes per row (K/8 for K up to {BitPacking.MaxBits} bits), found {array.Columns}.");
        return FromArray(array);
    }

    /// <summary>The codes as an N x K/8 uint8 array (FAISS layout).</summary>
    public Array2D<byte> ToArray()
    {
        var result = new Array2D<byte>(_count, BytesPerCode);
        int bpc = BytesPerCode;
        if (bpc % 8 == 0) MemoryMarshal.AsBytes(AllWords).CopyTo(result.Data);
        else
            for (int i = 0; i < _count; i++) BitPacking.WordsToBytes(Code(i), result.Data.AsSpan(i * bpc, bpc));
        return result;
    }

    /// <summary>
    /// Writes the codes as a uint8 N x K/8 <c>.npy</c> file (FAISS layout), atomically; streams a block of codes at a
    /// time, so a memory-mapped database is written without a copy of it in memory.
    /// </summary>
    public void WriteNpy(string path)
    {
        const int block = 4096;
        int bpc = BytesPerCode;
        using var file = AtomicFile.Begin(path);
        file.Stream.Write(NpyFile.BuildHeader(NpyFile.DescrOf<byte>(), _count, bpc));
        var buffer = new byte[block * bpc];
        for (int start = 0; start < _count; start += block)
        {
            int n = Math.Min(block, _count - start);
            if (bpc % 8 == 0) MemoryMarshal.AsBytes(Words(start, n)).CopyTo(buffer);
            else
                for (int i = 0; i < n; i++) BitPacking.WordsToBytes(Code(start + i), buffer.AsSpan(i * bpc, bpc));
            file.Stream.Write(buffer, 0, n * bpc);
        }
        file.Commit();
    }

    /// <summary>Releases the memory mapping, if any.</summary>
    public void Dispose()
    {
        _owner?.Dispose();
        _owner = null;
        if (_external != null) { _external = null; _count = 0; }
    }

    private Span<ulong> Reserve(int n)
    {
        int w = WordsPerCode;
        long needed = checked((long)(_count + n) * w);
        if (needed > Array.MaxLength) throw new InvalidOperationException($"database would exceed {Array.MaxLength} words.");
        if (_external != null)
        {
            // Copy a memory-mapped database into managed memory before it can grow.
            var copy = new ulong[Math.Max(needed, (long)_count * w)];
            new ReadOnlySpan<ulong>(_external, _count * w).CopyTo(copy);
            _words = copy;
            _external = null;
            _owner?.Dispose();
            _owner = null;
        }
        if (needed > _words.LongLength)
        {
            long grown = Math.Max(needed, Math.Min(Array.MaxLength, Math.Max(1024L * w, _words.LongLength * 2)));
            Array.Resize(ref _words, (int)grown);
        }
        return _words.AsSpan(_count * w, n * w);
    }
}
