using System.Globalization;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SkiaSharp;

namespace MultiLevelHashing.Attention.Rendering;

/// <summary>The code level a bit belongs to.</summary>
public enum MapLevel
{
    /// <summary>Global-level bit: its map is the class activation map CAM_k.</summary>
    Global,

    /// <summary>Local-level bit: its map is U_k.</summary>
    Local,
}

/// <summary>What an overlay's caption says: the level, the bit index and the bit's relaxed value u (its bit is 1 when u &gt; 0).</summary>
public readonly record struct OverlayCaption(MapLevel Level, int Bit, float Value)
{
    /// <summary>For example <c>local bit 17  u = +0.934  b = 1</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(Level == MapLevel.Global ? "global" : "local")} bit {Bit}  u = {Value:+0.000;-0.000;0.000}  b = {(Value > 0 ? 1 : 0)}");
}

/// <summary>
/// Renders one bit activation map over its photo (lib/MultiLevelHashing/README.md section 2.6, Rendering): the map,
/// upsampled bilinearly to the region the encoder saw (<see cref="MapUpsampling"/>), coloured with viridis
/// (<see cref="HeatColormap"/>) and alpha-blended over the photo; outside that region the photo is dimmed and the region
/// outlined. Below the photo, a footer holds the caption (<see cref="OverlayCaption"/>), a colour bar with its minimum
/// and maximum labels, and the value range rule: local maps U_k lie in (-1, 1) and always use that fixed range, so
/// colours compare across bits and images; global maps CAM_k are unbounded and are scaled symmetrically by the map's
/// own max |value|, so 0 is always the middle colour.
/// </summary>
public static class MapOverlay
{
    /// <summary>Narrowest overlay, so the caption fits beside small photos.</summary>
    public const int MinimumWidth = 256;

    /// <summary>Height of the footer (caption, colour bar, range note) below the photo.</summary>
    public const int FooterHeight = 60;

    /// <summary>Default weight of the heat colours against the photo.</summary>
    public const float DefaultOpacity = 0.55f;

    /// <summary>Background of the footer and of the margins beside a narrow photo (RGB 30, 30, 30).</summary>
    public static readonly SKColor Background = new(30, 30, 30);

    /// <summary>Brightness kept outside the region the encoder saw.</summary>
    private const float OutsideBrightness = 0.35f;

    /// <summary>
    /// The colour range of a map: (-1, 1) for a local map; (-m, m) with m the largest |value| of the map for a global map
    /// (bilinear upsampling never exceeds the grid's extremes, so m is that of the upsampled map too); (-1, 1) for an
    /// all-zero global map.
    /// </summary>
    public static (float Min, float Max) ValueRange(MapLevel level, ReadOnlySpan<float> grid)
    {
        if (level == MapLevel.Local) return (-1f, 1f);
        float m = 0;
        foreach (float v in grid) m = Math.Max(m, Math.Abs(v));
        return m > 0 && float.IsFinite(m) ? (-m, m) : (-1f, 1f);
    }

    /// <summary>Width and height of an overlay of a photo shown at <paramref name="photoWidth"/> x <paramref name="photoHeight"/> pixels.</summary>
    public static (int Width, int Height) Size(int photoWidth, int photoHeight) => (Math.Max(photoWidth, MinimumWidth), photoHeight + FooterHeight);

    /// <summary>
    /// Renders the overlay of one map. <paramref name="grid"/> is the <paramref name="gridHeight"/> x
    /// <paramref name="gridWidth"/> map over <paramref name="region"/> of <paramref name="photo"/>. With
    /// <paramref name="scale"/> 1 the photo keeps its pixels, so overlay and photo share coordinates; a smaller scale shows a
    /// thumbnail (contact sheets), with the map upsampled to the scaled region.
    /// </summary>
    public static SKBitmap Render(Image<Rgb24> photo, PixelRegion region, ReadOnlySpan<float> grid, int gridHeight, int gridWidth,
        OverlayCaption caption, double scale = 1, float opacity = DefaultOpacity)
    {
        if (!(scale > 0 && scale <= 1)) throw new ArgumentOutOfRangeException(nameof(scale), $"scale must be in (0, 1], got {scale}");
        if (!(opacity >= 0 && opacity <= 1)) throw new ArgumentOutOfRangeException(nameof(opacity), $"opacity must be in [0, 1], got {opacity}");
        if (region.X < 0 || region.Y < 0 || region.Width < 1 || region.Height < 1 ||
            region.X + region.Width > photo.Width || region.Y + region.Height > photo.Height)
            throw new ArgumentOutOfRangeException(nameof(region), $"region {region} does not lie inside the {photo.Width} x {photo.Height} photo");
        var (min, max) = ValueRange(caption.Level, grid);

        int shownWidth = Math.Max(1, (int)Math.Round(photo.Width * scale));
        int shownHeight = Math.Max(1, (int)Math.Round(photo.Height * scale));
        // The region in shown pixels: its edges scale with the photo, so it stays where the encoder's crop was.
        int rx0 = Math.Clamp((int)Math.Round(region.X * scale), 0, shownWidth - 1);
        int ry0 = Math.Clamp((int)Math.Round(region.Y * scale), 0, shownHeight - 1);
        int rx1 = Math.Clamp((int)Math.Round((region.X + region.Width) * scale), rx0 + 1, shownWidth);
        int ry1 = Math.Clamp((int)Math.Round((region.Y + region.Height) * scale), ry0 + 1, shownHeight);
        var shownRegion = new PixelRegion(rx0, ry0, rx1 - rx0, ry1 - ry0);
        var heat = MapUpsampling.ToImage(grid, gridHeight, gridWidth, shownRegion, shownWidth, shownHeight);

        var (width, height) = Size(shownWidth, shownHeight);
        int left = (width - shownWidth) / 2;
        var pixels = new byte[width * height * 4];
        for (int i = 0; i < width * height; i++)
        {
            pixels[4 * i] = Background.Red; pixels[4 * i + 1] = Background.Green; pixels[4 * i + 2] = Background.Blue; pixels[4 * i + 3] = 255;
        }
        var shown = scale == 1 ? photo : photo.Clone(c => c.Resize(shownWidth, shownHeight, KnownResamplers.Bicubic));
        try
        {
            shown.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < shownHeight; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (int x = 0; x < shownWidth; x++)
                    {
                        float value = heat[y * shownWidth + x];
                        var p = row[x];
                        int o = 4 * (y * width + left + x);
                        if (float.IsNaN(value))
                        {
                            pixels[o] = Scale(p.R, OutsideBrightness); pixels[o + 1] = Scale(p.G, OutsideBrightness); pixels[o + 2] = Scale(p.B, OutsideBrightness);
                            continue;
                        }
                        var (r, g, b) = HeatColormap.At((value - min) / (max - min));
                        pixels[o] = Blend(p.R, r, opacity); pixels[o + 1] = Blend(p.G, g, opacity); pixels[o + 2] = Blend(p.B, b, opacity);
                    }
                }
            });
        }
        finally
        {
            if (!ReferenceEquals(shown, photo)) shown.Dispose();
        }

        // Footer: caption, then the colour bar between its end labels, then the range rule.
        int footer = shownHeight;
        using var labelFont = CaptionFont.At(11);
        string minLabel = Label(min), maxLabel = Label(max);
        const int pad = 6, barTop = 22, barHeight = 12;
        int barLeft = pad + (int)Math.Ceiling(labelFont.MeasureText(minLabel)) + 4;
        int barRight = width - pad - (int)Math.Ceiling(labelFont.MeasureText(maxLabel)) - 4;
        for (int x = barLeft; x < barRight; x++)
        {
            var (r, g, b) = HeatColormap.At(barRight - 1 == barLeft ? 0 : (double)(x - barLeft) / (barRight - 1 - barLeft));
            for (int y = footer + barTop; y < footer + barTop + barHeight; y++)
            {
                int o = 4 * (y * width + x);
                pixels[o] = r; pixels[o + 1] = g; pixels[o + 2] = b;
            }
        }

        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var canvas = new SKCanvas(bitmap);
        if (!shownRegion.IsWhole(shownWidth, shownHeight))
        {
            using var outline = new SKPaint { Color = SKColors.White, Style = SKPaintStyle.Stroke, StrokeWidth = 1, IsAntialias = false };
            canvas.DrawRect(left + shownRegion.X + 0.5f, shownRegion.Y + 0.5f, shownRegion.Width - 1, shownRegion.Height - 1, outline);
        }
        using var text = new SKPaint { Color = SKColors.White, IsAntialias = true };
        using var grey = new SKPaint { Color = new SKColor(200, 200, 200), IsAntialias = true };
        // 12 px, or smaller where a long caption would not fit the width.
        string captionText = caption.ToString();
        using var captionFont = CaptionFont.At(12);
        float natural = captionFont.MeasureText(captionText);
        if (natural > width - 2 * pad) captionFont.Size = 12 * (width - 2 * pad) / natural;
        canvas.DrawText(captionText, pad, footer + 15, SKTextAlign.Left, captionFont, text);
        canvas.DrawText(minLabel, pad, footer + barTop + 10, SKTextAlign.Left, labelFont, grey);
        canvas.DrawText(maxLabel, width - pad, footer + barTop + 10, SKTextAlign.Right, labelFont, grey);
        string range = caption.Level == MapLevel.Local ? "U_k: fixed range (-1, 1)" : "CAM_k: symmetric, +/- max |CAM_k|";
        canvas.DrawText(range, pad, footer + barTop + barHeight + 15, SKTextAlign.Left, labelFont, grey);
        canvas.Flush();
        return bitmap;
    }

    /// <summary>PNG bytes of a rendered bitmap.</summary>
    public static byte[] EncodePng(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the overlay as PNG");
        return data.ToArray();
    }

    /// <summary>A colour-bar end label with three significant digits where they fit.</summary>
    internal static string Label(float value)
    {
        float m = Math.Abs(value);
        string format = m < 10 ? "+0.00;-0.00;0.00" : m < 100 ? "+0.0;-0.0;0.0" : "+0;-0;0";
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    private static byte Blend(byte photo, byte colour, float opacity) => (byte)Math.Round(photo + (colour - photo) * opacity);

    private static byte Scale(byte value, float factor) => (byte)Math.Round(value * factor);
}
