using FsCheck.Xunit;
using MultiLevelHashing.Evaluation;

namespace MultiLevelHashing.Tests.Evaluation;

public class StatisticsTests
{
    [Theory]
    [InlineData(new[] { 7.0 }, 7.0)]
    [InlineData(new[] { 3.0, 1.0, 2.0 }, 2.0)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 2.0 }, 2.5)]
    [InlineData(new[] { 10.0, 10.0, 1.0, 100.0 }, 10.0)]
    [InlineData(new[] { -1.0, 5.0 }, 2.0)]
    public void MedianOfHandPickedValues(double[] values, double expected) => Assert.Equal(expected, Statistics.Median(values));

    [Fact]
    public void MedianOfNothingIsAnError() => Assert.Throws<InvalidOperationException>(() => Statistics.Median([]));

    [Property]
    public void AtMostHalfTheValuesLieOnEitherSideOfTheMedian(int[] raw)
    {
        if (raw.Length == 0) return;
        var values = raw.Select(v => (double)v).ToArray();
        double m = Statistics.Median(values);
        // Brute force: the median splits the values into two halves, neither holding more than half of them.
        Assert.True(values.Count(v => v < m) <= values.Length / 2);
        Assert.True(values.Count(v => v > m) <= values.Length / 2);
        if (values.Length % 2 == 1) Assert.Contains(m, values);
        else
        {
            var sorted = values.Order().ToArray();
            Assert.Equal((sorted[values.Length / 2 - 1] + sorted[values.Length / 2]) / 2, m);
        }
    }
}
