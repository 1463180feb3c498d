using MultiLevelHashing.Attention;
using MultiLevelHashing.Attention.Rendering;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SkiaSharp;

namespace MultiLevelHashing.Tests.Attention;

/// <summary>
/// Overlays and contact sheets of bit maps (lib/MultiLevelHashing/README.md section 2.6, Rendering): decodable PNGs of
/// the documented size, heat colours blended as specified, the region the encoder saw in place, text that renders.
/// </summary>
public class MapOverlayTests
{
    private static Image<Rgb24> Grey(int width, int height, byte level = 128)
    {
        var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < height; y++) rows.GetRowSpan(y).Fill(new Rgb24(level, level, level));
        });
        return image;
    }

    private static Image<Rgb24> DecodePng(SKBitmap bitmap) => Image.Load<Rgb24>(MapOverlay.EncodePng(bitmap));

    private static void AssertColour(Rgb24 actual, int r, int g, int b, int tolerance = 1)
    {
        Assert.True(Math.Abs(actual.R - r) <= tolerance && Math.Abs(actual.G - g) <= tolerance && Math.Abs(actual.B - b) <= tolerance,
            $"expected ({r}, {g}, {b}) +/- {tolerance}, got ({actual.R}, {actual.G}, {actual.B})");
    }

    [Fact]
    public void TheColourMapIsViridis()
    {
        // matplotlib's viridis at 0, 0.5 and 1: (0.267004, 0.004874, 0.329415), (0.127568, 0.566949, 0.550556), (0.993248, 0.906157, 0.143936).
        var (r0, g0, b0) = HeatColormap.At(0);
        Assert.Equal((68, 1, 84), (r0, g0, b0));
        var (r1, g1, b1) = HeatColormap.At(1);
        Assert.Equal((253, 231, 37), (r1, g1, b1));
        var (rm, gm, bm) = HeatColormap.At(0.5);
        AssertColour(new Rgb24(rm, gm, bm), 33, 145, 140, tolerance: 2);
        Assert.Equal(HeatColormap.At(1), HeatColormap.At(7));
    }

    [Fact]
    public void LocalMapsUseTheFixedRangeAndGlobalMapsTheirOwnMaxAbsoluteValue()
    {
        Assert.Equal((-1f, 1f), MapOverlay.ValueRange(MapLevel.Local, [0.2f, 0.3f]));
        Assert.Equal((-3f, 3f), MapOverlay.ValueRange(MapLevel.Global, [-3f, 2f, 0.5f]));
        Assert.Equal((-1f, 1f), MapOverlay.ValueRange(MapLevel.Global, [0f, 0f]));
    }

    [Theory]
    [InlineData(320, 200, 320, 260)]
    [InlineData(100, 80, 256, 140)]    // narrower than the caption: the overlay keeps its minimum width
    public void AnOverlayIsADecodablePngOfThePhotoPlusItsFooter(int width, int height, int expectedWidth, int expectedHeight)
    {
        using var photo = Grey(width, height);
        using var overlay = MapOverlay.Render(photo, PixelRegion.Whole(width, height), new float[16], 4, 4, new OverlayCaption(MapLevel.Local, 3, 0.5f));
        using var png = DecodePng(overlay);
        Assert.Equal(expectedWidth, png.Width);
        Assert.Equal(expectedHeight, png.Height);
    }

    [Fact]
    public void HeatColoursAreBlendedOverThePhotoAtTheDocumentedOpacity()
    {
        using var photo = Grey(120, 90);
        var full = PixelRegion.Whole(120, 90);
        // A local map at +1 everywhere is the top of its fixed range: viridis(1) = (253, 231, 37) over grey 128.
        using (var overlay = DecodePng(MapOverlay.Render(photo, full, Enumerable.Repeat(1f, 16).ToArray(), 4, 4, new OverlayCaption(MapLevel.Local, 0, 1f))))
        {
            double a = MapOverlay.DefaultOpacity;
            // The photo is centred in the 256-pixel-wide overlay: (256 - 120) / 2 = 68 pixels of margin.
            AssertColour(overlay[68 + 60, 45], (int)Math.Round(128 + (253 - 128) * a), (int)Math.Round(128 + (231 - 128) * a), (int)Math.Round(128 + (37 - 128) * a));
            AssertColour(overlay[10, 45], 30, 30, 30);
        }
        // A global map of a constant -2 is the bottom of its symmetric range (-2, 2): viridis(0) = (68, 1, 84).
        using (var overlay = DecodePng(MapOverlay.Render(photo, full, Enumerable.Repeat(-2f, 16).ToArray(), 4, 4, new OverlayCaption(MapLevel.Global, 0, -0.3f))))
        {
            double a = MapOverlay.DefaultOpacity;
            AssertColour(overlay[68 + 5, 80], (int)Math.Round(128 + (68 - 128) * a), (int)Math.Round(128 + (1 - 128) * a), (int)Math.Round(128 + (84 - 128) * a));
        }
    }

    [Fact]
    public void OutsideTheRegionTheEncoderSawThePhotoIsDimmedAndTheMapIsAbsent()
    {
        using var photo = Grey(300, 200, level: 200);
        var region = new PixelRegion(100, 50, 120, 80);
        using var overlay = DecodePng(MapOverlay.Render(photo, region, Enumerable.Repeat(1f, 16).ToArray(), 4, 4, new OverlayCaption(MapLevel.Local, 1, 1f)));
        Assert.Equal(300, overlay.Width);
        AssertColour(overlay[20, 20], 70, 70, 70);          // 200 * 0.35, no heat
        AssertColour(overlay[250, 180], 70, 70, 70);
        AssertColour(overlay[160, 90], (int)Math.Round(200 + (253 - 200) * MapOverlay.DefaultOpacity),
            (int)Math.Round(200 + (231 - 200) * MapOverlay.DefaultOpacity), (int)Math.Round(200 + (37 - 200) * MapOverlay.DefaultOpacity));
        AssertColour(overlay[100, 90], 255, 255, 255);      // the region's outline
    }

    [Fact]
    public void TheCaptionFontIsTheEmbeddedNotoMonoNotASystemFont()
    {
        // SkiaSharp's NoDependencies build has no fontconfig: the typeface must come from the assembly.
        Assert.Equal("Noto Mono", CaptionFont.Typeface.FamilyName);
        using var font = CaptionFont.At(12);
        Assert.True(font.MeasureText("u = +0.934") > 0);
        Assert.True(font.ContainsGlyphs("local bit 17  u = +0.934  b = 1 (-1, 1) +/- |CAM_k|"));
    }

    [Fact]
    public void TheCaptionAndTheColourBarLabelsRender()
    {
        using var photo = Grey(256, 100);
        using var a = DecodePng(MapOverlay.Render(photo, PixelRegion.Whole(256, 100), new float[16], 4, 4, new OverlayCaption(MapLevel.Local, 17, 0.934f)));
        using var b = DecodePng(MapOverlay.Render(photo, PixelRegion.Whole(256, 100), new float[16], 4, 4, new OverlayCaption(MapLevel.Global, 203, -0.5f)));
        // White glyphs on the dark footer: the caption line (top 20 footer rows) has bright pixels, and differs between captions.
        int Bright(Image<Rgb24> image, int top, int bottom, int left, int right)
        {
            int count = 0;
            for (int y = top; y < bottom; y++)
                for (int x = left; x < right; x++)
                    if (image[x, y].R > 120) count++;
            return count;
        }
        Assert.True(Bright(a, 100, 120, 0, 256) > 80, "the caption drew almost nothing");
        int differing = 0;
        for (int y = 100; y < 120; y++)
            for (int x = 0; x < 256; x++)
                if (a[x, y] != b[x, y]) differing++;
        Assert.True(differing > 40, "different captions drew the same pixels");
        // The colour-bar labels, left and right of the bar (rows 22-34 of the footer).
        Assert.True(Bright(a, 122, 134, 0, 40) > 10, "no minimum label");
        Assert.True(Bright(a, 122, 134, 216, 256) > 10, "no maximum label");
        Assert.Equal("local bit 17  u = +0.934  b = 1", new OverlayCaption(MapLevel.Local, 17, 0.934f).ToString());
        Assert.Equal("global bit 203  u = -0.500  b = 0", new OverlayCaption(MapLevel.Global, 203, -0.5f).ToString());
    }

    [Fact]
    public void AContactSheetHoldsTheTilesInANearSquareGrid()
    {
        using var photo = Grey(256, 80);
        var tiles = Enumerable.Range(0, 5)
            .Select(k => MapOverlay.Render(photo, PixelRegion.Whole(256, 80), Enumerable.Repeat(k / 5f, 16).ToArray(), 4, 4, new OverlayCaption(MapLevel.Local, k, k / 5f)))
            .ToList();
        try
        {
            using var sheet = DecodePng(ContactSheet.Render(tiles, "five bits"));
            // Tiles of 256 x 140 in 3 columns and 2 rows with 6-pixel gaps, below a 26-pixel title line.
            Assert.Equal(6 + 3 * (256 + 6), sheet.Width);
            Assert.Equal(26 + 2 * (140 + 6), sheet.Height);
            // Tile 4 (row 1, column 1) is where the grid puts it: its photo pixel equals the tile's own.
            using var tile4 = DecodePng(tiles[4]);
            Assert.Equal(tile4[128, 40], sheet[6 + 262 + 128, 26 + 146 + 40]);
            Assert.Equal(new Rgb24(0, 0, 0), sheet[6 + 2 * 262 + 100, 26 + 146 + 40]);  // no sixth tile
        }
        finally
        {
            foreach (var t in tiles) t.Dispose();
        }
    }

    [Fact]
    public void StrongestBitsAreTheLargestValuesWithTiesToTheLowerIndex()
    {
        Assert.Equal([3, 1, 2], BitMapFigures.StrongestBits([0.1f, 0.5f, 0.5f, 0.9f, -0.2f], 3));
    }
}
