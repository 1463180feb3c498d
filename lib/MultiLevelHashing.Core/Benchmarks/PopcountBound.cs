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
/// <param name="Avx512NsPerDistance">The same on 64-byte vectors (null where the AVX-512 kernels are not used, <see cref="HammingKernels.UseAvx512"/>).</param>
public sealed record PopcountPeak(int Bits, int Threads, double ScalarNsPerDistance, double? Avx2NsPerDistance, double? Avx512NsPerDistance = null)
{
    /// <summary>The fastest of the kernels.</summary>
    public double BestNsPerDistance => Math.Min(ScalarNsPerDistance, Math.Min(Avx2NsPerDistance ?? double.PositiveInfinity, Avx512NsPerDistance ?? double.PositiveInfinity));

    /// <summary>Which kernel <see cref="BestNsPerDistance"/> is.</summary>
    public string BestKernel =>
        Avx512NsPerDistance == BestNsPerDistance ? "AVX-512BW nibble lookup"
        : Avx2NsPerDistance == BestNsPerDistance ? "AVX2 nibble lookup" : "scalar POPCNT";

    /// <summary>Every kernel measured, with its nanoseconds per distance per thread (for reports).</summary>
    public string Describe(Func<double, string> format) =>
        $"scalar POPCNT {format(ScalarNsPerDistance)}"
        + (Avx2NsPerDistance is { } a ? $", AVX2 {format(a)}" : "")
        + (Avx512NsPerDistance is { } b ? $", AVX-512 {format(b)}" : "");

    /// <summary>The popcount bound for <paramref name="queries"/> x <paramref name="codes"/> distances spread over <see cref="Threads"/> threads.</summary>
    public double BoundSeconds(long queries, long codes) => queries * (double)codes * BestNsPerDistance / Threads / 1e9;
}

/// <summary>
/// The popcount bound of an exact Hamming k-NN scan (stage 1 of the multi-level search; lib/MultiLevelHashing/README.md
/// section 4.4): the time this machine needs only to compute every query-code distance, with no selection of the
/// nearest, no stores, and the codes already in the L1 cache. Each distance is XOR, population count and one addition
/// into a running sum, the least work that still looks at every distance. Measured, not read from instruction tables:
/// every thread runs the kernel at once over its own 16 KiB of codes (so threads that share a core's units, or its
/// clock boost, are measured sharing them), scalar POPCNT, AVX2 and (where used) AVX-512 nibble lookup alternating,
/// and the best round of each counts. A scan that takes close to this bound spends almost nothing on selection and memory.
/// </summary>
public static class PopcountBound
{
    /// <summary>The kernel the linear scan uses for <paramref name="bits"/>-bit codes on this machine (scalar POPCNT, AVX2 or AVX-512BW).</summary>
    public static string ScanKernel(int bits) => HammingKernels.KernelName(bits / 64);

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
        bool avx2 = Avx2.IsSupported && words is 1 or 4, avx512 = HammingKernels.UseAvx512(1) && words is 1 or 4;
        var kernels = new List<Func<IntPtr, int, int, IntPtr, long>> { (c, n, w, q) => HammingKernels.SumScalar((ulong*)c, n, w, (ulong*)q) };
        if (avx2) kernels.Add((c, n, w, q) => HammingKernels.SumAvx2((ulong*)c, n, w, (ulong*)q));
        if (avx512) kernels.Add((c, n, w, q) => HammingKernels.SumAvx512((ulong*)c, n, w, (ulong*)q));
        var best = new double[threads, kernels.Count];
        for (int t = 0; t < threads; t++)
            for (int k = 0; k < kernels.Count; k++) best[t, k] = double.PositiveInfinity;
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
                    for (int kernel = 0; kernel < kernels.Count; kernel++)
                    {
                        var sum = kernels[kernel];
                        start.SignalAndWait();
                        long began = Stopwatch.GetTimestamp();
                        for (int p = 0; p < passes; p++)
                            sink += sum((IntPtr)c, count, words, (IntPtr)q);
                        double ns = Stopwatch.GetElapsedTime(began).TotalNanoseconds / ((double)passes * count);
                        best[t, kernel] = Math.Min(best[t, kernel], ns);
                    }
            }
            GC.KeepAlive(sink);
        }) { IsBackground = true }).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        // The slowest thread's best round: the bound for threads that must all finish.
        var slowest = new double[kernels.Count];
        for (int t = 0; t < threads; t++)
            for (int k = 0; k < kernels.Count; k++) slowest[k] = Math.Max(slowest[k], best[t, k]);
        return new PopcountPeak(bits, threads, slowest[0], avx2 ? slowest[1] : null, avx512 ? slowest[^1] : null);
    }
}
