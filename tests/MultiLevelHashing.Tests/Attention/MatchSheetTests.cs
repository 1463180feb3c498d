using MultiLevelHashing.Attention.Rendering;
using MultiLevelHashing.Search.Regions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MultiLevelHashing.Tests.Attention;

/// <summary>
/// Region matches drawn between two photos (lib/MultiLevelHashing/README.md sections 2.7-2.8, Rendering): each line
/// ends at the centre of the grid cells it joins, computed here by hand from the layout, in the inlier or outlier colour.
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

    private static void AssertNear(Rgb24 actual, int r, int g, int b, int tolerance = 12) =>
        Assert.True(Math.Abs(actual.R - r) <= tolerance && Math.Abs(actual.G - g) <= tolerance && Math.Abs(actual.B - b) <= tolerance,
            $"expected ({r}, {g}, {b}) +/- {tolerance}, got ({actual.R}, {actual.G}, {actual.B})");
}
