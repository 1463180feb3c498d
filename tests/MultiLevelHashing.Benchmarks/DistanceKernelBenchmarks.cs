using BenchmarkDotNet.Attributes;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.KernelBenchmarks;

/// <summary>
/// Hamming distances from one query to one cache-resident tile of codes (the inner loop of the linear scan):
/// a plain per-code loop over spans, the unrolled scalar popcount kernels, and the AVX2 nibble-lookup kernels.
/// Decides <c>HammingKernels.Avx2Preferred</c>.
/// </summary>
[MemoryDiagnoser(false)]
public unsafe class DistanceKernelBenchmarks
{
    private ulong[] _codes = [];
    private ulong[] _query = [];
    private int[] _dist = [];

    /// <summary>Code length in bits.</summary>
    [Params(64, 128, 256)]
    public int Bits { get; set; }

    /// <summary>Codes per tile: the 64 KiB tile the scan uses.</summary>
    public int Count => 64 * 1024 / (Bits / 8);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        int words = Bits / 64;
        _codes = new ulong[Count * words];
        _query = new ulong[words];
        for (int i = 0; i < _codes.Length; i++) _codes[i] = (ulong)rng.NextInt64();
        for (int i = 0; i < words; i++) _query[i] = (ulong)rng.NextInt64();
        _dist = new int[Count];
    }

    [Benchmark(Baseline = true, Description = "naive: BitPacking.Hamming per code")]
    public int Naive()
    {
        int words = Bits / 64;
        var codes = _codes.AsSpan();
        for (int i = 0; i < Count; i++) _dist[i] = BitPacking.Hamming(_query, codes.Slice(i * words, words));
        return _dist[Count - 1];
    }

    [Benchmark(Description = "scalar unrolled popcount")]
    public int Scalar()
    {
        fixed (ulong* c = _codes) fixed (ulong* q = _query) fixed (int* d = _dist)
        {
            switch (Bits)
            {
                case 64: HammingKernels.ScalarW1(c, Count, q[0], d); break;
                case 128: HammingKernels.ScalarW2(c, Count, q, d); break;
                case 256: HammingKernels.ScalarW4(c, Count, q, d); break;
                default: HammingKernels.ScalarAny(c, Count, Bits / 64, q, d); break;
            }
        }
        return _dist[Count - 1];
    }

    [Benchmark(Description = "scalar generic-width loop")]
    public int ScalarAny()
    {
        fixed (ulong* c = _codes) fixed (ulong* q = _query) fixed (int* d = _dist)
            HammingKernels.ScalarAny(c, Count, Bits / 64, q, d);
        return _dist[Count - 1];
    }

    [Benchmark(Description = "AVX2 nibble lookup + SAD")]
    public int Avx2()
    {
        fixed (ulong* c = _codes) fixed (ulong* q = _query) fixed (int* d = _dist)
        {
            switch (Bits)
            {
                case 64: HammingKernels.Avx2W1(c, Count, q[0], d); break;
                case 256: HammingKernels.Avx2W4(c, Count, q, d); break;
                default: HammingKernels.ScalarAny(c, Count, Bits / 64, q, d); break;
            }
        }
        return _dist[Count - 1];
    }
}
