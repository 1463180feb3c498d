using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SkiaSharp;

namespace MultiLevelHashing.Attention.Rendering;

/// <summary>
/// A grid of overlays in one image (lib/MultiLevelHashing/README.md section 2.6, Rendering): a title line, then the
/// tiles row by row in the order given, <see cref="Columns"/> per row, separated by <see cref="Gap"/> pixels. The one
/// grid of pictures the library draws: the bit-map sheets (<see cref="Render"/>), the notebooks' dataset sheets
/// (<see cref="Grid"/>) and the ranking sheets' thumbnails (<see cref="ToBitmap"/>) all go through it.
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

    /// <summary>Draws <paramref name="tiles"/> (all of one size) under <paramref name="title"/>, white on black, near square.</summary>
    public static SKBitmap Render(IReadOnlyList<SKBitmap> tiles, string title)
        => Grid(tiles, tiles.Count == 0 ? 1 : Columns(tiles.Count), Gap, SKColors.Black, title);

    /// <summary>
    /// Places <paramref name="tiles"/> (all of one size) row by row, <paramref name="columns"/> per row,
    /// <paramref name="gap"/> pixels apart and from the edges, on <paramref name="background"/>; under a white
    /// <paramref name="title"/> line, or none when it is null.
    /// </summary>
    public static SKBitmap Grid(IReadOnlyList<SKBitmap> tiles, int columns, int gap, SKColor background, string? title)
    {
        if (tiles.Count == 0) throw new ArgumentException("a contact sheet needs at least one tile", nameof(tiles));
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(gap);
        int tileWidth = tiles[0].Width, tileHeight = tiles[0].Height;
        if (tiles.Any(t => t.Width != tileWidth || t.Height != tileHeight))
            throw new ArgumentException("the tiles of a contact sheet must have one size", nameof(tiles));
        int rows = (tiles.Count + columns - 1) / columns, top = title is null ? gap : TitleHeight;
        var sheet = new SKBitmap(new SKImageInfo(gap + columns * (tileWidth + gap), top + rows * (tileHeight + gap), SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(sheet);
        canvas.Clear(background);
        if (title is not null)
        {
            using var font = CaptionFont.At(14);
            using var paint = new SKPaint { Color = SKColors.White, IsAntialias = true };
            canvas.DrawText(title, gap, TitleHeight - 8, SKTextAlign.Left, font, paint);
        }
        for (int i = 0; i < tiles.Count; i++)
            canvas.DrawBitmap(tiles[i], gap + i % columns * (tileWidth + gap), top + i / columns * (tileHeight + gap));
        canvas.Flush();
        return sheet;
    }

    /// <summary>The pixels of a decoded photo (<c>ImageLoader</c>) as an opaque Skia bitmap to draw on.</summary>
    public static SKBitmap ToBitmap(Image<Rgb24> image)
    {
        int w = image.Width, h = image.Height;
        var pixels = new byte[w * h * 4];
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < w; x++)
                {
                    int o = 4 * (y * w + x);
                    pixels[o] = row[x].R; pixels[o + 1] = row[x].G; pixels[o + 2] = row[x].B; pixels[o + 3] = 255;
                }
            }
        });
        var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        return bitmap;
    }
}
