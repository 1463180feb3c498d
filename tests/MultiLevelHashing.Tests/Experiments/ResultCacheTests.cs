using MultiLevelHashing.Experiments.Runner;
using MultiLevelHashing.Tests.Data;

namespace MultiLevelHashing.Tests.Experiments;

public class ResultCacheTests
{
    private sealed record Result(string Name, double[] Values, double Missing);

    [Fact]
    public void ComputesOnceAndServesTheSameValueAfterwards()
    {
        string dir = TestPaths.NewTempDirectory("result-cache");
        var cache = new ResultCache(dir);
        int calls = 0;
        Result Compute() { calls++; return new Result("a", [1, 2.5], double.NaN); }
        var first = cache.GetOrCompute("study", "k1", Compute);
        var second = new ResultCache(dir).GetOrCompute("study", "k1", Compute);
        Assert.Equal(1, calls);
        Assert.Equal(first.Name, second.Name);
        Assert.Equal(first.Values, second.Values);
        Assert.True(double.IsNaN(second.Missing));
        cache.GetOrCompute("study", "k2", Compute);
        Assert.Equal(2, calls);
    }

    [Fact]
    public void ADamagedEntryIsRecomputedAndReplaced()
    {
        string dir = TestPaths.NewTempDirectory("result-cache");
        var cache = new ResultCache(dir);
        int calls = 0;
        cache.GetOrCompute("study", "k", () => { calls++; return new Result("a", [1], 0); });
        string path = cache.PathOf("study", "k")!;
        var bytes = File.ReadAllBytes(path);
        bytes[^40] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        Assert.Null(ResultCache.TryRead<Result>(path));
        var again = cache.GetOrCompute("study", "k", () => { calls++; return new Result("b", [2], 0); });
        Assert.Equal(2, calls);
        Assert.Equal("b", again.Name);
        Assert.Equal("b", ResultCache.TryRead<Result>(path)!.Name);
    }

    [Fact]
    public void WithoutAFolderEveryCallComputes()
    {
        var cache = new ResultCache(null);
        int calls = 0;
        cache.GetOrCompute("study", "k", () => ++calls);
        cache.GetOrCompute("study", "k", () => ++calls);
        Assert.Equal(2, calls);
        Assert.Null(cache.PathOf("study", "k"));
    }

    [Fact]
    public void KeysSeparateTheirPartsAndCarryTheCodeVersion()
    {
        Assert.NotEqual(ExperimentKey.Of("ab", "c"), ExperimentKey.Of("a", "bc"));
        Assert.Equal(ExperimentKey.Of("x", "y"), ExperimentKey.Of("x", "y"));
        Assert.Equal(16, ExperimentKey.Of("x").Length);
        Assert.Equal(32, ExperimentKey.CodeVersion.Length);
    }
}
