using MultiLevelHashing.Attention.Rendering;
using MultiLevelHashing.Data;
using MultiLevelHashing.Search.Regions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MultiLevelHashing.Tests.Attention;

/// <summary>
/// Region matches drawn between two photos (lib/MultiLevelHashing/README.md sections 2.6 Rendering and 2.8): each line
/// ends at the centre of the grid cells it joins, computed here by hand from the layout, in the inlier or outlier colour
/// or in the viridis colour of its kernel value; cells no match joins keep the photo's colour.
/// </summary>
public sealed class MatchSheetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mlh-match-sheet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Grey(string name, int width, int height)
    {
        string path = Path.Combine(_dir, name);
        using var image = new Image<Rgb24>(width, height, new Rgb24(128, 128, 128));
        image.SaveAsPng(path);
        return path;
    }

    /// <summary>One image of four regions on a 2 x 2 grid, in row-major cell order.</summary>
    private static RegionCodes FourCells() => RegionCodes.FromReal(new float[4 * 64].Select((_, i) => i % 3 == 0 ? 1f : -1f).ToArray(), 64, 2, 2, [0, 4],
        [new(0, 0, 1), new(0, 1, 1), new(1, 0, 1), new(1, 1, 1)]);

    [Fact]
    public void LinesJoinTheCentresOfTheMatchedCellsInTheirColours()
    {
        // A 200 x 100 query and a 100 x 200 database photo, drawn with their longer side at 320 px: 320 x 160 at
        // (24, 26) and 160 x 320 at (24 + 320 + 48, 26) = (392, 26).
        var query = new MatchSide(Grey("q.png", 200, 100), null, FourCells(), 0, "query");
        var image = new MatchSide(Grey("d.png", 100, 200), null, FourCells(), 0, "database");
        var inlier = new RegionMatch(0, 3, 1f);  // query cell (0, 0) -> database cell (1, 1)
        var outlier = new RegionMatch(3, 0, 1f); // query cell (1, 1) -> database cell (0, 0)
        string file = MatchSheet.Write(Path.Combine(_dir, "sheet.png"), query, image, [inlier, outlier], [inlier], "title");
        using var sheet = Image.Load<Rgb24>(file);

        Assert.Equal(24 + 320 + 48 + 160 + 24, sheet.Width);
        AssertNear(sheet[24 + 80, 26 + 40], MatchSheet.Inlier.Red, MatchSheet.Inlier.Green, MatchSheet.Inlier.Blue);     // query (0, 0)
        AssertNear(sheet[392 + 120, 26 + 240], MatchSheet.Inlier.Red, MatchSheet.Inlier.Green, MatchSheet.Inlier.Blue);  // database (1, 1)
        AssertNear(sheet[24 + 240, 26 + 120], MatchSheet.Outlier.Red, MatchSheet.Outlier.Green, MatchSheet.Outlier.Blue); // query (1, 1)
        AssertNear(sheet[392 + 40, 26 + 80], MatchSheet.Outlier.Red, MatchSheet.Outlier.Green, MatchSheet.Outlier.Blue);  // database (0, 0)
        // A cell centre no match touches keeps the photo's grey.
        AssertNear(sheet[24 + 240, 26 + 40], 128, 128, 128);
    }

    [Fact]
    public void StrengthLinesAreColouredByKernelValueAndOnlyMatchedCellsAreDrawn()
    {
        var query = new MatchSide(Grey("q.png", 200, 100), null, FourCells(), 0, "query");
        var image = new MatchSide(Grey("d.png", 100, 200), null, FourCells(), 0, "database");
        var strong = new RegionMatch(0, 0, 0.5f); // query (0, 0) -> database (0, 0): the strongest, top of the scale
        var weak = new RegionMatch(3, 3, 0.25f);  // query (1, 1) -> database (1, 1): half the scale, dashed
        var lines = MatchSheet.StrengthLines([strong, weak], 0.5f, m => m.QueryRegion == 3);
        Assert.Equal([weak, strong], lines.Select(l => l.Match)); // weakest first, so the strongest lies on top
        Assert.Equal([true, false], lines.Select(l => l.Dashed));
        Assert.True(lines[1].Width > lines[0].Width);
        using var sheet = Decode(MatchSheet.Write(Path.Combine(_dir, "strength.png"), query, image, lines, "title"));

        var (r1, g1, b1) = HeatColormap.At(1);
        var (r2, g2, b2) = HeatColormap.At(0.5);
        AssertNear(sheet[24 + 80, 26 + 40], r1, g1, b1);    // query (0, 0)
        AssertNear(sheet[392 + 40, 26 + 80], r1, g1, b1);   // database (0, 0)
        AssertNear(sheet[24 + 240, 26 + 120], r2, g2, b2);  // query (1, 1)
        AssertNear(sheet[392 + 120, 26 + 240], r2, g2, b2); // database (1, 1)
        AssertNear(sheet[24 + 240, 26 + 40], 128, 128, 128); // query (0, 1): no match, no line
        AssertNear(sheet[392 + 120, 26 + 80], 128, 128, 128); // database (0, 1)
    }

    [Fact]
    public void DroppedMatchesAreDrawnGreyUnderTheKeptOnesAndTheOutlineIsWhite()
    {
        string dark = Path.Combine(_dir, "dark.png");
        using (var photo = new Image<Rgb24>(200, 100, new Rgb24(20, 20, 20))) photo.SaveAsPng(dark);
        // The query keeps only cell (0, 0); the match from its dropped cell (1, 1) comes from all four locations.
        var kept = FourCells().Select((_, _) => [0]);
        var query = new MatchSide(dark, null, kept, 0, "query") { Outline = new BoundingBox(0, 0, 100, 100), MarkRegions = true };
        var image = new MatchSide(dark, null, FourCells(), 0, "database");
        var lines = MatchSheet.StrengthLines([new RegionMatch(0, 0, 1f)], 1f);
        var dropped = new RegionMatch(3, 3, 0.5f);
        using var sheet = MatchSheet.Render(query, image, lines, [(new RegionPosition(1, 1, 1), new RegionPosition(1, 1, 1), new MatchLine(dropped, MatchSheet.Dropped, 1, true))],
            "title", "footer", 1f);
        using var decoded = Decode(MatchSheet.WritePng(Path.Combine(_dir, "dropped.png"), sheet));

        // Both photos are 320 x 160: the query at (24, 26), the database photo at (392, 26).
        double alpha = MatchSheet.Dropped.Alpha / 255.0;
        int grey = (int)Math.Round(20 + (MatchSheet.Dropped.Red - 20) * alpha);
        AssertNear(decoded[24 + 240, 26 + 120], grey, grey, grey, 16);   // query (1, 1), dropped
        AssertNear(decoded[392 + 240, 26 + 120], grey, grey, grey, 16);  // database (1, 1)
        var (r, g, b) = HeatColormap.At(1);
        AssertNear(decoded[24 + 80, 26 + 40], r, g, b);                   // the kept match
        AssertNear(decoded[24 + 160, 26 + 60], 255, 255, 255, 30);        // the query box's right edge, at x = 100 of 200
        Assert.True(decoded.Height > 26 + 160 + 22 + 17, "the footer adds a line and the colour bar");
    }

    [Fact]
    public void StackPutsPanelsUnderAWrappedTitle()
    {
        using var a = new SkiaSharp.SKBitmap(300, 40);
        using var b = new SkiaSharp.SKBitmap(320, 30);
        using var stack = MatchSheet.Stack([a, b], "two panels");
        Assert.Equal((320, 26 + 40 + 4 + 30), (stack.Width, stack.Height));
        // A title wider than the panels wraps and pushes them down a line at a time.
        using var wrapped = MatchSheet.Stack([a, b], string.Join(' ', Enumerable.Repeat("words", 30)));
        Assert.Equal(0, (wrapped.Height - stack.Height) % 17);
        Assert.True(wrapped.Height > stack.Height);
    }

    private static Image<Rgb24> Decode(string file) => Image.Load<Rgb24>(file);

    private static void AssertNear(Rgb24 actual, int r, int g, int b, int tolerance = 12) =>
        Assert.True(Math.Abs(actual.R - r) <= tolerance && Math.Abs(actual.G - g) <= tolerance && Math.Abs(actual.B - b) <= tolerance,
            $"expected ({r}, {g}, {b}) +/- {tolerance}, got ({actual.R}, {actual.G}, {actual.B})");
}
