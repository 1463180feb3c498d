using System.Runtime.CompilerServices;
using MultiLevelHashing.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace MultiLevelHashing.Data;

/// <summary>
/// How to size an image after the optional crop: unchanged, longer side scaled to a length (aspect kept, as
/// cirtorch-style retrieval evaluates at a maximum side), or stretched to an exact size (training batches).
/// </summary>
public sealed record ImageResize(int? LongerSide = null, int? Width = null, int? Height = null)
{
    /// <summary>Keep the size.</summary>
    public static ImageResize None { get; } = new();

    /// <summary>Scale so the longer side is <paramref name="pixels"/> (up or down), keeping the aspect ratio.</summary>
    public static ImageResize Longer(int pixels) => new(LongerSide: pixels);

    /// <summary>Resize to exactly <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static ImageResize Exact(int width, int height) => new(Width: width, Height: height);

    /// <summary>Target size for a source of the given size.</summary>
    public (int Width, int Height) TargetSize(int width, int height)
    {
        if (Width is int w && Height is int h) return (w, h);
        if (LongerSide is int l)
        {
            double s = (double)l / Math.Max(width, height);
            return (Math.Max(1, (int)Math.Round(width * s)), Math.Max(1, (int)Math.Round(height * s)));
        }
        return (width, height);
    }
}

/// <summary>
/// An RGB image as a float array in channel-major (CHW) order with values in [0, 1]: index
/// <c>(c * Height + y) * Width + x</c>, channels R, G, B. The model side applies its own normalisation
/// (for the ResNet18 backbone: BGR, 0-255, minus its mean image).
/// </summary>
public sealed record ChwImage(float[] Data, int Height, int Width)
{
    /// <summary>Always 3 (RGB).</summary>
    public int Channels => 3;
}

/// <summary>An image that could not be loaded and was skipped.</summary>
public sealed record ImageLoadFailure(int Index, string Path, string Problem);

/// <summary>
/// Loads images with ImageSharp (JPEGs that are to be made smaller: at a reduced scale with libjpeg-turbo, see
/// <see cref="ReducedJpeg"/>) for the retrieval pipeline (lib/MultiLevelHashing/README.md section 3.1: queries are cropped to their box).
/// Every load checks file size and header dimensions before decoding; an empty, corrupt, truncated or oversized
/// image raises a <see cref="UserInputException"/> naming it.
/// </summary>
public static class ImageLoader
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga", ".webp"];

    /// <summary>File extensions recognised as images when scanning folders.</summary>
    public static IReadOnlyList<string> ImageExtensions => Extensions;

    /// <summary>
    /// Decodes an image as 8-bit RGB after the size and header checks of <paramref name="options"/>
    /// (lib/MultiLevelHashing/README.md section 1.6): the EXIF orientation is applied, transparent pixels are
    /// composited over white, grey, palette, 16-bit and CMYK images become RGB, and only the first frame of an
    /// animation is read.
    /// </summary>
    /// <exception cref="UserInputException">Missing, empty, oversized, corrupt, truncated or unsupported image; the message names the file.</exception>
    public static Image<Rgb24> LoadRgb(string path, ImageLoadOptions? options = null)
    {
        options ??= ImageLoadOptions.Default;
        return Decode(path, ReadChecked(path, options), options);
    }

    /// <summary><see cref="LoadRgb(string, ImageLoadOptions?)"/> on bytes already read (and size-checked) from <paramref name="path"/>.</summary>
    private static Image<Rgb24> Decode(string path, byte[] bytes, ImageLoadOptions options)
    {
        var config = options.DecoderConfiguration();
        Image? decoded = null;
        try
        {
            var header = Image.Identify(config, bytes, out var format);
            if (header is null || format is null) throw UserInputException.InFile(path, "not a recognised image format (corrupt or not an image)");
            if (header.Width <= 0 || header.Height <= 0) throw UserInputException.InFile(path, $"image header gives an empty size {header.Width}x{header.Height}");
            long pixels = (long)header.Width * header.Height;
            if (pixels > options.MaxPixels)
                throw UserInputException.InFile(path, $"image is {header.Width}x{header.Height} = {pixels:N0} pixels, above the limit of {options.MaxPixels:N0} " +
                                                      $"(ImageLoadOptions.MaxPixels, {ImageLoadOptions.MaxPixelsVariable}); refusing to decode");
            CheckComplete(path, bytes);
            // JPEG has no alpha channel: decode straight to RGB. Other formats may carry transparency.
            bool mayHaveAlpha = format.Name != "JPEG";
            var decoder = ImageLoadOptions.DecoderFor(config, format);
            decoded = mayHaveAlpha ? Image.Load<Rgba32>(config, bytes, decoder) : Image.Load<Rgb24>(config, bytes, decoder);
            decoded.Mutate(c => c.AutoOrient());
            if (decoded is Image<Rgba32> rgba)
            {
                if (HasTransparency(rgba)) rgba.Mutate(c => c.BackgroundColor(Color.White));
                var rgb = rgba.CloneAs<Rgb24>();
                rgba.Dispose();
                decoded = null;
                return rgb;
            }
            var result = (Image<Rgb24>)decoded;
            decoded = null;
            return result;
        }
        catch (UserInputException) { throw; }
        catch (Exception e) when (e is InvalidMemoryOperationException || e.InnerException is InvalidMemoryOperationException)
        {
            // Decoders wrap the allocator's refusal in InvalidImageContentException.
            throw UserInputException.InFile(path, $"decoding needs a buffer above the limit of {options.MaxBufferMegabytes} MiB " +
                                                  $"(ImageLoadOptions.MaxBufferMegabytes, {ImageLoadOptions.MaxBufferVariable}): {e.Message}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Any failure inside a decoder on untrusted bytes is a property of the file, not of the program.
            throw UserInputException.InFile(path, $"corrupt, truncated or unsupported image ({e.GetType().Name}: {e.Message})");
        }
        finally
        {
            decoded?.Dispose();
        }
    }

    /// <summary>
    /// Width and height of the image as <see cref="LoadRgb(string, ImageLoadOptions?)"/> returns it (after the EXIF
    /// orientation), read from the header after the same file checks, without decoding the pixels.
    /// </summary>
    /// <exception cref="UserInputException">Missing, empty, oversized or unrecognised image; the message names the file.</exception>
    public static (int Width, int Height) Size(string path, ImageLoadOptions? options = null)
    {
        options ??= ImageLoadOptions.Default;
        byte[] bytes = ReadChecked(path, options);
        IImageInfo? header;
        try
        {
            header = Image.Identify(options.DecoderConfiguration(), bytes, out _);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw UserInputException.InFile(path, $"corrupt or unsupported image header ({e.GetType().Name}: {e.Message})");
        }
        if (header is null) throw UserInputException.InFile(path, "not a recognised image format (corrupt or not an image)");
        // Orientations 5-8 turn the image by a quarter, so AutoOrient swaps its width and height.
        ushort orientation = header.Metadata.ExifProfile?.GetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation)?.Value ?? 1;
        return orientation is >= 5 and <= 8 ? (header.Height, header.Width) : (header.Width, header.Height);
    }

    /// <summary>The bytes of <paramref name="path"/> after the existence and size checks.</summary>
    private static byte[] ReadChecked(string path, ImageLoadOptions options)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw UserInputException.InFile(path, "image file not found");
            if (info.Length == 0) throw UserInputException.InFile(path, "empty image file (0 bytes)");
            if (info.Length > options.MaxFileBytes)
                throw UserInputException.InFile(path, $"image file is {info.Length:N0} bytes, above the limit of {options.MaxFileBytes:N0} " +
                                                      $"(ImageLoadOptions.MaxFileBytes, {ImageLoadOptions.MaxBytesVariable})");
            byte[] bytes = File.ReadAllBytes(path);
            // The file may have grown between the check and the read.
            if (bytes.Length > options.MaxFileBytes)
                throw UserInputException.InFile(path, $"image file grew to {bytes.Length:N0} bytes while being read, above the limit of {options.MaxFileBytes:N0}");
            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw UserInputException.InFile(path, $"cannot read the image file ({e.Message})");
        }
    }

    private static bool HasTransparency(Image<Rgba32> image)
    {
        bool found = false;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height && !found; y++)
                foreach (var p in rows.GetRowSpan(y))
                    if (p.A != 255) { found = true; break; }
        });
        return found;
    }

    /// <summary>
    /// Loads, crops to <paramref name="crop"/> (rounded outward, clipped to the image) and resizes. With
    /// <see cref="JpegDecoding.Reduced"/> (the default of <see cref="ImageLoadOptions.JpegDecoding"/>) a JPEG that is
    /// to be made smaller is decoded at a reduced scale first (<see cref="ReducedJpeg"/>).
    /// </summary>
    public static Image<Rgb24> LoadRgb(string path, BoundingBox? crop, ImageResize? resize, ImageLoadOptions? options = null)
    {
        options ??= ImageLoadOptions.Default;
        byte[] bytes = ReadChecked(path, options);
        if (options.JpegDecoding == JpegDecoding.Reduced && resize is not null && ReducedJpeg.TryLoad(path, bytes, crop, resize, options) is { } reduced)
            return reduced;
        var image = Decode(path, bytes, options);
        try
        {
            Prepare(image, crop, resize);
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>Crops and resizes an image in place (bicubic resampling).</summary>
    public static void Prepare(Image<Rgb24> image, BoundingBox? crop, ImageResize? resize)
    {
        if (crop is { } box)
        {
            if (!box.IsValid) throw new UserInputException($"invalid crop box {box}");
            var (x, y, w, h) = box.ToPixelRectangle(image.Width, image.Height);
            if (x != 0 || y != 0 || w != image.Width || h != image.Height)
                image.Mutate(c => c.Crop(new Rectangle(x, y, w, h)));
        }
        if (resize is not null)
        {
            var (tw, th) = resize.TargetSize(image.Width, image.Height);
            if (tw != image.Width || th != image.Height) ResizeBicubic(image, tw, th);
        }
    }

    /// <summary>
    /// Stopwatch ticks this thread has spent in the bicubic resize of <see cref="LoadRgb(string, BoundingBox?, ImageResize?, ImageLoadOptions?)"/>,
    /// so that the encoding pipeline can report resizing apart from decoding (a per-thread sum: no locking on the hot path).
    /// </summary>
    [ThreadStatic] internal static long ResizeTicksOnThisThread;

    internal static void ResizeBicubic(Image<Rgb24> image, int width, int height)
    {
        long began = System.Diagnostics.Stopwatch.GetTimestamp();
        image.Mutate(c => c.Resize(width, height, KnownResamplers.Bicubic));
        ResizeTicksOnThisThread += System.Diagnostics.Stopwatch.GetTimestamp() - began;
    }

    /// <summary>Converts to CHW floats in [0, 1] (see <see cref="ChwImage"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ChwImage ToChw(Image<Rgb24> image)
    {
        int w = image.Width, h = image.Height, plane = w * h;
        var data = new float[3 * plane];
        const float scale = 1f / 255f;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                int o = y * w;
                for (int x = 0; x < w; x++)
                {
                    var p = row[x];
                    data[o + x] = p.R * scale;
                    data[plane + o + x] = p.G * scale;
                    data[2 * plane + o + x] = p.B * scale;
                }
            }
        });
        return new ChwImage(data, h, w);
    }

    /// <summary>Loads, crops, resizes and converts to CHW floats in one call.</summary>
    public static ChwImage LoadChw(string path, BoundingBox? crop = null, ImageResize? resize = null, ImageLoadOptions? options = null)
    {
        using var image = LoadRgb(path, crop, resize, options);
        return ToChw(image);
    }

    /// <summary>
    /// Loads many images. With <paramref name="skipUnreadable"/> false the first bad image throws; with true it is
    /// left null in the result and reported in the failures list (the caller decides whether to go on).
    /// </summary>
    public static (ChwImage?[] Images, IReadOnlyList<ImageLoadFailure> Failures) LoadMany(
        IReadOnlyList<string> paths, ImageResize? resize = null, bool skipUnreadable = false, ImageLoadOptions? options = null,
        IReadOnlyList<BoundingBox?>? crops = null, IProgress<ProgressReport>? progress = null)
    {
        var images = new ChwImage?[paths.Count];
        var failures = new List<ImageLoadFailure>();
        for (int i = 0; i < paths.Count; i++)
        {
            try
            {
                images[i] = LoadChw(paths[i], crops?[i], resize, options);
            }
            catch (UserInputException e) when (skipUnreadable)
            {
                failures.Add(new ImageLoadFailure(i, paths[i], e.Message));
            }
            progress.Report("load images", i + 1, paths.Count, "img");
        }
        return (images, failures);
    }

    /// <summary>
    /// ImageSharp decodes a JPEG cut short without complaint (it fills the rest with grey), so a JPEG must end with its
    /// end-of-image marker (FF D9) within its last 4 KiB; PNG must hold an IEND chunk.
    /// </summary>
    internal static void CheckComplete(string path, byte[] bytes)
    {
        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
        {
            int start = Math.Max(2, bytes.Length - 4096);
            for (int i = bytes.Length - 2; i >= start; i--)
                if (bytes[i] == 0xFF && bytes[i + 1] == 0xD9) return;
            throw UserInputException.InFile(path, "truncated JPEG: no end-of-image marker (FF D9) at the end of the file");
        }
        if (bytes.Length >= 8 && bytes[0] == 0x89 && bytes[1] == (byte)'P' && bytes[2] == (byte)'N' && bytes[3] == (byte)'G')
        {
            int start = Math.Max(8, bytes.Length - 64);
            var tail = bytes.AsSpan(start);
            if (tail.IndexOf("IEND"u8) < 0)
                throw UserInputException.InFile(path, "truncated PNG: no IEND chunk at the end of the file");
        }
    }

    /// <summary>
    /// Finds the image file for <paramref name="name"/> (no extension) in <paramref name="directory"/>, trying the
    /// common extensions in both cases; null when there is none.
    /// </summary>
    public static string? FindImage(string directory, string name)
    {
        foreach (var ext in Extensions)
        {
            string p = System.IO.Path.Combine(directory, name + ext);
            if (File.Exists(p)) return p;
            p = System.IO.Path.Combine(directory, name + ext.ToUpperInvariant());
            if (File.Exists(p)) return p;
        }
        return null;
    }
}
