using System.Diagnostics;
using MultiLevelHashing.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace MultiLevelHashing.Benchmarks;

/// <summary>One set of JPEG files decoded and resized both ways by <see cref="DecodeBenchmark.Run"/>.</summary>
/// <param name="Set">What the files are (e.g. "data/photos as shipped", "longer side 1024").</param>
/// <param name="Images">Files per run.</param>
/// <param name="MegapixelsPerImage">Mean stored size.</param>
/// <param name="Size">The square the images are stretched to (the network's input).</param>
/// <param name="FullRuns">Seconds of each timed run with <see cref="JpegDecoding.Full"/>.</param>
/// <param name="ReducedRuns">Seconds of each timed run with <see cref="JpegDecoding.Reduced"/>, interleaved with the full runs.</param>
/// <param name="Scales">How many files were decoded at each scale n/8 (8: in full).</param>
/// <param name="MeanAbsoluteDifference">Mean absolute difference of the two modes' output pixels, 0-255 scale.</param>
public sealed record DecodeTiming(string Set, int Images, double MegapixelsPerImage, int Size, IReadOnlyList<double> FullRuns,
                                  IReadOnlyList<double> ReducedRuns, IReadOnlyDictionary<int, int> Scales, double MeanAbsoluteDifference)
{
    /// <summary>Median images per second, full decoding.</summary>
    public double FullRate => Images / Median(FullRuns);

    /// <summary>Median images per second, reduced-scale decoding.</summary>
    public double ReducedRate => Images / Median(ReducedRuns);

    /// <summary>Reduced over full, the ratio of the medians.</summary>
    public double Ratio => ReducedRate / FullRate;

    private static double Median(IReadOnlyList<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}

/// <summary>
/// Decode + resize throughput of JPEG files with full decoding against reduced-scale decoding
/// (lib/MultiLevelHashing/README.md section 1.4), the work of one decoding thread of the encoding pipeline:
/// <see cref="ImageLoader.LoadRgb(string, BoundingBox?, ImageResize?, ImageLoadOptions?)"/> to size x size on one
/// thread. The two modes alternate run by run (and which goes first), so machine load falls on both.
/// </summary>
public static class DecodeBenchmark
{
    /// <summary>The JPEG files under <paramref name="folder"/> (subfolders included), sorted.</summary>
    public static IReadOnlyList<string> Jpegs(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Copies of <paramref name="photos"/> with the longer side <paramref name="longerSide"/> (bicubic, JPEG quality 90)
    /// in <paramref name="folder"/>; files already there are kept.
    /// </summary>
    public static IReadOnlyList<string> Rescaled(IReadOnlyList<string> photos, int longerSide, string folder)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        foreach (var photo in photos)
        {
            string path = Path.Combine(folder, $"{written.Count:D4}-{Path.GetFileNameWithoutExtension(photo)}.jpg");
            if (!File.Exists(path))
            {
                using var image = ImageLoader.LoadRgb(photo, null, ImageResize.Longer(longerSide), ImageLoadOptions.Default with { JpegDecoding = JpegDecoding.Full });
                string temp = path + ".tmp";
                image.Save(temp, new JpegEncoder { Quality = 90 });
                File.Move(temp, path, overwrite: true);
            }
            written.Add(path);
        }
        return written;
    }

    /// <summary>Times <paramref name="repeats"/> runs of each mode over <paramref name="files"/> after one untimed run of each.</summary>
    public static DecodeTiming Run(string set, IReadOnlyList<string> files, int size, int repeats)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        if (files.Count == 0) throw new ArgumentException("no files", nameof(files));
        var resize = ImageResize.Exact(size, size);
        var full = ImageLoadOptions.Default with { JpegDecoding = JpegDecoding.Full };
        var reduced = ImageLoadOptions.Default with { JpegDecoding = JpegDecoding.Reduced };
        var scales = new SortedDictionary<int, int>();
        double pixels = 0, difference = 0;
        foreach (var f in files)
        {
            var bytes = File.ReadAllBytes(f);
            int n = ReducedJpeg.ScaleFor(bytes, null, resize);
            scales[n] = scales.GetValueOrDefault(n) + 1;
            var (w, h) = ImageLoader.Size(f);
            pixels += (double)w * h;
            using var a = ImageLoader.LoadRgb(f, null, resize, full);
            using var b = ImageLoader.LoadRgb(f, null, resize, reduced);
            difference += MeanAbsoluteDifference(a, b);
        }
        var fullRuns = new List<double>();
        var reducedRuns = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            bool fullFirst = r % 2 == 0;
            foreach (bool isFull in fullFirst ? new[] { true, false } : [false, true])
            {
                double s = Time(files, resize, isFull ? full : reduced);
                (isFull ? fullRuns : reducedRuns).Add(s);
            }
        }
        return new DecodeTiming(set, files.Count, pixels / files.Count / 1e6, size, fullRuns, reducedRuns, scales, difference / files.Count);
    }

    private static double Time(IReadOnlyList<string> files, ImageResize resize, ImageLoadOptions options)
    {
        var watch = Stopwatch.StartNew();
        foreach (var f in files)
        {
            using var image = ImageLoader.LoadRgb(f, null, resize, options);
        }
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Mean absolute difference of two images of one size over the three channels, 0-255 scale.</summary>
    internal static double MeanAbsoluteDifference(Image<Rgb24> a, Image<Rgb24> b)
    {
        if ((a.Width, a.Height) != (b.Width, b.Height)) throw new ArgumentException($"sizes differ: {a.Width}x{a.Height} and {b.Width}x{b.Height}");
        double sum = 0;
        for (int y = 0; y < a.Height; y++)
            for (int x = 0; x < a.Width; x++)
            {
                Rgb24 p = a[x, y], q = b[x, y];
                sum += Math.Abs(p.R - q.R) + Math.Abs(p.G - q.G) + Math.Abs(p.B - q.B);
            }
        return sum / (3.0 * a.Width * a.Height);
    }
}
