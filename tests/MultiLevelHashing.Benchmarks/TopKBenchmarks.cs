using MultiLevelHashing.Benchmarks;
using BenchmarkDotNet.Attributes;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.KernelBenchmarks;

/// <summary>
/// One query against 1M codes, end to end (distances and exact top-k with ties by index): the naive way
/// (all distances, then a full sort of (distance, index) keys) against the library's single-threaded scan
/// (tiled kernel + counting selection).
/// </summary>
[MemoryDiagnoser(false)]
public class TopKBenchmarks
{
    private PackedCodes _db = null!;
    private PackedCodes _query = null!;

    /// <summary>Code length in bits.</summary>
    [Params(64, 256)]
    public int Bits { get; set; }

    /// <summary>Neighbours.</summary>
    [Params(10, 100)]
    public int K { get; set; }

    private const int N = 1_000_000;

    [GlobalSetup]
    public void Setup()
    {
        _db = SyntheticCodes.Uniform(N, Bits, seed: 1);
        _query = SyntheticCodes.Uniform(1, Bits, seed: 2);
    }

    [Benchmark(Baseline = true, Description = "naive: distances + full sort")]
    public long Naive()
    {
        int words = _db.WordsPerCode;
        var q = _query.Code(0);
        var all = _db.AllWords;
        var keys = new long[N];
        for (int i = 0; i < N; i++) keys[i] = ((long)BitPacking.Hamming(q, all.Slice(i * words, words)) << 32) | (uint)i;
        Array.Sort(keys);
        return keys[K - 1];
    }

    [Benchmark(Description = "naive: distances + PriorityQueue")]
    public long NaiveHeap()
    {
        int words = _db.WordsPerCode;
        var q = _query.Code(0);
        var all = _db.AllWords;
        var heap = new PriorityQueue<int, long>(K + 1, Comparer<long>.Create((a, b) => b.CompareTo(a)));
        for (int i = 0; i < N; i++)
        {
            long key = ((long)BitPacking.Hamming(q, all.Slice(i * words, words)) << 32) | (uint)i;
            if (heap.Count < K) heap.Enqueue(i, key);
            else if (heap.TryPeek(out _, out long worst) && key < worst) heap.EnqueueDequeue(i, key);
        }
        return heap.Count;
    }

    [Benchmark(Description = "LinearScan (1 thread)")]
    public long Library() => LinearScan.Search(_db, _query, K, new SearchOptions(1)).Ids[0, K - 1];
}
