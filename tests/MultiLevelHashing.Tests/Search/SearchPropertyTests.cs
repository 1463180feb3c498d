using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Tests.Search;

public static class ScenarioArbitrary
{
    public static Arbitrary<Scenario> Scenarios() => Arb.From(
        from bits in Gen.Elements(8, 64, 72, 256)
        from kind in Gen.Elements(CodeKind.Random, CodeKind.Duplicates, CodeKind.AllEqual, CodeKind.Clustered)
        from n in Gen.Choose(0, 300)
        from q in Gen.Choose(1, 6)
        from k in Gen.Choose(1, 40)
        from radius in Gen.Choose(0, bits / 2)
        from seed in Gen.Choose(0, int.MaxValue)
        select new Scenario(bits, kind, n, q, k, radius, seed));
}

/// <summary>Scan and multi-index hashing against brute force: identical ids and distances, ties by lower index.</summary>
[Properties(Arbitrary = [typeof(ScenarioArbitrary)], MaxTest = 150)]
public class SearchPropertyTests
{
    private static void AssertKnn(byte[][] db, byte[][] qs, int k, KnnResult r)
    {
        Assert.Equal(qs.Length, r.QueryCount);
        Assert.Equal(k, r.K);
        for (int i = 0; i < qs.Length; i++)
        {
            var (ids, d) = BruteForce.Knn(db, qs[i], k);
            Assert.Equal(ids, r.Ids.Row(i).ToArray());
            Assert.Equal(d, r.Distances.Row(i).ToArray());
        }
    }

    private static void AssertRange(byte[][] db, byte[][] qs, int radius, RangeResult r)
    {
        Assert.Equal(qs.Length, r.QueryCount);
        for (int i = 0; i < qs.Length; i++)
        {
            var (ids, d) = BruteForce.Range(db, qs[i], radius);
            Assert.Equal(ids, r.IdsOf(i).ToArray());
            Assert.Equal(d, r.DistancesOf(i).ToArray());
        }
    }

    [Property]
    public void ScanKnnEqualsBruteForce(Scenario s)
    {
        var (db, qs) = s.Generate();
        var dbc = Scenario.Pack(db, s.Bits);
        var qc = Scenario.Pack(qs, s.Bits);
        AssertKnn(db, qs, s.K, LinearScan.Search(dbc, qc, s.K, new SearchOptions(1)));
        // Tiny tiles and chunks exercise tiling, several chunks and the chunk merge.
        AssertKnn(db, qs, s.K, LinearScan.Search(dbc, qc, s.K, new SearchOptions(3), null, new LinearScan.Tuning(TileBytes: 64, MinChunkCodes: 7)));
    }

    [Property]
    public void ScanKnnEqualsBruteForceWithEveryKernel(Scenario s)
    {
        // The fused kernels (the default at 64 bits) and the buffered ones, with AVX-512 (where the CPU has it), AVX2 and neither.
        var (db, qs) = s.Generate();
        var dbc = Scenario.Pack(db, s.Bits);
        var qc = Scenario.Pack(qs, s.Bits);
        var (fused, preferred, preferred512) = (HammingKernels.FusedTopK, HammingKernels.Avx2Preferred, HammingKernels.Avx512Preferred);
        try
        {
            foreach (bool f in new[] { true, false })
                foreach (var (avx, avx512) in new[] { (true, true), (true, false), (false, false) })
                {
                    HammingKernels.FusedTopK = f;
                    HammingKernels.Avx2Preferred = words => avx && words is 1 or 4;
                    HammingKernels.Avx512Preferred = words => avx512 && words is 1;
                    AssertKnn(db, qs, s.K, LinearScan.Search(dbc, qc, s.K, new SearchOptions(2), null, new LinearScan.Tuning(TileBytes: 256, MinChunkCodes: 13)));
                }
        }
        finally
        {
            (HammingKernels.FusedTopK, HammingKernels.Avx2Preferred, HammingKernels.Avx512Preferred) = (fused, preferred, preferred512);
        }
    }

    [Property]
    public void ScanRangeEqualsBruteForce(Scenario s)
    {
        var (db, qs) = s.Generate();
        AssertRange(db, qs, s.Radius, LinearScan.SearchRange(Scenario.Pack(db, s.Bits), Scenario.Pack(qs, s.Bits), s.Radius,
            new SearchOptions(2), null, new LinearScan.Tuning(TileBytes: 128, MinChunkCodes: 11)));
    }

    [Property]
    public void MultiIndexKnnEqualsBruteForce(Scenario s)
    {
        var (db, qs) = s.Generate();
        var dbc = Scenario.Pack(db, s.Bits);
        var qc = Scenario.Pack(qs, s.Bits);
        // Default substring count, and an unequal split (K not divisible by m) with a generous budget.
        foreach (int? m in new int?[] { null, Math.Max(s.Bits / 31 + 1, 3 + s.Seed % 5) })
        {
            var index = new HammingIndex(dbc, SearchMethod.Mih, m) { BudgetFraction = 1e9 };
            AssertKnn(db, qs, s.K, index.Search(qc, s.K, new SearchOptions(2)));
            if (s.N > 0) Assert.Equal(0, index.LastStatistics.ScannedQueries); // an empty database is answered without either method
        }
    }

    [Property]
    public void MultiIndexWithFallbackEqualsBruteForce(Scenario s)
    {
        var (db, qs) = s.Generate();
        // A tiny budget sends some or all queries to the scan; the answers must not change.
        var index = new HammingIndex(Scenario.Pack(db, s.Bits), SearchMethod.Mih) { BudgetFraction = 0.02 };
        AssertKnn(db, qs, s.K, index.Search(Scenario.Pack(qs, s.Bits), s.K, new SearchOptions(2)));
    }

    [Property]
    public void MultiIndexRangeEqualsBruteForce(Scenario s)
    {
        var (db, qs) = s.Generate();
        var index = new HammingIndex(Scenario.Pack(db, s.Bits), SearchMethod.Mih, 1 + s.Seed % 7 + s.Bits / 31) { BudgetFraction = 1e9 };
        AssertRange(db, qs, s.Radius, index.SearchRange(Scenario.Pack(qs, s.Bits), s.Radius, new SearchOptions(2)));
    }

    [Property]
    public void AppendedCodesAreSearched(Scenario s)
    {
        var (db, qs) = s.Generate();
        int half = db.Length / 2;
        var dbc = Scenario.Pack(db[..half], s.Bits);
        var index = new HammingIndex(dbc, SearchMethod.Mih) { BudgetFraction = 1e9 };
        var qc = Scenario.Pack(qs, s.Bits);
        index.Search(qc, s.K);
        foreach (var row in db[half..]) dbc.Append(row);
        AssertKnn(db, qs, s.K, index.Search(qc, s.K));
    }
}
