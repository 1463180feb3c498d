using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Search.Regions;

namespace MultiLevelHashing.Tests.Benchmarks;

public class RegionStageTimingTests
{
    [Fact]
    public void MeasuresEveryRegionCountAndShortlistWithStageTwoTheRemainder()
    {
        var config = new RegionTimingConfig(2_000, 64, 64, [9, 4], [10, 50], 4, Threads: 1);
        var points = RegionStageTiming.Measure(config);
        Assert.Equal([(9, 10), (9, 50), (4, 10), (4, 50)], points.Select(p => (p.RegionsPerImage, p.Candidates)));
        Assert.All(points, p =>
        {
            Assert.True(p.Stage1Ms > 0 && p.TotalMs > 0);
            Assert.Equal(p.TotalMs - p.Stage1Ms, p.Stage2Ms, 12);
            Assert.Equal(2_000, p.DatabaseSize);
        });
    }

    [Fact]
    public void UniformRegionCodesFillTheGridInOrderAndAreSeeded()
    {
        var codes = RegionStageTiming.Uniform(3, 72, 5, seed: 1);
        Assert.Equal((3, 5, 3, 3, 2), (codes.Count, codes.RegionCount(2), codes.GridHeight, codes.GridWidth, codes.WordsPerCode));
        Assert.Equal([new RegionPosition(0, 0, 1), new(0, 1, 1), new(0, 2, 1), new(1, 0, 1), new(1, 1, 1)], codes.Positions(1).ToArray());
        Assert.All(Enumerable.Range(0, 3), i => Assert.All(Enumerable.Range(0, 5), r => Assert.Equal(0UL, codes.Codes(i)[r * 2 + 1] >> 8)));
        Assert.Equal(codes.Codes(2).ToArray(), RegionStageTiming.Uniform(3, 72, 5, seed: 1).Codes(2).ToArray());
        Assert.NotEqual(codes.Codes(2).ToArray(), RegionStageTiming.Uniform(3, 72, 5, seed: 2).Codes(2).ToArray());
    }
}
