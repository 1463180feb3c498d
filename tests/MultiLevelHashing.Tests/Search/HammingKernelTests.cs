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
        foreach (int count in new[] { 0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 100 })
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
    [InlineData(0, 1)] [InlineData(15, 3)] [InlineData(16, 5)] [InlineData(17, 1)] [InlineData(1000, 10)] [InlineData(5003, 100)]
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

    private static (int[] Ids, int[] Distances) BruteForceTopK(ulong[] codes, ulong q, int k)
    {
        var order = Enumerable.Range(0, codes.Length).Select(i => (Id: i, D: System.Numerics.BitOperations.PopCount(q ^ codes[i])))
            .OrderBy(x => x.D).ThenBy(x => x.Id).Take(k).ToArray();
        return (order.Select(x => x.Id).ToArray(), order.Select(x => x.D).ToArray());
    }
}
