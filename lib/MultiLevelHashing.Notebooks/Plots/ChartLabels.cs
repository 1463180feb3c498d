using Plotly.NET;

namespace MultiLevelHashing.Plots;

/// <summary>
/// Places the text labels of a scatter chart so that they overlap neither each other nor the points, as far as a
/// greedy choice among six positions around each point can: a chart read as a picture (a screenshot, a published
/// notebook) must say which point is which without hovering.
/// </summary>
public static class ChartLabels
{
    // Plot area and font in pixels as notebooks show a chart with a legend (about 960 px wide, 460 px high; 12 px labels).
    private const double PlotWidth = 560, PlotHeight = 280, CharWidth = 6.6, LineHeight = 14, Gap = 5, Marker = 4;

    private static readonly StyleParam.TextPosition[] Candidates =
    [
        StyleParam.TextPosition.TopCenter, StyleParam.TextPosition.BottomCenter, StyleParam.TextPosition.MiddleRight,
        StyleParam.TextPosition.MiddleLeft, StyleParam.TextPosition.TopRight, StyleParam.TextPosition.BottomLeft,
    ];

    /// <summary>
    /// A position for each label, in order. <paramref name="points"/> are in the axes' units as drawn (pass log10 of
    /// a value on a log axis); each label takes the candidate position whose box overlaps the least area of the points
    /// and the labels placed so far (the first candidate on a tie).
    /// </summary>
    public static IReadOnlyList<StyleParam.TextPosition> Place(IReadOnlyList<(double X, double Y, string Label)> points)
    {
        if (points.Count == 0) return [];
        double x0 = points.Min(p => p.X), x1 = points.Max(p => p.X), y0 = points.Min(p => p.Y), y1 = points.Max(p => p.Y);
        double sx = PlotWidth / Math.Max(x1 - x0, 1e-9), sy = PlotHeight / Math.Max(y1 - y0, 1e-9);
        var pixels = points.Select(p => ((p.X - x0) * sx, (y1 - p.Y) * sy)).ToList();
        // Points are obstacles from the start; labels join them as they are placed.
        var taken = pixels.Select(p => Box(p.Item1 - Marker, p.Item2 - Marker, 2 * Marker, 2 * Marker)).ToList();
        var chosen = new List<StyleParam.TextPosition>();
        for (int i = 0; i < points.Count; i++)
        {
            double width = CharWidth * points[i].Label.Length;
            var options = Candidates.Select(c => (Position: c, Box: LabelBox(pixels[i], width, c))).ToList();
            var best = options.MinBy(o => taken.Sum(t => OverlapArea(t, o.Box)));
            chosen.Add(best.Position);
            taken.Add(best.Box);
        }
        return chosen;
    }

    private static (double Left, double Top, double Right, double Bottom) Box(double left, double top, double width, double height)
        => (left, top, left + width, top + height);

    private static (double, double, double, double) LabelBox((double X, double Y) p, double width, StyleParam.TextPosition position)
    {
        if (position.Equals(StyleParam.TextPosition.TopCenter)) return Box(p.X - width / 2, p.Y - Gap - LineHeight, width, LineHeight);
        if (position.Equals(StyleParam.TextPosition.BottomCenter)) return Box(p.X - width / 2, p.Y + Gap, width, LineHeight);
        if (position.Equals(StyleParam.TextPosition.MiddleRight)) return Box(p.X + Gap, p.Y - LineHeight / 2, width, LineHeight);
        if (position.Equals(StyleParam.TextPosition.MiddleLeft)) return Box(p.X - Gap - width, p.Y - LineHeight / 2, width, LineHeight);
        if (position.Equals(StyleParam.TextPosition.TopRight)) return Box(p.X + Gap / 2, p.Y - Gap - LineHeight, width, LineHeight);
        return Box(p.X - Gap / 2 - width, p.Y + Gap, width, LineHeight);
    }

    private static double OverlapArea((double Left, double Top, double Right, double Bottom) a, (double Left, double Top, double Right, double Bottom) b)
        => Math.Max(0, Math.Min(a.Right, b.Right) - Math.Max(a.Left, b.Left)) * Math.Max(0, Math.Min(a.Bottom, b.Bottom) - Math.Max(a.Top, b.Top));
}
