using System.Diagnostics;
using System.Globalization;
using System.Text;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;
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
    public double FullRate => Images / Statistics.Median(FullRuns);

    /// <summary>Median images per second, reduced-scale decoding.</summary>
    public double ReducedRate => Images / Statistics.Median(ReducedRuns);

    /// <summary>Reduced over full, the ratio of the medians.</summary>
    public double Ratio => ReducedRate / FullRate;
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

    /// <summary>
    /// The Markdown report of <c>mlh bench decode</c>: one row per set of files with both rates and their ratio, the
    /// scales used and the pixel difference, then every run's seconds and what the machine's load says about them.
    /// </summary>
    public static string Report(IReadOnlyList<DecodeTiming> results, string folder, int size, int repeats, string loadBefore, string loadAfter)
    {
        var b = new StringBuilder();
        b.AppendLine("# JPEG decode + resize: reduced-scale against full decoding");
        b.AppendLine();
        b.Append(CultureInfo.InvariantCulture, $"`mlh bench decode --size {size} --repeats {repeats}`: JPEG files of `{folder}` (and re-encoded copies), ")
         .Append(CultureInfo.InvariantCulture, $"each decoded, stretched to {size} x {size} (bicubic) on one thread, as one decoding thread of the encoding pipeline does; ")
         .Append("full decoding (ImageSharp, every pixel) and reduced-scale decoding (libjpeg-turbo at n/8 through SkiaSharp, then the same resize) alternate run by run. ")
         .Append(CultureInfo.InvariantCulture, $"{MachineLoad.CpuModel()}, {Environment.ProcessorCount} cores; load average {loadBefore} before, {loadAfter} after. ")
         .AppendLine(MachineLoad.Note(loadBefore));
        b.AppendLine();
        var table = new MarkdownTable(["files", "images", "Mpx per image", "full, img/s", "reduced, img/s", "reduced / full", "scales used (n/8: files)",
                                       "mean abs. pixel difference (0-255)"], c => c is >= 1 and <= 5 or 7);
        foreach (var t in results)
            table.Row([t.Set, Format(t.Images, "0"), Format(t.MegapixelsPerImage, "0.00"), Format(t.FullRate, "0.0"), Format(t.ReducedRate, "0.0"),
                       Format(t.Ratio, "0.00"), string.Join(", ", t.Scales.Select(kv => $"{kv.Key}/8: {kv.Value}")), Format(t.MeanAbsoluteDifference, "0.00")]);
        b.Append(table);
        b.AppendLine();
        b.AppendLine("Seconds of every run (full; reduced):");
        b.AppendLine();
        foreach (var t in results)
            b.AppendLine($"- {t.Set}: {string.Join(" ", t.FullRuns.Select(x => Format(x, "0.000")))}; {string.Join(" ", t.ReducedRuns.Select(x => Format(x, "0.000")))}");
        return b.ToString();
    }

    private static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
