using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Benchmarks;

/// <summary>
/// How fast this CPU can compute Hamming distances at all, per thread, with the given number of threads busy at once.
/// </summary>
/// <param name="Bits">Code length.</param>
/// <param name="Threads">Threads that ran the kernels at the same time (they share what the cores share).</param>
/// <param name="ScalarNsPerDistance">Scalar POPCNT: nanoseconds per distance on one of the threads.</param>
/// <param name="Avx2NsPerDistance">AVX2 nibble lookup + SAD (null where the CPU lacks AVX2 or the length has no AVX2 sum).</param>
public sealed record PopcountPeak(int Bits, int Threads, double ScalarNsPerDistance, double? Avx2NsPerDistance)
{
    /// <summary>The faster of the two kernels.</summary>
    public double BestNsPerDistance => Math.Min(ScalarNsPerDistance, Avx2NsPerDistance ?? double.PositiveInfinity);

    /// <summary>Which kernel <see cref="BestNsPerDistance"/> is.</summary>
    public string BestKernel => Avx2NsPerDistance is { } a && a < ScalarNsPerDistance ? "AVX2 nibble lookup" : "scalar POPCNT";

    /// <summary>The popcount bound for <paramref name="queries"/> x <paramref name="codes"/> distances spread over <see cref="Threads"/> threads.</summary>
    public double BoundSeconds(long queries, long codes) => queries * (double)codes * BestNsPerDistance / Threads / 1e9;
}

/// <summary>
/// The popcount bound of an exact Hamming k-NN scan (stage 1 of the multi-level search; lib/MultiLevelHashing/README.md
/// section 4.4): the time this machine needs only to compute every query-code distance, with no selection of the
/// nearest, no stores, and the codes already in the L1 cache. Each distance is XOR, population count and one addition
/// into a running sum, the least work that still looks at every distance. Measured, not read from instruction tables:
/// every thread runs the kernel at once over its own 16 KiB of codes (so threads that share a core's units, or its
/// clock boost, are measured sharing them), scalar POPCNT and AVX2 nibble lookup alternating, and the best round
/// of each counts. A scan that takes close to this bound spends almost nothing on selection and memory.
/// </summary>
public static class PopcountBound
{
    /// <summary>Measures <see cref="PopcountPeak"/> for <paramref name="bits"/>-bit codes on <paramref name="threads"/> threads.</summary>
    /// <param name="bits">Code length, a multiple of 64.</param>
    /// <param name="threads">Threads running the kernels at once.</param>
    /// <param name="rounds">Alternating timed rounds per kernel; each round passes over the tile many times.</param>
    public static unsafe PopcountPeak Measure(int bits, int threads, int rounds = 40)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 64);
        ArgumentOutOfRangeException.ThrowIfNotEqual(bits % 64, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        int words = bits / 64, count = 16384 / (8 * words), passes = Math.Max(1, 2_000_000 / count);
        bool avx2 = Avx2.IsSupported && words is 1 or 4;
        var best = new double[threads, 2];
        for (int t = 0; t < threads; t++) best[t, 0] = best[t, 1] = double.PositiveInfinity;
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var codes = SyntheticCodes.Uniform(count, bits, 100 + t).AllWords.ToArray();
            var query = SyntheticCodes.Uniform(1, bits, 200 + t).AllWords.ToArray();
            long sink = 0;
            fixed (ulong* c = codes)
            fixed (ulong* q = query)
            {
                for (int round = 0; round < rounds; round++)
                    for (int kernel = 0; kernel < (avx2 ? 2 : 1); kernel++)
                    {
                        start.SignalAndWait();
                        long began = Stopwatch.GetTimestamp();
                        for (int p = 0; p < passes; p++)
                            sink += kernel == 0 ? HammingKernels.SumScalar(c, count, words, q) : HammingKernels.SumAvx2(c, count, words, q);
                        double ns = Stopwatch.GetElapsedTime(began).TotalNanoseconds / ((double)passes * count);
                        best[t, kernel] = Math.Min(best[t, kernel], ns);
                    }
            }
            GC.KeepAlive(sink);
        }) { IsBackground = true }).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        // The slowest thread's best round: the bound for threads that must all finish.
        double scalar = 0, vector = 0;
        for (int t = 0; t < threads; t++)
        {
            scalar = Math.Max(scalar, best[t, 0]);
            vector = Math.Max(vector, best[t, 1]);
        }
        return new PopcountPeak(bits, threads, scalar, avx2 ? vector : null);
    }
}
