using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SkiaSharp;

namespace MultiLevelHashing.Data;

/// <summary>
/// Reduced-scale JPEG decoding (lib/MultiLevelHashing/README.md section 1.4): libjpeg-turbo, through SkiaSharp's
/// <see cref="SKCodec"/>, runs its inverse DCT at n/8 of the size (n = 1..7), which skips most of the decoding work
/// of a photo that the network sees at a few hundred pixels. The scale is the smallest at which the crop, rounded
/// outward, still has at least the requested width and height; the rest of the way is the same bicubic resize as
/// full decoding. The EXIF orientation is applied; the file checks (size, pixel limit from the header, end-of-image
/// marker) are <see cref="ImageLoader"/>'s. A file Skia cannot open or decode completely, a format other than JPEG,
/// or a size that no scale below 1 serves is left to the full decoder (<see cref="TryLoad"/> returns null), so that
/// every refusal reads as it does with <see cref="JpegDecoding.Full"/>.
/// </summary>
internal static class ReducedJpeg
{
    /// <summary>
    /// The scale numerator n (decoding at n/8) that <see cref="JpegDecoding.Reduced"/> uses for a JPEG stored as
    /// <paramref name="storedWidth"/> x <paramref name="storedHeight"/> with EXIF orientation
    /// <paramref name="origin"/>, cropped and resized as given; 8 when no smaller scale keeps enough pixels.
    /// </summary>
    /// <remarks><paramref name="scaledSize"/> gives libjpeg-turbo's output size (stored orientation) at n/8, for n = 1..8.</remarks>
    public static int ChooseScale(int storedWidth, int storedHeight, SKEncodedOrigin origin, BoundingBox? crop, ImageResize resize,
                                  Func<int, (int Width, int Height)> scaledSize)
    {
        bool swap = Swaps(origin);
        int width = swap ? storedHeight : storedWidth, height = swap ? storedWidth : storedHeight;
        var (_, _, w, h) = crop is { } box ? box.ToPixelRectangle(width, height) : (0, 0, width, height);
        var (tw, th) = resize.TargetSize(w, h);
        for (int n = 1; n < 8; n++)
        {
            var (sw, sh) = scaledSize(n);
            if (sw >= storedWidth && sh >= storedHeight) break;
            int scaledWidth = swap ? sh : sw, scaledHeight = swap ? sw : sh;
            // The crop's extent at this scale, rounded down, must still cover the target.
            if ((long)w * scaledWidth / width >= tw && (long)h * scaledHeight / height >= th) return n;
        }
        return 8;
    }

    /// <summary>
    /// The scale numerator n that <see cref="TryLoad"/> would decode <paramref name="bytes"/> at (8: not reduced; 0: not
    /// a JPEG Skia can open), for reports.
    /// </summary>
    public static int ScaleFor(byte[] bytes, BoundingBox? crop, ImageResize resize)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null || codec.EncodedFormat != SKEncodedImageFormat.Jpeg) return 0;
        return ChooseScale(codec.Info.Width, codec.Info.Height, codec.EncodedOrigin, crop, resize, k =>
        {
            var s = codec.GetScaledDimensions(k / 8f);
            return (s.Width, s.Height);
        });
    }

    /// <summary>
    /// The image at <paramref name="path"/> (its checked <paramref name="bytes"/>) cropped and resized as
    /// <see cref="ImageLoader.LoadRgb(string, BoundingBox?, ImageResize?, ImageLoadOptions?)"/> does, decoded at a
    /// reduced scale; null when reduced decoding does not apply or did not succeed (the caller decodes in full).
    /// </summary>
    /// <exception cref="Runtime.UserInputException">A JPEG cut short (no end-of-image marker) or a decode buffer above the limit; the message names the file.</exception>
    public static Image<Rgb24>? TryLoad(string path, byte[] bytes, BoundingBox? crop, ImageResize resize, ImageLoadOptions options)
    {
        if (bytes.Length < 3 || bytes[0] != 0xFF || bytes[1] != 0xD8 || bytes[2] != 0xFF) return null;
        if (crop is { IsValid: false }) return null;
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null || codec.EncodedFormat != SKEncodedImageFormat.Jpeg) return null;
        int storedWidth = codec.Info.Width, storedHeight = codec.Info.Height;
        if (storedWidth <= 0 || storedHeight <= 0 || (long)storedWidth * storedHeight > options.MaxPixels) return null;
        var origin = codec.EncodedOrigin;
        int n = ChooseScale(storedWidth, storedHeight, origin, crop, resize, k =>
        {
            var s = codec.GetScaledDimensions(k / 8f);
            return (s.Width, s.Height);
        });
        if (n == 8) return null;
        ImageLoader.CheckComplete(path, bytes);
        var scaled = codec.GetScaledDimensions(n / 8f);
        long bufferBytes = 4L * scaled.Width * scaled.Height;
        if (bufferBytes > (long)options.MaxBufferMegabytes << 20)
            throw Runtime.UserInputException.InFile(path, $"decoding needs a buffer above the limit of {options.MaxBufferMegabytes} MiB " +
                                                          $"(ImageLoadOptions.MaxBufferMegabytes, {ImageLoadOptions.MaxBufferVariable})");
        var pixels = GC.AllocateUninitializedArray<byte>((int)bufferBytes);
        var info = new SKImageInfo(scaled.Width, scaled.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = pixels) result = codec.GetPixels(info, (IntPtr)p);
        }
        if (result != SKCodecResult.Success) return null;
        return CropOrientResize(pixels, scaled.Width, scaled.Height, origin, storedWidth, storedHeight, crop, resize, options);
    }

    private static bool Swaps(SKEncodedOrigin origin) => origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop
        or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void CopyRgbaRow(ReadOnlySpan<uint> rgba, Span<Rgb24> row)
    {
        for (int c = 0; c < rgba.Length; c++)
        {
            uint p = rgba[c];
            row[c] = new Rgb24((byte)p, (byte)(p >> 8), (byte)(p >> 16));
        }
    }

    /// <summary>Applies the orientation, crops the crop box mapped to the scaled image (rounded outward) and resizes.</summary>
    private static Image<Rgb24> CropOrientResize(byte[] rgba, int sw, int sh, SKEncodedOrigin origin, int storedWidth, int storedHeight,
                                                 BoundingBox? crop, ImageResize resize, ImageLoadOptions options)
    {
        bool swap = Swaps(origin);
        int width = swap ? storedHeight : storedWidth, height = swap ? storedWidth : storedHeight;     // displayed, full size
        int scaledWidth = swap ? sh : sw, scaledHeight = swap ? sw : sh;                               // displayed, scaled
        var (x, y, w, h) = crop is { } box ? box.ToPixelRectangle(width, height) : (0, 0, width, height);
        var (tw, th) = resize.TargetSize(w, h);
        double fx = (double)scaledWidth / width, fy = (double)scaledHeight / height;
        int x1 = Math.Clamp((int)Math.Floor(x * fx), 0, scaledWidth - 1), y1 = Math.Clamp((int)Math.Floor(y * fy), 0, scaledHeight - 1);
        int x2 = Math.Clamp((int)Math.Ceiling((x + w) * fx), x1 + 1, scaledWidth), y2 = Math.Clamp((int)Math.Ceiling((y + h) * fy), y1 + 1, scaledHeight);
        int cw = x2 - x1, ch = y2 - y1;
        var image = new Image<Rgb24>(options.DecoderConfiguration(), cw, ch);
        try
        {
            image.ProcessPixelRows(rows =>
            {
                var src = MemoryMarshal.Cast<byte, uint>(rgba.AsSpan());
                for (int r = 0; r < ch; r++)
                {
                    var row = rows.GetRowSpan(r);
                    int oy = y1 + r;
                    if (origin is SKEncodedOrigin.TopLeft or SKEncodedOrigin.Default)
                    {
                        // The common case: stored as displayed, a row is a run of consecutive pixels.
                        CopyRgbaRow(src.Slice(oy * sw + x1, cw), row);
                        continue;
                    }
                    for (int c = 0; c < cw; c++)
                    {
                        int ox = x1 + c;
                        // Displayed (ox, oy) to stored (sx, sy) at the scaled size, for the eight EXIF orientations.
                        var (sx, sy) = origin switch
                        {
                            SKEncodedOrigin.TopRight => (sw - 1 - ox, oy),
                            SKEncodedOrigin.BottomRight => (sw - 1 - ox, sh - 1 - oy),
                            SKEncodedOrigin.BottomLeft => (ox, sh - 1 - oy),
                            SKEncodedOrigin.LeftTop => (oy, ox),
                            SKEncodedOrigin.RightTop => (oy, sh - 1 - ox),
                            SKEncodedOrigin.RightBottom => (sw - 1 - oy, sh - 1 - ox),
                            SKEncodedOrigin.LeftBottom => (sw - 1 - oy, ox),
                            _ => (ox, oy),
                        };
                        uint p = src[sy * sw + sx];
                        row[c] = new Rgb24((byte)p, (byte)(p >> 8), (byte)(p >> 16));
                    }
                }
            });
            if (tw != cw || th != ch) ImageLoader.ResizeBicubic(image, tw, th);
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }
}
