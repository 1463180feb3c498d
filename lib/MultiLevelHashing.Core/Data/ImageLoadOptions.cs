using System.Collections.Concurrent;
using System.Globalization;
using MultiLevelHashing.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;

namespace MultiLevelHashing.Data;

/// <summary>
/// Limits that protect image loading against decompression bombs and oversized files (lib/MultiLevelHashing/README.md
/// section 1.6). The defaults can be changed per process with the environment variables <c>MLH_IMAGE_MAX_BYTES</c>,
/// <c>MLH_IMAGE_MAX_PIXELS</c> and <c>MLH_IMAGE_MAX_BUFFER_MB</c>, or per call with an instance of this record.
/// </summary>
public sealed record ImageLoadOptions
{
    /// <summary>Environment variable overriding <see cref="MaxFileBytes"/>.</summary>
    public const string MaxBytesVariable = "MLH_IMAGE_MAX_BYTES";

    /// <summary>Environment variable overriding <see cref="MaxPixels"/>.</summary>
    public const string MaxPixelsVariable = "MLH_IMAGE_MAX_PIXELS";

    /// <summary>Environment variable overriding <see cref="MaxBufferMegabytes"/>.</summary>
    public const string MaxBufferVariable = "MLH_IMAGE_MAX_BUFFER_MB";

    /// <summary>Environment variable overriding <see cref="JpegDecoding"/>: <c>reduced</c> or <c>full</c>.</summary>
    public const string JpegDecodingVariable = "MLH_JPEG_DECODE";

    /// <summary>Built-in <see cref="MaxFileBytes"/>: 64 MiB (Oxford/Paris images are below 1 MiB).</summary>
    public const long DefaultMaxFileBytes = 64L << 20;

    /// <summary>Built-in <see cref="MaxPixels"/>: 64 megapixels (8000 x 8000).</summary>
    public const long DefaultMaxPixels = 64_000_000;

    /// <summary>Built-in <see cref="MaxBufferMegabytes"/>: 512 MiB, twice the RGBA buffer of a 64-megapixel image.</summary>
    public const int DefaultMaxBufferMegabytes = 512;

    /// <summary>Largest file accepted, in bytes.</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;

    /// <summary>Largest width x height accepted, checked from the header before decoding.</summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>
    /// Largest single buffer the decoder may allocate, in MiB (ImageSharp's allocation limit): a decoder that is talked
    /// into a larger buffer by a crafted file fails instead of allocating it.
    /// </summary>
    public int MaxBufferMegabytes { get; init; } = DefaultMaxBufferMegabytes;

    /// <summary>
    /// How a JPEG is decoded when the caller asks for a smaller size (lib/MultiLevelHashing/README.md section 1.4):
    /// <see cref="JpegDecoding.Reduced"/> (the default; its measured effect on codes and mAP is in that section) decodes
    /// at the smallest libjpeg-turbo scale that keeps the resolution the requested size needs,
    /// <see cref="JpegDecoding.Full"/> always decodes every pixel.
    /// </summary>
    public JpegDecoding JpegDecoding { get; init; } = JpegDecoding.Reduced;

    /// <summary>The built-in limits, overridden by the environment variables where they are set (read once).</summary>
    public static ImageLoadOptions Default => LazyDefault.Value;

    private static readonly Lazy<ImageLoadOptions> LazyDefault = new(() => FromEnvironment(Environment.GetEnvironmentVariable));

    /// <summary>The built-in limits overridden by the variables <paramref name="lookup"/> returns.</summary>
    /// <exception cref="UserInputException">A variable that is not a positive whole number.</exception>
    public static ImageLoadOptions FromEnvironment(Func<string, string?> lookup)
    {
        var options = new ImageLoadOptions();
        if (Positive(lookup, MaxBytesVariable, long.MaxValue) is { } bytes) options = options with { MaxFileBytes = bytes };
        if (Positive(lookup, MaxPixelsVariable, long.MaxValue) is { } pixels) options = options with { MaxPixels = pixels };
        if (Positive(lookup, MaxBufferVariable, int.MaxValue) is { } mb) options = options with { MaxBufferMegabytes = (int)mb };
        if (lookup(JpegDecodingVariable) is { } mode && !string.IsNullOrWhiteSpace(mode))
            options = options with
            {
                JpegDecoding = mode.Trim().ToLowerInvariant() switch
                {
                    "reduced" => JpegDecoding.Reduced,
                    "full" => JpegDecoding.Full,
                    _ => throw new UserInputException($"environment variable {JpegDecodingVariable}='{mode}': expected 'reduced' or 'full'"),
                },
            };
        return options;
    }

    private static long? Positive(Func<string, string?> lookup, string name, long max)
    {
        string? text = lookup(name);
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (!long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v <= 0 || v > max)
            throw new UserInputException($"environment variable {name}='{text}': expected a whole number from 1 to {max}");
        return v;
    }

    private static readonly ConcurrentDictionary<int, Configuration> Configurations = new();

    /// <summary>The ImageSharp configuration for these limits: the default formats with the allocation limit.</summary>
    internal Configuration DecoderConfiguration() => Configurations.GetOrAdd(MaxBufferMegabytes, mb =>
    {
        var config = Configuration.Default.Clone();
        config.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { AllocationLimitMegabytes = mb });
        return config;
    });

    /// <summary>
    /// The decoder for <paramref name="format"/>: only the first frame of animated GIFs and multi-page TIFFs, so that
    /// a crafted animation cannot multiply the memory by its frame count. (A configuration clone shares the global
    /// formats manager, so the decoders are chosen here rather than registered.)
    /// </summary>
    internal static IImageDecoder DecoderFor(Configuration config, IImageFormat format) => format switch
    {
        GifFormat => new GifDecoder { DecodingMode = FrameDecodingMode.First },
        TiffFormat => new TiffDecoder { DecodingMode = FrameDecodingMode.First },
        _ => config.ImageFormatsManager.FindDecoder(format)
             ?? throw new NotSupportedException($"no decoder for the {format.Name} format"),
    };
}

/// <summary>How JPEG files are decoded when the caller asks for a smaller size (lib/MultiLevelHashing/README.md section 1.4).</summary>
public enum JpegDecoding
{
    /// <summary>
    /// Decode in the DCT domain at the smallest libjpeg-turbo scale (n/8, through SkiaSharp's <c>SKCodec</c>) at which
    /// the (outward-rounded) crop still has at least the requested width and height, then resize the rest of the way as
    /// <see cref="Full"/> does. Where no scale below 1 keeps enough pixels, or for other formats, decoding is
    /// <see cref="Full"/>'s, so those images give the same pixels in both modes.
    /// </summary>
    Reduced,

    /// <summary>Decode every pixel with ImageSharp, then crop and resize (bicubic).</summary>
    Full,
}
