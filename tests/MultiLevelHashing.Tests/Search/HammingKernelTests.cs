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
}
