using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Tests.Reliability;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SkiaSharp;

namespace MultiLevelHashing.Tests.Data;

/// <summary>
/// Reduced-scale JPEG decoding (lib/MultiLevelHashing/README.md section 1.4) gives the picture that full decoding gives,
/// for every EXIF orientation and crop, at the smallest scale that keeps the requested resolution; damaged files are
/// refused by name or decoded in full, as with full decoding.
/// </summary>
public sealed class ReducedJpegTests : IDisposable
{
    private static readonly ImageLoadOptions Reduced = new() { JpegDecoding = JpegDecoding.Reduced };
    private static readonly ImageLoadOptions Full = new() { JpegDecoding = JpegDecoding.Full };
    private readonly string _dir = TestPaths.NewTempDirectory("reduced-jpeg");

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>A smooth, asymmetric picture (so that any wrong flip or turn shows), stored with an EXIF orientation.</summary>
    private string WritePhoto(string name, int w, int h, ushort orientation = 1)
    {
        using var img = new Image<Rgb24>(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double u = (double)x / w, v = (double)y / h;
                img[x, y] = new Rgb24((byte)(255 * u), (byte)(255 * v * v), (byte)(128 + 100 * Math.Sin(6 * u + 3 * v)));
            }
        if (orientation != 1)
        {
            img.Metadata.ExifProfile = new ExifProfile();
            img.Metadata.ExifProfile.SetValue(ExifTag.Orientation, orientation);
        }
        string path = Path.Combine(_dir, name);
        img.Save(path, new JpegEncoder { Quality = 92 });
        return path;
    }

    private static double MeanAbsoluteDifference(Image<Rgb24> a, Image<Rgb24> b)
    {
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        return MultiLevelHashing.Benchmarks.DecodeBenchmark.MeanAbsoluteDifference(a, b);
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void EveryOrientationAndCropGivesFullDecodingsPicture(ushort orientation)
    {
        string path = WritePhoto($"o{orientation}.jpg", 640, 480, orientation);
        var (width, height) = ImageLoader.Size(path);
        Assert.Equal(orientation >= 5 ? (480, 640) : (640, 480), (width, height));
        foreach (var (crop, resize) in new (BoundingBox?, ImageResize)[]
                 {
                     (null, ImageResize.Exact(96, 96)),
                     (null, ImageResize.Longer(120)),
                     (new BoundingBox(37.4, 81.9, 301.2, 290.5), ImageResize.Exact(64, 64)),
                     (new BoundingBox(0, 0, width, height / 3.0), ImageResize.Longer(100)),
                 })
        {
            using var bytesReduced = ReducedJpeg.TryLoad(path, File.ReadAllBytes(path), crop, resize, Reduced);
            Assert.NotNull(bytesReduced); // the reduced path was taken
            using var reduced = ImageLoader.LoadRgb(path, crop, resize, Reduced);
            using var full = ImageLoader.LoadRgb(path, crop, resize, Full);
            double mad = MeanAbsoluteDifference(reduced, full);
            Assert.True(mad < 4, $"orientation {orientation}, crop {crop}, {resize}: mean absolute difference {mad:0.00} of 255");
            Assert.Equal(0, MeanAbsoluteDifference(reduced, bytesReduced));
        }
    }

    [Fact]
    public void NoReductionWithoutEnoughPixelsGivesFullDecodingsBytes()
    {
        // 320 x 240 to 224 x 224: 7/8 gives 210 rows, too few, so the file is decoded in full.
        string path = WritePhoto("small.jpg", 320, 240);
        Assert.Null(ReducedJpeg.TryLoad(path, File.ReadAllBytes(path), null, ImageResize.Exact(224, 224), Reduced));
        using var reduced = ImageLoader.LoadRgb(path, null, ImageResize.Exact(224, 224), Reduced);
        using var full = ImageLoader.LoadRgb(path, null, ImageResize.Exact(224, 224), Full);
        Assert.Equal(0, MeanAbsoluteDifference(reduced, full));
        // Without a resize nothing is reduced either.
        using var plain = ImageLoader.LoadRgb(path, null, null, Reduced);
        Assert.Equal((320, 240), (plain.Width, plain.Height));
    }

    private static (int, int) LibjpegScaled(int w, int h, int n) => ((w * n + 7) / 8, (h * n + 7) / 8);

    [Property(MaxTest = 300)]
    public Property TheScaleIsTheSmallestThatKeepsTheTargetResolution(PositiveInt a, PositiveInt b, PositiveInt t, byte originCode, bool cropped)
    {
        int w = 16 + a.Get % 4000, h = 16 + b.Get % 4000, target = 1 + t.Get % 400;
        var origin = (SKEncodedOrigin)(1 + originCode % 8);
        bool swap = (int)origin >= 5;
        int dw = swap ? h : w, dh = swap ? w : h;
        BoundingBox? crop = cropped ? new BoundingBox(dw * 0.1, dh * 0.2, dw * 0.7, dh * 0.9) : null;
        var resize = ImageResize.Exact(target, target);
        int n = ReducedJpeg.ChooseScale(w, h, origin, crop, resize, k => LibjpegScaled(w, h, k));
        var (_, _, cw, ch) = crop is { } c ? c.ToPixelRectangle(dw, dh) : (0, 0, dw, dh);
        bool Enough(int k)
        {
            var (sw, sh) = LibjpegScaled(w, h, k);
            int sdw = swap ? sh : sw, sdh = swap ? sw : sh;
            return (long)cw * sdw / dw >= target && (long)ch * sdh / dh >= target;
        }
        bool ok = n is >= 1 and <= 8 && (n == 8 || Enough(n)) && Enumerable.Range(1, n - 1).All(k => !Enough(k));
        return ok.Label($"{w}x{h} origin {origin} crop {crop} target {target}: n = {n}");
    }

    [Fact]
    public void DamagedJpegsAreRefusedByNameOrDecoded()
    {
        string path = WritePhoto("fuzz-source.jpg", 640, 480);
        byte[] original = File.ReadAllBytes(path);
        var random = new Random(7);
        string damaged = Path.Combine(_dir, "damaged.jpg");
        int refused = 0, decoded = 0;
        for (int i = 0; i < 150; i++)
        {
            var bytes = (byte[])original.Clone();
            int flips = 1 + random.Next(8);
            for (int f = 0; f < flips; f++) bytes[random.Next(2, bytes.Length - 2)] = (byte)random.Next(256);
            File.WriteAllBytes(damaged, bytes);
            try
            {
                using var img = ImageLoader.LoadRgb(damaged, null, ImageResize.Exact(96, 96), Reduced);
                Assert.Equal((96, 96), (img.Width, img.Height));
                decoded++;
            }
            catch (UserInputException e)
            {
                Assert.StartsWith(damaged + ":", e.Message);
                refused++;
            }
        }
        Assert.True(decoded > 0, $"{decoded} decoded, {refused} refused");
        // Cut short: refused by name, before any decoding.
        File.WriteAllBytes(damaged, original[..(original.Length * 2 / 3)]);
        var cut = Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(damaged, null, ImageResize.Exact(96, 96), Reduced));
        Assert.StartsWith(damaged + ":", cut.Message);
        Assert.Contains("truncated JPEG", cut.Message);
    }

    [Fact]
    public void TheCorpusIsRefusedAndLoadedAlikeInBothModes()
    {
        foreach (var (path, c) in BadImageCorpus.WriteAll(_dir))
        {
            foreach (var options in new[] { Reduced, Full })
            {
                if (c.RejectedWith is null)
                {
                    using var img = ImageLoader.LoadRgb(path, null, ImageResize.Exact(8, 8), options);
                    Assert.Equal((8, 8), (img.Width, img.Height));
                }
                else
                {
                    var e = Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(path, null, ImageResize.Exact(8, 8), options));
                    Assert.StartsWith(path + ":", e.Message);
                    Assert.Contains(c.RejectedWith, e.Message);
                }
            }
        }
    }

    [Fact]
    public void LimitsHoldOnTheReducedPath()
    {
        string path = WritePhoto("limits.jpg", 1600, 1200);
        var pixels = Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(path, null, ImageResize.Exact(64, 64), Reduced with { MaxPixels = 1_000_000 }));
        Assert.Contains("MaxPixels", pixels.Message);
        // At 1/8 the buffer is 200 x 150 x 4 bytes: within 1 MiB; asking for 1000 px needs 5/8, 3 MiB.
        using (ImageLoader.LoadRgb(path, null, ImageResize.Exact(64, 64), Reduced with { MaxBufferMegabytes = 1 })) { }
        var buffer = Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(path, null, ImageResize.Exact(1000, 700), Reduced with { MaxBufferMegabytes = 1 }));
        Assert.StartsWith(path + ":", buffer.Message);
        Assert.Contains("MaxBufferMegabytes", buffer.Message);
    }

    [Fact]
    public void TheModeComesFromTheEnvironment()
    {
        Assert.Equal(JpegDecoding.Reduced, new ImageLoadOptions().JpegDecoding);
        Assert.Equal(JpegDecoding.Full, ImageLoadOptions.FromEnvironment(k => k == ImageLoadOptions.JpegDecodingVariable ? "Full" : null).JpegDecoding);
        Assert.Equal(JpegDecoding.Reduced, ImageLoadOptions.FromEnvironment(k => k == ImageLoadOptions.JpegDecodingVariable ? "reduced" : null).JpegDecoding);
        var e = Assert.Throws<UserInputException>(() => ImageLoadOptions.FromEnvironment(k => k == ImageLoadOptions.JpegDecodingVariable ? "half" : null));
        Assert.Contains(ImageLoadOptions.JpegDecodingVariable, e.Message);
    }
}
