using MultiLevelHashing.Benchmarks;

namespace MultiLevelHashing.Tests.Benchmarks;

/// <summary>The popcount bound's measurement and arithmetic (the kernels it times are checked in HammingKernelTests).</summary>
public sealed class PopcountBoundTests
{
    [Theory]
    [InlineData(64, 1)]
    [InlineData(256, 2)]
    [InlineData(128, 1)]
    public void MeasuresEveryKernelOnEveryThreadAndScalesToTheWork(int bits, int threads)
    {
        var peak = PopcountBound.Measure(bits, threads, rounds: 2);
        Assert.Equal(bits, peak.Bits);
        Assert.Equal(threads, peak.Threads);
        Assert.True(peak.ScalarNsPerDistance is > 0 and < 1e6, $"scalar {peak.ScalarNsPerDistance}");
        bool avx2 = System.Runtime.Intrinsics.X86.Avx2.IsSupported && bits is 64 or 256;
        Assert.Equal(avx2, peak.Avx2NsPerDistance.HasValue);
        Assert.Equal(Math.Min(peak.ScalarNsPerDistance, peak.Avx2NsPerDistance ?? double.PositiveInfinity), peak.BestNsPerDistance);
        // queries x codes distances, spread over the threads.
        Assert.Equal(1000 * 1_000_000 * peak.BestNsPerDistance / threads / 1e9, peak.BoundSeconds(1000, 1_000_000), 9);
    }

    [Fact]
    public void RefusesLengthsThatAreNotWholeWords()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PopcountBound.Measure(72, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PopcountBound.Measure(64, 0, 1));
    }
}
