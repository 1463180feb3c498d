using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MultiLevelHashing.Search;

/// <summary>
/// Inner loops of the linear scan: Hamming distances from one query to a run of consecutive codes.
/// Specialised by words per code (1, 2, 4, any) because a fixed trip count lets the JIT keep the query in
/// registers and unroll; 4 codes per iteration keep several independent popcount chains in flight.
/// The AVX2 variants (nibble lookup + SAD, as in Mula et al.) are kept only where they measure faster; see
/// tests/MultiLevelHashing.Benchmarks and <see cref="UseAvx2"/>. The AVX-512 variants are the same on 64-byte vectors,
/// chosen at run time where the CPU and the runtime support them (<see cref="UseAvx512"/>). Hot loops are compiled fully optimised at once
/// (AggressiveOptimization) so that a single large search does not run its first part in unoptimised code.
/// </summary>
internal static unsafe class HammingKernels
{
    /// <summary>
    /// Whether the AVX2 kernels are used for the given words per code, decided by measurement
    /// (tests/MultiLevelHashing.Benchmarks/results/kernels.md): at 64 bits AVX2 is about 1.5x faster than scalar
    /// popcount (0.31 against 0.46 ns per code); at 256 bits it is slower (1.33 against 1.21), so scalar stays.
    /// </summary>
    public static bool UseAvx2(int words) => Avx2.IsSupported && Avx2Preferred(words);

    // Overridable for benchmarks and tests (both paths must give identical distances).
    internal static Func<int, bool> Avx2Preferred = words => words is 1;

    /// <summary>
    /// Whether the AVX-512 kernels (the AVX2 nibble lookup and SAD on 64-byte vectors, 8 codes per vector) are used for
    /// the given words per code: only where the runtime accelerates 512-bit vectors (it declines on CPUs that lower
    /// their clock for them) and the CPU has AVX-512BW's byte shuffle and SAD, and, as for AVX2, at 64 bits. They take
    /// precedence over the AVX2 kernels. .NET 10 exposes no VPOPCNTDQ intrinsic, so the lookup stays.
    /// </summary>
    public static bool UseAvx512(int words) => Vector512.IsHardwareAccelerated && Avx512BW.IsSupported && Avx512Preferred(words);

    // Overridable for benchmarks and tests, as Avx2Preferred.
    internal static Func<int, bool> Avx512Preferred = words => words is 1;

    /// <summary>The kernel that computes distances between codes of <paramref name="words"/> words on this machine, in words (for reports).</summary>
    public static string KernelName(int words) =>
        UseAvx512(words) ? "AVX-512BW nibble lookup" : UseAvx2(words) ? "AVX2 nibble lookup" : "scalar POPCNT";

    /// <summary>d[i] = popcount(q XOR codes[i]) for i in [0, count); codes hold <paramref name="words"/> words each.</summary>
    public static void Distances(ulong* codes, int count, int words, ulong* q, int* d)
    {
        bool avx = UseAvx2(words);
        switch (words)
        {
            case 1:
                if (UseAvx512(1)) Avx512W1(codes, count, q[0], d);
                else if (avx) Avx2W1(codes, count, q[0], d);
                else ScalarW1(codes, count, q[0], d);
                break;
            case 2: ScalarW2(codes, count, q, d); break;
            case 4: if (avx) Avx2W4(codes, count, q, d); else ScalarW4(codes, count, q, d); break;
            default: ScalarAny(codes, count, words, q, d); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Pop(ulong x) => BitOperations.PopCount(x);

    // Overridable for benchmarks and tests: whether k-NN uses the fused kernels below (distance and bound test in
    // registers) or distances to a buffer followed by TopKCollector.Offer. Both must give identical results.
    internal static bool FusedTopK = true;

    /// <summary>
    /// Offers the distances from <paramref name="q"/> to codes [0, count) (database rows <paramref name="firstId"/>
    /// onwards) to <paramref name="collector"/>. At 64 bits the distance is compared with the collector's bound in
    /// registers and only codes below it are offered, so nothing is stored per code; other lengths go through
    /// <paramref name="scratch"/> (at least <paramref name="count"/> ints) and <see cref="TopKCollector.Offer"/>.
    /// </summary>
    public static void OfferNearest(ulong* codes, int count, int words, ulong* q, int firstId, TopKCollector collector, int* scratch)
    {
        int seed = SeedCodes(collector.K);
        if (collector.IsEmpty && count >= seed)
        {
            // An empty collector's bound admits everything; start it from the exact top-k of the first codes instead.
            Distances(codes, seed, words, q, scratch);
            collector.Seed(scratch, seed, firstId);
            codes += (long)seed * words;
            count -= seed;
            firstId += seed;
        }
        if (words == 1 && FusedTopK)
        {
            if (UseAvx512(1)) Avx512TopKW1(codes, count, q[0], firstId, collector);
            else if (UseAvx2(1)) Avx2TopKW1(codes, count, q[0], firstId, collector);
            else ScalarTopKW1(codes, count, q[0], firstId, collector);
            return;
        }
        Distances(codes, count, words, q, scratch);
        collector.Offer(scratch, count, firstId);
    }

    /// <summary>Codes whose distances start an empty collector (<see cref="TopKCollector.Seed"/>): several times k, so that its bound starts near the tile's k-th distance.</summary>
    internal static int SeedCodes(int k) => Math.Max(1024, 8 * k);

    /// <summary>The fused scalar kernel at 64 bits: popcount, compare with the running bound, offer the rare winner.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScalarTopKW1(ulong* c, int count, ulong q, int firstId, TopKCollector collector)
    {
        int bound = collector.Bound;
        int i = 0;
        for (; i + 4 <= count; i += 4)
        {
            int d0 = Pop(q ^ c[i]), d1 = Pop(q ^ c[i + 1]), d2 = Pop(q ^ c[i + 2]), d3 = Pop(q ^ c[i + 3]);
            // Some d - bound is negative iff some code is below the bound.
            if (((d0 - bound) | (d1 - bound) | (d2 - bound) | (d3 - bound)) >= 0) continue;
            bound = OfferFour(collector, d0, d1, d2, d3, firstId + i);
        }
        for (; i < count; i++)
        {
            int d = Pop(q ^ c[i]);
            if (d < bound)
            {
                collector.Add(d, firstId + i);
                bound = collector.Bound;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int OfferFour(TopKCollector collector, int d0, int d1, int d2, int d3, int id)
    {
        collector.Add(d0, id);
        collector.Add(d1, id + 1);
        collector.Add(d2, id + 2);
        collector.Add(d3, id + 3);
        return collector.Bound;
    }

    /// <summary>
    /// The fused AVX2 kernel at 64 bits: <see cref="Avx2CollectBelow"/> gathers the codes below the
    /// bound into a small buffer without making calls (a call in the loop forces every vector register to be saved and
    /// reloaded around it under the System V ABI), and they are offered here, in index order, when it fills.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2TopKW1(ulong* c, int count, ulong q, int firstId, TopKCollector collector)
    {
        const int capacity = 64;
        int* dist = stackalloc int[capacity];
        int* at = stackalloc int[capacity];
        int full = count & ~15, i = 0;
        while (i < full)
        {
            int n = Avx2CollectBelow(c, ref i, full, q, collector.Bound, dist, at, capacity);
            for (int j = 0; j < n; j++) collector.Add(dist[j], firstId + at[j]);   // Add re-checks the bound, which tightens as they go in
        }
        if (full < count) ScalarTopKW1(c + full, count - full, q, firstId + full, collector);
    }

    /// <summary>
    /// From code <paramref name="i"/> on, in blocks of 16 up to <paramref name="to"/>, writes the distance and position
    /// of every code below <paramref name="bound"/> and returns how many; stops early, with <paramref name="i"/> at the
    /// next block, when fewer than 16 places are left. Each block is tested once, on the 32-bit minimum of its four SAD
    /// vectors (their 64-bit lanes hold the distance in the low half and zero above, and the zero halves meet zero halves
    /// of the bound vector, never below it); only a block that passes is split into lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static int Avx2CollectBelow(ulong* c, ref int i, int to, ulong q, int bound, int* dist, int* at, int capacity)
    {
        var table = Vector256.Create(NibbleCounts);
        var low = Vector256.Create((byte)0x0F);
        var qv = Vector256.Create(q);
        var b32 = Vector256.Create((ulong)(uint)bound).AsInt32();
        var b64 = Vector256.Create((long)bound);
        int n = 0, k = i;
        for (; k < to; k += 16)
        {
            var s0 = ByteCountsSad(Avx.LoadVector256(c + k) ^ qv, table, low);
            var s1 = ByteCountsSad(Avx.LoadVector256(c + k + 4) ^ qv, table, low);
            var s2 = ByteCountsSad(Avx.LoadVector256(c + k + 8) ^ qv, table, low);
            var s3 = ByteCountsSad(Avx.LoadVector256(c + k + 12) ^ qv, table, low);
            var min = Avx2.Min(Avx2.Min(s0.AsUInt32(), s1.AsUInt32()), Avx2.Min(s2.AsUInt32(), s3.AsUInt32())).AsInt32();
            var below = Avx2.CompareGreaterThan(b32, min);
            if (Avx.TestZ(below, below)) continue;
            int mask = Avx.MoveMask(Avx2.CompareGreaterThan(b64, s0.AsInt64()).AsDouble())
                       | Avx.MoveMask(Avx2.CompareGreaterThan(b64, s1.AsInt64()).AsDouble()) << 4
                       | Avx.MoveMask(Avx2.CompareGreaterThan(b64, s2.AsInt64()).AsDouble()) << 8
                       | Avx.MoveMask(Avx2.CompareGreaterThan(b64, s3.AsInt64()).AsDouble()) << 12;
            n = BufferHits((uint)mask, c, k, q, dist, at, n);
            if (n > capacity - 16)
            {
                k += 16;
                break;
            }
        }
        i = k;
        return n;
    }

    /// <summary>
    /// Appends the distance and position of each code of the block at <paramref name="k"/> whose bit is set in
    /// <paramref name="mask"/> (non-zero) to the hit buffer at <paramref name="n"/>; returns the new count. Inlined into
    /// the collecting loops, which must make no calls.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BufferHits(ulong mask, ulong* c, int k, ulong q, int* dist, int* at, int n)
    {
        do
        {
            int j = BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            dist[n] = Pop(q ^ c[k + j]);
            at[n++] = k + j;
        } while (mask != 0);
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScalarW1(ulong* c, int count, ulong q, int* d)
    {
        int i = 0;
        for (; i + 4 <= count; i += 4)
        {
            d[i] = Pop(q ^ c[i]);
            d[i + 1] = Pop(q ^ c[i + 1]);
            d[i + 2] = Pop(q ^ c[i + 2]);
            d[i + 3] = Pop(q ^ c[i + 3]);
        }
        for (; i < count; i++) d[i] = Pop(q ^ c[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScalarW2(ulong* c, int count, ulong* q, int* d)
    {
        ulong q0 = q[0], q1 = q[1];
        int i = 0;
        for (; i + 2 <= count; i += 2, c += 4)
        {
            d[i] = Pop(q0 ^ c[0]) + Pop(q1 ^ c[1]);
            d[i + 1] = Pop(q0 ^ c[2]) + Pop(q1 ^ c[3]);
        }
        if (i < count) d[i] = Pop(q0 ^ c[0]) + Pop(q1 ^ c[1]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScalarW4(ulong* c, int count, ulong* q, int* d)
    {
        ulong q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
        int i = 0;
        for (; i + 2 <= count; i += 2, c += 8)
        {
            d[i] = Pop(q0 ^ c[0]) + Pop(q1 ^ c[1]) + Pop(q2 ^ c[2]) + Pop(q3 ^ c[3]);
            d[i + 1] = Pop(q0 ^ c[4]) + Pop(q1 ^ c[5]) + Pop(q2 ^ c[6]) + Pop(q3 ^ c[7]);
        }
        if (i < count) d[i] = Pop(q0 ^ c[0]) + Pop(q1 ^ c[1]) + Pop(q2 ^ c[2]) + Pop(q3 ^ c[3]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScalarAny(ulong* c, int count, int words, ulong* q, int* d)
    {
        for (int i = 0; i < count; i++, c += words)
        {
            int s0 = 0, s1 = 0;
            int w = 0;
            for (; w + 2 <= words; w += 2)
            {
                s0 += Pop(q[w] ^ c[w]);
                s1 += Pop(q[w + 1] ^ c[w + 1]);
            }
            if (w < words) s0 += Pop(q[w] ^ c[w]);
            d[i] = s0 + s1;
        }
    }

    /// <summary>
    /// The sum of the distances from <paramref name="q"/> to codes [0, count) by scalar POPCNT: the least work that
    /// still computes every distance, used to measure the popcount bound (<see cref="Benchmarks.PopcountBound"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static long SumScalar(ulong* c, int count, int words, ulong* q)
    {
        long s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        long n = (long)count * words;
        if (words == 1)
        {
            ulong q0 = q[0];
            long i = 0;
            for (; i + 4 <= n; i += 4)
            {
                s0 += Pop(q0 ^ c[i]);
                s1 += Pop(q0 ^ c[i + 1]);
                s2 += Pop(q0 ^ c[i + 2]);
                s3 += Pop(q0 ^ c[i + 3]);
            }
            for (; i < n; i++) s0 += Pop(q0 ^ c[i]);
        }
        else
        {
            for (long i = 0; i < n; i += words)
                for (int w = 0; w < words; w++) s0 += Pop(q[w] ^ c[i + w]);
        }
        return s0 + s1 + s2 + s3;
    }

    /// <summary>
    /// <see cref="SumScalar"/> by the AVX2 nibble lookup and SAD, for codes of 1 or 4 words (a 32-byte vector holds
    /// four 64-bit codes or one 256-bit code; the query is broadcast to match).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static long SumAvx2(ulong* c, int count, int words, ulong* q)
    {
        if (words is not (1 or 4)) throw new ArgumentOutOfRangeException(nameof(words), "the AVX2 sum takes codes of 1 or 4 words");
        var table = Vector256.Create(NibbleCounts);
        var low = Vector256.Create((byte)0x0F);
        var qv = words == 1 ? Vector256.Create(q[0]) : Avx.LoadVector256(q);
        Vector256<ulong> a0 = default, a1 = default, a2 = default, a3 = default;
        long n = (long)count * words, i = 0;
        for (; i + 16 <= n; i += 16)
        {
            a0 += ByteCountsSad(Avx.LoadVector256(c + i) ^ qv, table, low);
            a1 += ByteCountsSad(Avx.LoadVector256(c + i + 4) ^ qv, table, low);
            a2 += ByteCountsSad(Avx.LoadVector256(c + i + 8) ^ qv, table, low);
            a3 += ByteCountsSad(Avx.LoadVector256(c + i + 12) ^ qv, table, low);
        }
        long sum = (long)Vector256.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) sum += Pop(q[i % words] ^ c[i]);
        return sum;
    }

    // Nibble population counts for vpshufb. Each kernel loads them into a local with Vector256.Create(span), which the
    // JIT keeps in a register; a property returning the vector is called, not inlined, and its result then lives in a
    // stack slot that is reloaded before every vpshufb.
    private static ReadOnlySpan<byte> NibbleCounts =>
    [
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
    ];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> ByteCountsSad(Vector256<ulong> x, Vector256<byte> table, Vector256<byte> low)
    {
        var b = x.AsByte();
        var lo = Avx2.And(b, low);
        var hi = Avx2.And(Avx2.ShiftRightLogical(x.AsUInt16(), 4).AsByte(), low);
        var counts = Avx2.Add(Avx2.Shuffle(table, lo), Avx2.Shuffle(table, hi));
        return Avx2.SumAbsoluteDifferences(counts, Vector256<byte>.Zero).AsUInt64();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2W1(ulong* c, int count, ulong q, int* d)
    {
        var table = Vector256.Create(NibbleCounts);
        var low = Vector256.Create((byte)0x0F);
        var qv = Vector256.Create(q);
        int i = 0;
        for (; i + 8 <= count; i += 8)
        {
            var s0 = ByteCountsSad(Avx.LoadVector256(c + i) ^ qv, table, low);
            var s1 = ByteCountsSad(Avx.LoadVector256(c + i + 4) ^ qv, table, low);
            // Each 64-bit lane holds one distance (< 65): narrow 4 + 4 lanes to 8 ints.
            Avx.Store(d + i, Reorder(s0, s1));
        }
        for (; i < count; i++) d[i] = Pop(q ^ c[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Reorder(Vector256<ulong> s0, Vector256<ulong> s1)
    {
        // s0 = [a0 . a1 . | a2 . a3 .], s1 = [b0 . b1 . | b2 . b3 .] as 32-bit slots; want [a0 a1 a2 a3 b0 b1 b2 b3].
        var idx = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
        var a = Avx2.PermuteVar8x32(s0.AsInt32(), idx);
        var b = Avx2.PermuteVar8x32(s1.AsInt32(), idx);
        return Avx2.Blend(a, b, 0b1111_0000);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2W4(ulong* c, int count, ulong* q, int* d)
    {
        var table = Vector256.Create(NibbleCounts);
        var low = Vector256.Create((byte)0x0F);
        var qv = Avx.LoadVector256(q);
        int i = 0;
        for (; i + 4 <= count; i += 4, c += 16)
        {
            var s0 = ByteCountsSad(Avx.LoadVector256(c) ^ qv, table, low);
            var s1 = ByteCountsSad(Avx.LoadVector256(c + 4) ^ qv, table, low);
            var s2 = ByteCountsSad(Avx.LoadVector256(c + 8) ^ qv, table, low);
            var s3 = ByteCountsSad(Avx.LoadVector256(c + 12) ^ qv, table, low);
            var a = Avx2.Add(Avx2.UnpackLow(s0, s1), Avx2.UnpackHigh(s0, s1)); // [s0_01 s1_01 | s0_23 s1_23]
            var b = Avx2.Add(Avx2.UnpackLow(s2, s3), Avx2.UnpackHigh(s2, s3));
            var sum = Avx2.Add(Avx2.Permute2x128(a, b, 0x20), Avx2.Permute2x128(a, b, 0x31)); // [d0 d1 d2 d3] as 64-bit
            var narrowed = Avx2.PermuteVar8x32(sum.AsInt32(), Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6));
            Sse2.Store(d + i, narrowed.GetLower());
        }
        ulong q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
        for (; i < count; i++, c += 4) d[i] = Pop(q0 ^ c[0]) + Pop(q1 ^ c[1]) + Pop(q2 ^ c[2]) + Pop(q3 ^ c[3]);
    }

    // ---------------------------------------------------------------- AVX-512

    /// <summary>
    /// <see cref="Avx2TopKW1"/> on 64-byte vectors: <see cref="Avx512CollectBelow"/> tests blocks of 32 codes against the
    /// bound and buffers the few below it, which are offered here in index order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512TopKW1(ulong* c, int count, ulong q, int firstId, TopKCollector collector)
    {
        const int capacity = 128;
        int* dist = stackalloc int[capacity];
        int* at = stackalloc int[capacity];
        int full = count & ~31, i = 0;
        while (i < full)
        {
            int n = Avx512CollectBelow(c, ref i, full, q, collector.Bound, dist, at, capacity);
            for (int j = 0; j < n; j++) collector.Add(dist[j], firstId + at[j]);
        }
        if (full < count) ScalarTopKW1(c + full, count - full, q, firstId + full, collector);
    }

    /// <summary>
    /// <see cref="Avx2CollectBelow"/> on 64-byte vectors, in blocks of 32 codes: one test per block on the 32-bit minimum
    /// of its four SAD vectors, lanes only for a block that passes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static int Avx512CollectBelow(ulong* c, ref int i, int to, ulong q, int bound, int* dist, int* at, int capacity)
    {
        var half = Vector256.Create(NibbleCounts);
        var table = Vector512.Create(half, half);
        var low = Vector512.Create((byte)0x0F);
        var qv = Vector512.Create(q);
        var b32 = Vector512.Create((ulong)(uint)bound).AsInt32();
        var b64 = Vector512.Create((long)bound);
        int n = 0, k = i;
        for (; k < to; k += 32)
        {
            var s0 = ByteCountsSad512(Vector512.Load(c + k) ^ qv, table, low);
            var s1 = ByteCountsSad512(Vector512.Load(c + k + 8) ^ qv, table, low);
            var s2 = ByteCountsSad512(Vector512.Load(c + k + 16) ^ qv, table, low);
            var s3 = ByteCountsSad512(Vector512.Load(c + k + 24) ^ qv, table, low);
            // Upper 32-bit halves are zero on both sides, never below: only the distances can pass.
            var min = Vector512.Min(Vector512.Min(s0.AsUInt32(), s1.AsUInt32()), Vector512.Min(s2.AsUInt32(), s3.AsUInt32())).AsInt32();
            if (!Vector512.LessThanAny(min, b32)) continue;
            ulong mask = Vector512.LessThan(s0.AsInt64(), b64).ExtractMostSignificantBits()
                         | Vector512.LessThan(s1.AsInt64(), b64).ExtractMostSignificantBits() << 8
                         | Vector512.LessThan(s2.AsInt64(), b64).ExtractMostSignificantBits() << 16
                         | Vector512.LessThan(s3.AsInt64(), b64).ExtractMostSignificantBits() << 24;
            n = BufferHits(mask, c, k, q, dist, at, n);
            if (n > capacity - 32)
            {
                k += 32;
                break;
            }
        }
        i = k;
        return n;
    }

    /// <summary><see cref="Avx2W1"/> on 64-byte vectors: 16 codes per iteration, narrowed to 16 ints.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512W1(ulong* c, int count, ulong q, int* d)
    {
        var half = Vector256.Create(NibbleCounts);
        var table = Vector512.Create(half, half);
        var low = Vector512.Create((byte)0x0F);
        var qv = Vector512.Create(q);
        int i = 0;
        for (; i + 16 <= count; i += 16)
        {
            var s0 = ByteCountsSad512(Vector512.Load(c + i) ^ qv, table, low);
            var s1 = ByteCountsSad512(Vector512.Load(c + i + 8) ^ qv, table, low);
            Vector512.Narrow(s0, s1).AsInt32().Store(d + i);
        }
        for (; i < count; i++) d[i] = Pop(q ^ c[i]);
    }

    /// <summary><see cref="SumAvx2"/> on 64-byte vectors, for codes of 1 or 4 words (the popcount bound where AVX-512 is used).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static long SumAvx512(ulong* c, int count, int words, ulong* q)
    {
        if (words is not (1 or 4)) throw new ArgumentOutOfRangeException(nameof(words), "the AVX-512 sum takes codes of 1 or 4 words");
        var half = Vector256.Create(NibbleCounts);
        var table = Vector512.Create(half, half);
        var low = Vector512.Create((byte)0x0F);
        var qv = words == 1 ? Vector512.Create(q[0]) : Vector512.Create(Vector256.Load(q), Vector256.Load(q));
        Vector512<ulong> a0 = default, a1 = default, a2 = default, a3 = default;
        long n = (long)count * words, i = 0;
        for (; i + 32 <= n; i += 32)
        {
            a0 += ByteCountsSad512(Vector512.Load(c + i) ^ qv, table, low);
            a1 += ByteCountsSad512(Vector512.Load(c + i + 8) ^ qv, table, low);
            a2 += ByteCountsSad512(Vector512.Load(c + i + 16) ^ qv, table, low);
            a3 += ByteCountsSad512(Vector512.Load(c + i + 24) ^ qv, table, low);
        }
        long sum = (long)Vector512.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) sum += Pop(q[i % words] ^ c[i]);
        return sum;
    }

    /// <summary>
    /// Per 64-bit lane of <paramref name="x"/>, its population count (in the low bits, zero above): vpshufb on both
    /// nibbles and vpsadbw, as <see cref="ByteCountsSad"/>. Where the CPU lacks AVX-512BW the same values come from
    /// scalar popcounts, so that the kernels' logic (blocks, bound test, masks, tails) runs and is tested on every
    /// machine; the JIT drops the branch it does not take.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> ByteCountsSad512(Vector512<ulong> x, Vector512<byte> table, Vector512<byte> low)
    {
        if (Avx512BW.IsSupported)
        {
            var lo = x.AsByte() & low;
            var hi = Vector512.ShiftRightLogical(x.AsUInt16(), 4).AsByte() & low;
            var counts = Avx512BW.Shuffle(table, lo) + Avx512BW.Shuffle(table, hi);
            return Avx512BW.SumAbsoluteDifferences(counts, Vector512<byte>.Zero).AsUInt64();
        }
        return LanePopCounts(x);
    }

    private static Vector512<ulong> LanePopCounts(Vector512<ulong> x) => Vector512.Create(
        (ulong)Pop(x[0]), (ulong)Pop(x[1]), (ulong)Pop(x[2]), (ulong)Pop(x[3]),
        (ulong)Pop(x[4]), (ulong)Pop(x[5]), (ulong)Pop(x[6]), (ulong)Pop(x[7]));
}
