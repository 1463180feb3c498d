using MultiLevelHashing.Benchmarks;
using System.Diagnostics;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.KernelBenchmarks;

/// <summary>
/// Measures the constants of the multi-index cost model (ns per table lookup, per verified candidate) and the
/// batch scan's ns per code, by timing single queries and fitting time = a * lookups + b * candidates by least
/// squares. Run: dotnet run -c Release --project tests/MultiLevelHashing.Benchmarks -- calibrate
/// </summary>
public static class Calibration
{
    public static void Run(string[] args)
    {
        if (args.Length > 1 && args[1] == "kernels")
        {
            // Interleaved A/B of the scalar and AVX2 kernels on a 64 KiB tile: alternating rounds share the machine's noise.
            foreach (int bits in new[] { 64, 256 })
                unsafe
                {
                    int words = bits / 64, count = 65536 / (8 * words);
                    var rng = new Random(1);
                    var codes = new ulong[count * words];
                    foreach (ref var c in codes.AsSpan()) c = (ulong)rng.NextInt64();
                    var q = new ulong[words];
                    var d = new int[count];
                    var best = new double[2];
                    best[0] = best[1] = double.MaxValue;
                    fixed (ulong* cp = codes) fixed (ulong* qp = q) fixed (int* dp = d)
                        for (int round = 0; round < 400; round++)
                            for (int v = 0; v < 2; v++)
                            {
                                var w = Stopwatch.StartNew();
                                for (int rep = 0; rep < 20; rep++)
                                {
                                    if (bits == 64) { if (v == 0) HammingKernels.ScalarW1(cp, count, qp[0], dp); else HammingKernels.Avx2W1(cp, count, qp[0], dp); }
                                    else { if (v == 0) HammingKernels.ScalarW4(cp, count, qp, dp); else HammingKernels.Avx2W4(cp, count, qp, dp); }
                                }
                                best[v] = Math.Min(best[v], w.Elapsed.TotalNanoseconds / (20.0 * count));
                            }
                    Console.WriteLine($"bits={bits}: scalar {best[0]:F3} ns/code, AVX2 {best[1]:F3} ns/code (best of 400 rounds)");
                }
            return;
        }
        if (args.Length > 1 && args[1] == "micro")
            unsafe
            {
                // One query at a time over one cached tile: the popcount sum (the bound's kernel) against the k-NN
                // kernel from an empty collector (k = 1; k = 100, seeded from the first codes) and at a steady bound
                // that admits nothing, which isolates what selection costs at the start of a chunk and afterwards.
                foreach (int tileBytes in new[] { 16384, 65536 })
                {
                    int count = tileBytes / 8;
                    var codes = SyntheticCodes.Uniform(count, 64, 1).AllWords.ToArray();
                    var qs = SyntheticCodes.Uniform(64, 64, 2).AllWords.ToArray();
                    var best = new double[4];
                    Array.Fill(best, double.MaxValue);
                    long sink = 0;
                    var cols = new TopKCollector[4][];
                    for (int v = 1; v < 4; v++) cols[v] = Enumerable.Range(0, 64).Select(_ => new TopKCollector(v == 1 ? 1 : 100, 64)).ToArray();
                    foreach (var col in cols[3]) for (int j = 0; j < 100; j++) col.Add(10, j);   // bound 10: no code gets in
                    var scratchArray = new int[count];
                    fixed (int* scratch = scratchArray)
                    fixed (ulong* c = codes) fixed (ulong* q = qs)
                        for (int round = 0; round < 30; round++)
                            for (int v = 0; v < 4; v++)
                            {
                                var w = Stopwatch.StartNew();
                                for (int rep = 0; rep < 20; rep++)
                                    for (int qi = 0; qi < 64; qi++)
                                    {
                                        if (v == 0) sink += HammingKernels.SumAvx2(c, count, 1, q + qi);
                                        else
                                        {
                                            var col = cols[v][qi];
                                            if (v < 3) col.Reset();
                                            HammingKernels.OfferNearest(c, count, 1, q + qi, 0, col, scratch);
                                        }
                                    }
                                best[v] = Math.Min(best[v], w.Elapsed.TotalNanoseconds / (20.0 * 64 * count));
                            }
                    Console.WriteLine($"tile {tileBytes / 1024} KiB: popcount sum {best[0]:F3}, k-NN k=1 from empty {best[1]:F3}, " +
                                      $"k=100 from empty {best[2]:F3}, k=100 at bound 10 {best[3]:F3} ns/code{(sink == 42 ? " " : "")}");
                }
                return;
            }
        if (args.Length > 1 && args[1] == "scan")
        {
            // Interleaved A/B of the k-NN scan's kernels on 1M x 64-bit uniform codes, k = 100, 2 threads, and the
            // popcount bound of this machine (PopcountBound) on 1 and 2 threads.
            int n = args.Length > 2 ? int.Parse(args[2]) : 1_000_000, nq = args.Length > 3 ? int.Parse(args[3]) : 1000;
            var db = SyntheticCodes.Uniform(n, 64, 1);
            var q = SyntheticCodes.Uniform(nq, 64, 2);
            var variants = new List<(string Name, bool Fused, bool Avx2, int Tile, bool Avx512)>
            {
                ("buffered AVX2 (distances to a buffer, then TopKCollector.Offer), 64 KiB tiles", false, true, 65536, false),
                ("fused AVX2, 64 KiB tiles", true, true, 65536, false),
                ("fused AVX2, 32 KiB tiles", true, true, 32768, false),
                ("fused scalar POPCNT, 64 KiB tiles", true, false, 65536, false),
            };
            // Only where the CPU runs it: elsewhere its lane counts are emulated (correct, for tests, but slow).
            if (HammingKernels.UseAvx512(1)) variants.Add(("fused AVX-512, 64 KiB tiles", true, true, 65536, true));
            var best = variants.Select(_ => double.MaxValue).ToArray();
            var reference = LinearScan.Search(db, q, 100, new SearchOptions(2));
            for (int round = 0; round < 5; round++)
                for (int v = 0; v < variants.Count; v++)
                {
                    HammingKernels.FusedTopK = variants[v].Fused;
                    bool avx = variants[v].Avx2, avx512 = variants[v].Avx512;
                    HammingKernels.Avx2Preferred = words => avx && words is 1;
                    HammingKernels.Avx512Preferred = words => avx512 && words is 1;
                    var w = Stopwatch.StartNew();
                    var r = LinearScan.Search(db, q, 100, new SearchOptions(2), null, new LinearScan.Tuning(TileBytes: variants[v].Tile));
                    best[v] = Math.Min(best[v], w.Elapsed.TotalSeconds);
                    if (!r.Ids.Data.AsSpan().SequenceEqual(reference.Ids.Data)) throw new InvalidOperationException($"{variants[v].Name}: ids differ");
                }
            HammingKernels.FusedTopK = true;
            HammingKernels.Avx2Preferred = words => words is 1;
            HammingKernels.Avx512Preferred = words => words is 1;
            for (int v = 0; v < variants.Count; v++)
                Console.WriteLine($"{variants[v].Name}: {best[v]:F3} s for {nq} queries x {n} codes ({1e9 * best[v] / ((double)n * nq):F3} ns per pair over 2 threads)");
            foreach (int t in new[] { 1, 2 })
            {
                var pk = PopcountBound.Measure(64, t);
                Console.WriteLine($"{t} thread(s): {pk.Describe(x => x.ToString("F3"))} ns per distance per thread; bound {pk.BoundSeconds(nq, n):F3} s ({pk.BestKernel})");
            }
            return;
        }
        if (args.Length > 1 && args[1] == "tiles")
        {
            foreach (int bits in new[] { 64, 256 })
            {
                var db = SyntheticCodes.Uniform(1_000_000, bits, 1);
                var q = SyntheticCodes.Uniform(200, bits, 2);
                foreach (int tile in new[] { 8192, 16384, 32768, 65536, 262144, 8192, 16384, 32768, 65536, 262144 })
                {
                    var w = Stopwatch.StartNew();
                    LinearScan.Search(db, q, 10, new SearchOptions(1), null, new LinearScan.Tuning(TileBytes: tile));
                    Console.WriteLine($"bits={bits} tile={tile}: {1e6 * q.Count / w.Elapsed.TotalNanoseconds:F3} G codes/s");
                }
            }
            return;
        }
        if (args.Length > 2 && args[2] == "warm")
        {
            int n0 = int.Parse(args[1]);
            var db0 = SyntheticCodes.Uniform(n0, 64, 1);
            var q0 = SyntheticCodes.Uniform(100, 64, 2);
            var mih0 = MultiIndexHashing.Build(db0);
            var sc = mih0.NewScratch();
            var ids0 = new int[100];
            var d0 = new int[100];
            for (int rep = 0; rep < 4; rep++)
            {
                var w = Stopwatch.StartNew();
                long cand = 0, look = 0;
                for (int i = 0; i < q0.Count; i++)
                {
                    mih0.TryKnn(q0.Code(i), 10, sc, MultiIndexHashing.Budget.Unlimited, ids0, d0, out _);
                    cand += sc.Candidates; look += sc.Lookups;
                }
                Console.WriteLine($"rep {rep}: {w.Elapsed.TotalMilliseconds / q0.Count:F2} ms/query, {w.Elapsed.TotalNanoseconds / cand:F1} ns/candidate, lookups {look / q0.Count}, candidates {cand / q0.Count}");
            }
            return;
        }
        var sizes = args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : [1_000_000, 10_000_000];
        foreach (int n in sizes)
            foreach (int bits in new[] { 64, 256 })
            {
                foreach (string kind in new[] { "uniform", "clustered" })
                {
                    var db = kind == "uniform" ? SyntheticCodes.Uniform(n, bits, 1) : SyntheticCodes.Clustered(n, bits, n / 100, 5, 1, 7);
                    var q = kind == "uniform" ? SyntheticCodes.Uniform(100, bits, 2) : SyntheticCodes.Clustered(100, bits, n / 100, 5, 2, 7);
                    var mih = MultiIndexHashing.Build(db);
                    var scratch = mih.NewScratch();
                    var ids = new int[100];
                    var dist = new int[100];
                    var sw = Stopwatch.StartNew();
                    LinearScan.Search(db, q, 10, new SearchOptions(1));
                    double scanNs = sw.Elapsed.TotalNanoseconds / ((double)n * q.Count);
                    var rows = new List<(double L, double C, double T)>();
                    foreach (int k in new[] { 1, 10, 100 })
                    {
                        var perK = new List<(double L, double C, double T)>();
                        int aborted = 0;
                        for (int i = 0; i < q.Count; i++)
                        {
                            var w = Stopwatch.StartNew();
                            bool ok = mih.TryKnn(q.Code(i), k, scratch, new MultiIndexHashing.Budget(200 * n * scanNs / 100), ids, dist, out _);
                            double ns = w.Elapsed.TotalNanoseconds;
                            if (ok) perK.Add((scratch.Lookups, scratch.Candidates, ns)); else aborted++;
                        }
                        rows.AddRange(perK);
                        if (perK.Count > 0)
                            Console.WriteLine($"n={n} bits={bits} {kind} k={k}: m={mih.Substrings} answered={perK.Count} aborted={aborted} " +
                                $"lookups={perK.Average(r => r.L):F0} candidates={perK.Average(r => r.C):F0} us/query={perK.Average(r => r.T) / 1000:F1} " +
                                $"(scan us/query={scanNs * n / 1000:F0}, ratio {scanNs * n / perK.Average(r => r.T):F1}x)");
                        else Console.WriteLine($"n={n} bits={bits} {kind} k={k}: all {aborted} aborted");
                    }
                    var (a, b) = Fit(rows);
                    Console.WriteLine($"  fit: ns/lookup={a:F1} ns/candidate={b:F1} scan ns/code={scanNs:F3}");
                }
                GC.Collect();
            }
    }

    private static (double A, double B) Fit(List<(double L, double C, double T)> rows)
    {
        // Normal equations for T = a L + b C (no intercept).
        double ll = 0, lc = 0, cc = 0, lt = 0, ct = 0;
        foreach (var (l, c, t) in rows) { ll += l * l; lc += l * c; cc += c * c; lt += l * t; ct += c * t; }
        double det = ll * cc - lc * lc;
        if (Math.Abs(det) < 1e-9) return (double.NaN, double.NaN);
        return ((lt * cc - ct * lc) / det, (ll * ct - lc * lt) / det);
    }
}
