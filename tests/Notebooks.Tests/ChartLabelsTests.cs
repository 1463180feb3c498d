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
        // Two points 10 px apart vertically on a 340 px plot of y from 0 to 100: the lower one's label must not go on top.
        var positions = ChartLabels.Place([(0, 100, "top"), (1, 0, "bottom"), (0.5, 97, "close")]);
        Assert.Equal(StyleParam.TextPosition.TopCenter, positions[0]);
        Assert.NotEqual(StyleParam.TextPosition.TopCenter, positions[2]);
    }
}
