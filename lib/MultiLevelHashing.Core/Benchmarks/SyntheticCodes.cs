using MultiLevelHashing.Search;

namespace MultiLevelHashing.Benchmarks;

/// <summary>
/// Synthetic binary codes for search benchmarks and tests (not the paper's data): uniform random codes, the worst
/// case for any index because near neighbours are far, and clustered codes that behave like learned hash codes,
/// where images of one landmark share most bits: a code is a random centre with each bit flipped independently
/// with probability 2^-<c>flipExponent</c> (drawn as the AND of that many random words, so it is exact and fast).
/// Deterministic for a given seed. The Python benchmark script generates the same distributions.
/// </summary>
public static class SyntheticCodes
{
    /// <summary><paramref name="n"/> codes with every bit independent and uniform.</summary>
    public static PackedCodes Uniform(int n, int bits, int seed)
    {
        BitPacking.ValidateBits(bits);
        var rng = new Random(seed);
        var codes = new PackedCodes(bits, n);
        int words = BitPacking.WordsPerCode(bits);
        var buffer = new ulong[Math.Min(n, 65536) * words];
        for (int done = 0; done < n;)
        {
            int count = Math.Min(n - done, 65536);
            var span = buffer.AsSpan(0, count * words);
            for (int i = 0; i < span.Length; i++) span[i] = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
            MaskTail(span, bits, words);
            codes.AppendWords(span);
            done += count;
        }
        return codes;
    }

    /// <summary>
    /// <paramref name="n"/> codes around <paramref name="clusters"/> random centres (drawn from
    /// <paramref name="centreSeed"/>, so queries can share the database's centres), each bit flipped with
    /// probability 2^-<paramref name="flipExponent"/>; the centre of each code is chosen uniformly.
    /// </summary>
    public static PackedCodes Clustered(int n, int bits, int clusters, int flipExponent, int seed, int centreSeed)
    {
        BitPacking.ValidateBits(bits);
        ArgumentOutOfRangeException.ThrowIfLessThan(clusters, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(flipExponent, 1);
        int words = BitPacking.WordsPerCode(bits);
        var centres = Uniform(clusters, bits, centreSeed);
        var rng = new Random(seed);
        var codes = new PackedCodes(bits, n);
        var code = new ulong[words];
        for (int i = 0; i < n; i++)
        {
            var c = centres.Code(rng.Next(clusters));
            for (int w = 0; w < words; w++)
            {
                ulong flips = ~0UL;
                for (int j = 0; j < flipExponent; j++) flips &= (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
                code[w] = c[w] ^ flips;
            }
            MaskTail(code, bits, words);
            codes.AppendWords(code);
        }
        return codes;
    }

    private static void MaskTail(Span<ulong> span, int bits, int words)
    {
        if (bits % 64 == 0) return;
        ulong keep = (1UL << (bits % 64)) - 1;
        for (int i = words - 1; i < span.Length; i += words) span[i] &= keep;
    }
}
