using System.Numerics;
using System.Runtime.CompilerServices;

namespace MultiLevelHashing.Search;

/// <summary>
/// The bit convention of every binary code in the toolkit (identical to FAISS <c>fvec2bitvec</c>): bit j of a
/// K-bit code is 1 where the real-valued code u_j is &gt; 0 (the paper's b = sign(u), with 0 mapped to bit 0),
/// and lives in byte j/8 at bit position j%8 (least significant bit first). Read as little-endian 64-bit words,
/// bit j is bit j%64 of word j/64.
/// </summary>
public static class BitPacking
{
    /// <summary>Largest supported code length in bits.</summary>
    public const int MaxBits = 1024;

    /// <summary>Throws unless <paramref name="bits"/> is a positive multiple of 8 up to <see cref="MaxBits"/>.</summary>
    public static void ValidateBits(int bits, string paramName = "bits")
    {
        if (bits <= 0 || bits % 8 != 0 || bits > MaxBits)
            throw new ArgumentOutOfRangeException(paramName, bits, $"code length must be a positive multiple of 8 up to {MaxBits} bits.");
    }

    /// <summary>Bytes per packed code: K/8.</summary>
    public static int BytesPerCode(int bits) => bits / 8;

    /// <summary>64-bit words per code: ceil(K/64); the unused high bits of the last word are zero.</summary>
    public static int WordsPerCode(int bits) => (bits + 63) / 64;

    /// <summary>Packs one real-valued code (length K, K multiple of 8) into K/8 bytes: bit j = (u_j &gt; 0).</summary>
    public static void Pack(ReadOnlySpan<float> real, Span<byte> packed)
    {
        if (real.Length % 8 != 0) throw new ArgumentException("code length must be a multiple of 8.", nameof(real));
        if (packed.Length < real.Length / 8) throw new ArgumentException("destination is too short.", nameof(packed));
        for (int b = 0; b < real.Length / 8; b++)
        {
            var v = real.Slice(b * 8, 8);
            int x = 0;
            for (int i = 0; i < 8; i++)
                if (v[i] > 0) x |= 1 << i;
            packed[b] = (byte)x;
        }
    }

    /// <summary>Packs <paramref name="count"/> real-valued codes (row-major, count x K) into count x K/8 bytes.</summary>
    public static Array2D<byte> PackRows(ReadOnlySpan<float> real, int count, int bits)
    {
        ValidateBits(bits);
        if ((long)count * bits != real.Length)
            throw new ArgumentException($"expected {count} x {bits} values, got {real.Length}.", nameof(real));
        int bytes = bits / 8;
        var result = new Array2D<byte>(count, bytes);
        for (int i = 0; i < count; i++)
            Pack(real.Slice(i * bits, bits), result.Data.AsSpan(i * bytes, bytes));
        return result;
    }

    /// <summary>Unpacks K/8 bytes into K values 0/1.</summary>
    public static void Unpack(ReadOnlySpan<byte> packed, Span<byte> bits)
    {
        if (bits.Length > packed.Length * 8) throw new ArgumentException("more bits requested than packed.", nameof(bits));
        for (int j = 0; j < bits.Length; j++) bits[j] = (byte)((packed[j >> 3] >> (j & 7)) & 1);
    }

    /// <summary>The first <paramref name="bits"/> bits of a packed code as '0' and '1', bit 0 first (the packing order, LSB first).</summary>
    public static string ToBitString(ReadOnlySpan<byte> packed, int bits)
    {
        if (bits < 0 || bits > packed.Length * 8) throw new ArgumentOutOfRangeException(nameof(bits), bits, $"the code holds {packed.Length * 8} bits");
        var text = new char[bits];
        var digits = new byte[bits];
        Unpack(packed, digits);
        for (int j = 0; j < bits; j++) text[j] = (char)('0' + digits[j]);
        return new string(text);
    }

    /// <summary>Bit <paramref name="j"/> of a packed code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool GetBit(ReadOnlySpan<byte> packed, int j) => ((packed[j >> 3] >> (j & 7)) & 1) != 0;

    /// <summary>Bit <paramref name="j"/> of a code held as 64-bit words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool GetBit(ReadOnlySpan<ulong> words, int j) => ((words[j >> 6] >> (j & 63)) & 1) != 0;

    /// <summary>Copies K/8 packed bytes into ceil(K/64) little-endian words, zero-filling the tail.</summary>
    public static void BytesToWords(ReadOnlySpan<byte> packed, Span<ulong> words)
    {
        int full = packed.Length / 8;
        for (int w = 0; w < full; w++) words[w] = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(packed.Slice(w * 8, 8));
        if (full < words.Length)
        {
            ulong last = 0;
            var tail = packed[(full * 8)..];
            for (int i = 0; i < tail.Length; i++) last |= (ulong)tail[i] << (8 * i);
            words[full] = last;
            words[(full + 1)..].Clear();
        }
    }

    /// <summary>Copies ceil(K/64) words back into K/8 packed bytes.</summary>
    public static void WordsToBytes(ReadOnlySpan<ulong> words, Span<byte> packed)
    {
        for (int i = 0; i < packed.Length; i++) packed[i] = (byte)(words[i >> 3] >> (8 * (i & 7)));
    }

    /// <summary>Hamming distance between two codes given as words (reference implementation, no unrolling).</summary>
    public static int Hamming(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("codes differ in length.");
        int d = 0;
        for (int i = 0; i < a.Length; i++) d += BitOperations.PopCount(a[i] ^ b[i]);
        return d;
    }

    /// <summary>Hamming distance between two packed byte codes.</summary>
    public static int Hamming(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("codes differ in length.");
        int d = 0;
        for (int i = 0; i < a.Length; i++) d += BitOperations.PopCount((uint)(a[i] ^ b[i]));
        return d;
    }
}
