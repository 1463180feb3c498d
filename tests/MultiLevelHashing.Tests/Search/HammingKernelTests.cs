using System.Runtime.Intrinsics.X86;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Tests.Search;

/// <summary>Every kernel variant (scalar, AVX2, generic) gives the reference distances, including loop tails.</summary>
public unsafe class HammingKernelTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(16)]
    public void VariantsAgreeWithTheReference(int words)
    {
        var rng = new Random(words);
        foreach (int count in new[] { 0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100 })
        {
            var codes = new ulong[count * words];
            for (int i = 0; i < codes.Length; i++) codes[i] = (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63);
            if (count > 0) { codes[0] = ulong.MaxValue; }
            var q = new ulong[words];
            for (int i = 0; i < words; i++) q[i] = (ulong)rng.NextInt64();
            var expected = Enumerable.Range(0, count).Select(i => BitPacking.Hamming(q, codes.AsSpan(i * words, words))).ToArray();
            var variants = new List<Action<IntPtr, IntPtr, IntPtr>>
            {
                (c, qp, d) => HammingKernels.Distances((ulong*)c, count, words, (ulong*)qp, (int*)d),
                (c, qp, d) => HammingKernels.ScalarAny((ulong*)c, count, words, (ulong*)qp, (int*)d),
            };
            if (words == 1) variants.Add((c, qp, d) => HammingKernels.ScalarW1((ulong*)c, count, *(ulong*)qp, (int*)d));
            if (words == 2) variants.Add((c, qp, d) => HammingKernels.ScalarW2((ulong*)c, count, (ulong*)qp, (int*)d));
            if (words == 4) variants.Add((c, qp, d) => HammingKernels.ScalarW4((ulong*)c, count, (ulong*)qp, (int*)d));
            if (Avx2.IsSupported && words == 1) variants.Add((c, qp, d) => HammingKernels.Avx2W1((ulong*)c, count, *(ulong*)qp, (int*)d));
            // The AVX-512 kernel runs everywhere: on CPUs without AVX-512BW its lane counts come from scalar popcounts.
            if (words == 1) variants.Add((c, qp, d) => HammingKernels.Avx512W1((ulong*)c, count, *(ulong*)qp, (int*)d));
            if (Avx2.IsSupported && words == 4) variants.Add((c, qp, d) => HammingKernels.Avx2W4((ulong*)c, count, (ulong*)qp, (int*)d));
            foreach (var variant in variants)
            {
                var d = new int[count + 1];
                d[count] = -7; // guard: nothing may be written past the end
                fixed (ulong* c = codes) fixed (ulong* qp = q) fixed (int* dp = d)
                    variant((IntPtr)c, (IntPtr)qp, (IntPtr)dp);
                Assert.Equal(expected, d[..count]);
                Assert.Equal(-7, d[count]);
            }
        }
    }

    /// <summary>
    /// The fused top-k kernels (distance and bound test in registers) keep exactly the candidates that distances to a
    /// buffer plus <see cref="TopKCollector.Offer"/> keep, over several tiles, with heavy ties and loop tails.
    /// </summary>
    [Theory]
    [InlineData(0, 1)] [InlineData(15, 3)] [InlineData(16, 5)] [InlineData(17, 1)] [InlineData(31, 2)] [InlineData(33, 40)] [InlineData(1000, 10)] [InlineData(5003, 100)]
    public void FusedTopKKernelsKeepTheBufferedKernelsCandidates(int count, int k)
    {
        var rng = new Random(count + k);
        // Few distinct codes: many ties at every distance.
        var pool = Enumerable.Range(0, 40).Select(_ => (ulong)rng.NextInt64()).ToArray();
        var codes = Enumerable.Range(0, count).Select(_ => pool[rng.Next(pool.Length)] ^ (rng.Next(4) == 0 ? 1UL << rng.Next(64) : 0)).ToArray();
        ulong q = pool[0];
        var variants = new List<Action<IntPtr, int, int, TopKCollector>>
        {
            (c, n, first, col) => HammingKernels.ScalarTopKW1((ulong*)c, n, q, first, col),
        };
        if (Avx2.IsSupported) variants.Add((c, n, first, col) => HammingKernels.Avx2TopKW1((ulong*)c, n, q, first, col));
        variants.Add((c, n, first, col) => HammingKernels.Avx512TopKW1((ulong*)c, n, q, first, col));
        var expected = BruteForceTopK(codes, q, k);
        foreach (var variant in variants)
        {
            var collector = new TopKCollector(k, 64);
            fixed (ulong* c = codes)
                for (int start = 0; start < count; start += 777) // tiles of odd length
                    variant((IntPtr)(c + start), Math.Min(777, count - start), start, collector);
            var ids = new int[k];
            var d = new int[k];
            int found = collector.Finish(ids, d);
            Assert.Equal(expected.Ids, ids[..found]);
            Assert.Equal(expected.Distances, d[..found]);
        }
    }

    /// <summary>
    /// <see cref="TopKCollector.Seed"/> reaches the state that offering the same distances reaches (the same k nearest,
    /// ties by lower index, and the same bound), and offering more afterwards still gives the exact top-k.
    /// </summary>
    [Theory]
    [InlineData(1, 0)] [InlineData(1, 5000)] [InlineData(10, 9)] [InlineData(10, 10)] [InlineData(100, 1500)] [InlineData(100, 5000)]
    public void SeedingEqualsOfferingOneByOne(int k, int count)
    {
        var rng = new Random(k * 7919 + count);
        // Few distinct distances: heavy ties at the k-th.
        var d = Enumerable.Range(0, count + 3000).Select(_ => rng.Next(0, 12) + (rng.Next(50) == 0 ? rng.Next(0, 53) : 0)).ToArray();
        var seeded = new TopKCollector(k, 64);
        var offered = new TopKCollector(k, 64);
        fixed (int* p = d)
        {
            seeded.Seed(p, count, 0);
            offered.Offer(p, count, 0);
            AssertSameTopK(seeded, offered, k);
            seeded.Offer(p + count, 3000, count);
            offered.Offer(p + count, 3000, count);
        }
        var expected = d.Select((x, i) => (D: x, Id: i)).OrderBy(x => x.D).ThenBy(x => x.Id).Take(k).ToArray();
        var ids = new int[k];
        var dist = new int[k];
        int found = seeded.Finish(ids, dist);
        Assert.Equal(expected.Select(x => x.Id), ids[..found]);
        Assert.Equal(expected.Select(x => x.D), dist[..found]);
        Assert.Throws<InvalidOperationException>(() => { fixed (int* p = d) seeded.Seed(p, 1, 0); });
    }

    private static void AssertSameTopK(TopKCollector seeded, TopKCollector offered, int k)
    {
        // Offering compacts only when its buffer fills, so its bound may still be looser than the seeded one.
        Assert.True(seeded.Bound <= offered.Bound, $"seeded bound {seeded.Bound} looser than offered {offered.Bound}");
        // Finish compacts in place and leaves a collector that takes further offers.
        var (si, sd, oi, od) = (new int[k], new int[k], new int[k], new int[k]);
        int ns = seeded.Finish(si, sd), no = offered.Finish(oi, od);
        Assert.Equal(oi[..no], si[..ns]);
        Assert.Equal(od[..no], sd[..ns]);
    }

    /// <summary>
    /// Through <see cref="HammingKernels.OfferNearest"/>, which seeds an empty collector from the first codes of a tile
    /// large enough, every kernel this CPU runs (fused scalar, AVX2 and AVX-512 at 64 bits, buffered at 128 and 256)
    /// gives the exact top-k over tiles of several sizes, with heavy ties.
    /// </summary>
    [Theory]
    [InlineData(1, 1)] [InlineData(1, 100)] [InlineData(1, 300)] [InlineData(2, 100)] [InlineData(4, 100)]
    public void OfferNearestSeedsAndKeepsTheExactTopK(int words, int k)
    {
        var rng = new Random(words * 31 + k);
        const int count = 9001;
        var pool = Enumerable.Range(0, 60 * words).Select(_ => (ulong)rng.NextInt64()).ToArray();
        var codes = new ulong[count * words];
        for (int i = 0; i < count; i++)
        {
            int centre = rng.Next(60);
            for (int w = 0; w < words; w++) codes[i * words + w] = pool[centre * words + w] ^ (rng.Next(3) == 0 ? 1UL << rng.Next(64) : 0);
        }
        var q = pool[..words];
        var expected = Enumerable.Range(0, count).Select(i => (Id: i, D: BitPacking.Hamming(q, codes.AsSpan(i * words, words))))
            .OrderBy(x => x.D).ThenBy(x => x.Id).Take(k).ToArray();
        var (fused, preferred, preferred512) = (HammingKernels.FusedTopK, HammingKernels.Avx2Preferred, HammingKernels.Avx512Preferred);
        try
        {
            foreach (var (avx, avx512) in new[] { (true, true), (true, false), (false, false) })
                foreach (int tile in new[] { count, 4096, 1500 })
                {
                    HammingKernels.Avx2Preferred = w => avx && w is 1 or 4;
                    HammingKernels.Avx512Preferred = w => avx512 && w is 1;
                    var collector = new TopKCollector(k, 64 * words);
                    var scratch = new int[tile];
                    fixed (ulong* c = codes) fixed (ulong* qp = q) fixed (int* sp = scratch)
                        for (int start = 0; start < count; start += tile)
                            HammingKernels.OfferNearest(c + (long)start * words, Math.Min(tile, count - start), words, qp, start, collector, sp);
                    var ids = new int[k];
                    var d = new int[k];
                    int found = collector.Finish(ids, d);
                    Assert.Equal(expected.Select(x => x.Id), ids[..found]);
                    Assert.Equal(expected.Select(x => x.D), d[..found]);
                }
        }
        finally
        {
            (HammingKernels.FusedTopK, HammingKernels.Avx2Preferred, HammingKernels.Avx512Preferred) = (fused, preferred, preferred512);
        }
    }

    /// <summary>The popcount-bound kernels sum exactly the distances the reference computes, including loop tails.</summary>
    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(4)] [InlineData(5)]
    public void PopcountSumKernelsSumTheDistances(int words)
    {
        var rng = new Random(words);
        foreach (int count in new[] { 0, 1, 3, 4, 15, 16, 17, 31, 32, 33, 100, 2049 })
        {
            var codes = Enumerable.Range(0, count * words).Select(_ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63)).ToArray();
            var q = Enumerable.Range(0, words).Select(_ => (ulong)rng.NextInt64()).ToArray();
            long expected = Enumerable.Range(0, count).Sum(i => (long)BitPacking.Hamming(q, codes.AsSpan(i * words, words)));
            fixed (ulong* c = codes) fixed (ulong* qp = q)
            {
                Assert.Equal(expected, HammingKernels.SumScalar(c, count, words, qp));
                if (Avx2.IsSupported && words is 1 or 4) Assert.Equal(expected, HammingKernels.SumAvx2(c, count, words, qp));
                if (words is 1 or 4) Assert.Equal(expected, HammingKernels.SumAvx512(c, count, words, qp));
            }
        }
    }

    /// <summary>
    /// The AVX-512 kernels are chosen exactly where the runtime accelerates 512-bit vectors and the CPU has AVX-512BW,
    /// ahead of AVX2, and the report names the kernel in use.
    /// </summary>
    [Fact]
    public void KernelChoiceFollowsTheCpu()
    {
        bool avx512 = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && Avx512BW.IsSupported;
        Assert.Equal(avx512, HammingKernels.UseAvx512(1));
        Assert.False(HammingKernels.UseAvx512(4));
        string expected = avx512 ? "AVX-512BW nibble lookup" : Avx2.IsSupported ? "AVX2 nibble lookup" : "scalar POPCNT";
        Assert.Equal(expected, HammingKernels.KernelName(1));
        Assert.Equal("scalar POPCNT", HammingKernels.KernelName(2));
    }

    private static (int[] Ids, int[] Distances) BruteForceTopK(ulong[] codes, ulong q, int k)
    {
        var order = Enumerable.Range(0, codes.Length).Select(i => (Id: i, D: System.Numerics.BitOperations.PopCount(q ^ codes[i])))
            .OrderBy(x => x.D).ThenBy(x => x.Id).Take(k).ToArray();
        return (order.Select(x => x.Id).ToArray(), order.Select(x => x.D).ToArray());
    }
}
