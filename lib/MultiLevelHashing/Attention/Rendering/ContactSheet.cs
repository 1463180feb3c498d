using SkiaSharp;

namespace MultiLevelHashing.Attention.Rendering;

/// <summary>
/// A grid of overlays in one image (lib/MultiLevelHashing/README.md section 2.6, Rendering): a title line, then the
/// tiles row by row in the order given, <see cref="Columns"/> per row, separated by <see cref="Gap"/> pixels.
/// </summary>
public static class ContactSheet
{
    /// <summary>Space between tiles and around the grid.</summary>
    public const int Gap = 6;

    /// <summary>Height of the title line above the grid.</summary>
    public const int TitleHeight = 26;

    /// <summary>Longest side a photo is shown at in a tile; larger photos are scaled down.</summary>
    public const int TileLongerSide = 256;

    /// <summary>Columns of a sheet of <paramref name="tiles"/> tiles: ceil(sqrt(n)), so the grid is near square.</summary>
    public static int Columns(int tiles) => tiles < 1 ? throw new ArgumentOutOfRangeException(nameof(tiles)) : (int)Math.Ceiling(Math.Sqrt(tiles));

    /// <summary>Scale at which a photo of <paramref name="width"/> x <paramref name="height"/> is shown in a tile (at most 1).</summary>
    public static double TileScale(int width, int height) => Math.Min(1.0, (double)TileLongerSide / Math.Max(width, height));

    /// <summary>Width and height of a sheet of <paramref name="tiles"/> tiles of <paramref name="tileWidth"/> x <paramref name="tileHeight"/>.</summary>
    public static (int Width, int Height) Size(int tiles, int tileWidth, int tileHeight)
    {
        int columns = Columns(tiles), rows = (tiles + columns - 1) / columns;
        return (Gap + columns * (tileWidth + Gap), TitleHeight + rows * (tileHeight + Gap));
    }

    /// <summary>Draws <paramref name="tiles"/> (all of one size) under <paramref name="title"/>.</summary>
    public static SKBitmap Render(IReadOnlyList<SKBitmap> tiles, string title)
    {
        if (tiles.Count == 0) throw new ArgumentException("a contact sheet needs at least one tile", nameof(tiles));
        int tileWidth = tiles[0].Width, tileHeight = tiles[0].Height;
        if (tiles.Any(t => t.Width != tileWidth || t.Height != tileHeight))
            throw new ArgumentException("the tiles of a contact sheet must have one size", nameof(tiles));
        var (width, height) = Size(tiles.Count, tileWidth, tileHeight);
        int columns = Columns(tiles.Count);
        var sheet = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(sheet);
        canvas.Clear(SKColors.Black);
        using var font = CaptionFont.At(14);
        using var paint = new SKPaint { Color = SKColors.White, IsAntialias = true };
        canvas.DrawText(title, Gap, TitleHeight - 8, SKTextAlign.Left, font, paint);
        for (int i = 0; i < tiles.Count; i++)
            canvas.DrawBitmap(tiles[i], Gap + i % columns * (tileWidth + Gap), TitleHeight + i / columns * (tileHeight + Gap));
        canvas.Flush();
        return sheet;
    }
}
