using Microsoft.Data.Analysis;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using Plotly.NET;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using MultiLevelHashing.Attention.Rendering;
using SkiaSharp;

namespace MultiLevelHashing.Plots;

/// <summary>One tile of a contact sheet: an image, an optional box to outline, and the colour of its outline and tab.</summary>
public sealed record SheetItem(string Path, BoundingBox? Box, Rgb24 Colour);

/// <summary>
/// Pictures of a retrieval dataset for notebooks: contact sheets of views with their landmark boxes coloured by
/// grade (good / ok / junk, lib/MultiLevelHashing/README.md section 3.4), queries with their boxes, and the visibility histogram behind the grades.
/// </summary>
public static class DatasetFigures
{
    /// <summary>Green: good.</summary>
    public static readonly Rgb24 Good = new(40, 170, 60);
    /// <summary>Orange: ok.</summary>
    public static readonly Rgb24 Ok = new(240, 150, 20);
    /// <summary>Red: junk.</summary>
    public static readonly Rgb24 Junk = new(220, 40, 40);
    /// <summary>Grey: distractor or unlabelled.</summary>
    public static readonly Rgb24 None = new(128, 128, 128);
    /// <summary>Blue: a query box.</summary>
    public static readonly Rgb24 Query = new(40, 90, 230);

    /// <summary>Outline colour for a grade.</summary>
    public static Rgb24 GradeColour(string? grade) => grade switch { "good" => Good, "ok" => Ok, "junk" => Junk, _ => None };

    /// <summary>Tiles for dataset images, outlined by grade.</summary>
    public static IReadOnlyList<SheetItem> Items(IEnumerable<DatasetImage> images)
        => [.. images.Select(i => new SheetItem(i.Path, i.Grade is null ? null : i.Box, GradeColour(i.Grade)))];

    /// <summary>Tiles for queries, outlined in blue.</summary>
    public static IReadOnlyList<SheetItem> Items(IEnumerable<DatasetQuery> queries)
        => [.. queries.Select(q => new SheetItem(q.Path, q.Box, Query))];

    /// <summary>
    /// Draws the tiles into a grid of <paramref name="cell"/>-pixel squares (images letterboxed, boxes scaled with them,
    /// a coloured tab in each corner), <paramref name="columns"/> per row, with the library's one sheet renderer
    /// (<see cref="Attention.Rendering.ContactSheet"/>); returns the sheet as PNG bytes.
    /// </summary>
    public static byte[] ContactSheet(IReadOnlyList<SheetItem> items, int columns = 6, int cell = 160)
    {
        if (items.Count == 0) throw new ArgumentException("a contact sheet needs at least one image", nameof(items));
        var tiles = new List<SKBitmap>();
        try
        {
            foreach (var item in items) tiles.Add(Tile(item, cell));
            using var sheet = Attention.Rendering.ContactSheet.Grid(tiles, columns, gap: 0, SKColors.White, title: null);
            return MapOverlay.EncodePng(sheet);
        }
        finally
        {
            foreach (var tile in tiles) tile.Dispose();
        }
    }

    // One cell: the image letterboxed on white, its box outlined 2 px wide and a 10 px tab in its corner, both in its colour.
    private static SKBitmap Tile(SheetItem item, int cell)
    {
        using var img = ImageLoader.LoadRgb(item.Path);
        double s = (cell - 4.0) / Math.Max(img.Width, img.Height);
        int w = Math.Max(1, (int)Math.Round(img.Width * s)), h = Math.Max(1, (int)Math.Round(img.Height * s));
        img.Mutate(c => c.Resize(w, h));
        using var photo = Attention.Rendering.ContactSheet.ToBitmap(img);
        var tile = new SKBitmap(new SKImageInfo(cell, cell, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(tile);
        canvas.Clear(SKColors.White);
        int ox = (cell - w) / 2, oy = (cell - h) / 2;
        canvas.DrawBitmap(photo, ox, oy);
        var colour = new SKColor(item.Colour.R, item.Colour.G, item.Colour.B);
        if (item.Box is { } b)
        {
            int x1 = Math.Clamp((int)(b.X1 * s), 0, w - 1), y1 = Math.Clamp((int)(b.Y1 * s), 0, h - 1);
            int x2 = Math.Clamp((int)Math.Ceiling(b.X2 * s) - 1, 0, w - 1), y2 = Math.Clamp((int)Math.Ceiling(b.Y2 * s) - 1, 0, h - 1);
            // A 2 px stroke centred on the inner edge covers pixels x1..x1+1 and x2-1..x2, as the outline always did.
            using var stroke = new SKPaint { Color = colour, Style = SKPaintStyle.Stroke, StrokeWidth = 2, IsAntialias = false };
            canvas.DrawRect(new SKRect(ox + x1 + 1, oy + y1 + 1, ox + x2, oy + y2), stroke);
        }
        using var fill = new SKPaint { Color = colour, Style = SKPaintStyle.Fill, IsAntialias = false };
        canvas.DrawRect(new SKRect(ox, oy, ox + Math.Min(10, w), oy + Math.Min(10, h)), fill);
        canvas.Flush();
        return tile;
    }

    /// <summary>Saves a sheet's PNG (when <paramref name="savePath"/> is given) and returns it as a picture that notebooks show inline.</summary>
    public static Picture ToHtml(byte[] png, string? savePath = null, string? caption = null)
    {
        if (savePath is not null) Runtime.AtomicFile.WriteAllBytes(savePath, png);
        return new Picture(savePath ?? "contact-sheet.png", caption ?? "") { Png = png };
    }

    /// <summary>
    /// Counts of test views per visible-fraction bin (width <paramref name="binWidth"/>) for each grade, as a line chart
    /// and the table behind it: the grades are thresholds on this axis.
    /// </summary>
    public static (GenericChart Chart, DataFrame Data) VisibilityHistogram(LandmarkDataset dataset, double binWidth = 0.05)
    {
        int nb = (int)Math.Ceiling(1 / binWidth);
        var centres = Enumerable.Range(0, nb).Select(i => Math.Round((i + 0.5) * binWidth, 4)).ToArray();
        var frame = new DataFrame(new PrimitiveDataFrameColumn<double>("visible_fraction", centres));
        var charts = new List<GenericChart>();
        foreach (var grade in new[] { "good", "ok", "junk" })
        {
            var counts = new int[nb];
            foreach (var img in dataset.Database.Concat(dataset.Train).Where(i => i.Grade == grade && i.VisibleFraction is not null))
                counts[Math.Min(nb - 1, (int)(img.VisibleFraction!.Value / binWidth))]++;
            frame.Columns.Add(new PrimitiveDataFrameColumn<int>(grade, counts));
            charts.Add(Plotly.NET.CSharp.Chart.Line<double, int, string>(x: centres, y: counts, Name: grade));
        }
        var chart = ChartTitles.With(Plotly.NET.CSharp.Chart.Combine(charts), "Grades of the views against the visible fraction of their landmark",
            FormattableString.Invariant($"visible fraction of the landmark (0-1, bins of {binWidth:0.##})"), "views (count)");
        return (chart, frame);
    }

    /// <summary>The steps of the official compute_ap for one ranked list, as a table.</summary>
    public static DataFrame ApTrace(IReadOnlyList<string> names, ReadOnlySpan<RankLabel> labels, int positives)
    {
        var steps = AveragePrecision.Trace(labels, positives);
        return new DataFrame(
            new PrimitiveDataFrameColumn<int>("rank", steps.Select(s => s.Rank + 1)),
            new StringDataFrameColumn("image", names),
            new StringDataFrameColumn("label", steps.Select(s => s.Label.ToString().ToLowerInvariant())),
            new PrimitiveDataFrameColumn<int>("j", steps.Select(s => s.Kept)),
            new PrimitiveDataFrameColumn<double>("recall", steps.Select(s => Math.Round(s.Recall, 4))),
            new PrimitiveDataFrameColumn<double>("precision", steps.Select(s => Math.Round(s.Precision, 4))),
            new PrimitiveDataFrameColumn<double>("ap_increment", steps.Select(s => Math.Round(s.Increment, 5))),
            new PrimitiveDataFrameColumn<double>("ap", steps.Select(s => Math.Round(s.Ap, 5))));
    }
}
