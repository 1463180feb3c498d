using MultiLevelHashing.Plots;
using Plotly.NET;

namespace Notebooks.Tests;

/// <summary>Labels of scatter charts keep clear of each other, so a picture of the chart names every point.</summary>
public class ChartLabelsTests
{
    [Fact]
    public void AnIsolatedPointIsLabelledAboveIt()
    {
        var positions = ChartLabels.Place([(0, 0, "a"), (10, 10, "b")]);
        Assert.Equal([StyleParam.TextPosition.TopCenter, StyleParam.TextPosition.TopCenter], positions);
    }

    [Fact]
    public void PointsThatShareAPlaceGetDifferentPositions()
    {
        var points = new List<(double, double, string)> { (0, 50, "far"), (5, 10, "multi-level, all"), (5, 10, "multi-level, query"), (5, 10, "multi-level, dataset") };
        var positions = ChartLabels.Place(points);
        Assert.Equal(3, positions.Skip(1).Distinct().Count());
    }

    [Fact]
    public void ALabelAvoidsTheLabelOfANeighbourJustAbove()
    {
        // "close" sits 11 px right of and 8 px below "top" (a 560 x 280 px plot of x 0-1, y 0-100): above it, its label
        // would cover "top"'s label and point.
        var positions = ChartLabels.Place([(0, 100, "top"), (1, 0, "bottom"), (0.02, 97, "close")]);
        Assert.Equal(StyleParam.TextPosition.TopCenter, positions[0]);
        Assert.NotEqual(StyleParam.TextPosition.TopCenter, positions[2]);
    }
}
