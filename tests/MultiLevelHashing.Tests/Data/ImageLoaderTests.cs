using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MultiLevelHashing.Tests.Data;

public sealed class ImageLoaderTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("img");

    public void Dispose() => Directory.Delete(_dir, true);

    private string Write(string name, int w, int h, Func<int, int, Rgb24> pixel, bool png = false)
    {
        using var img = new Image<Rgb24>(w, h);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img[x, y] = pixel(x, y);
        string path = Path.Combine(_dir, name);
        if (png) img.SaveAsPng(path); else img.SaveAsJpeg(path);
        return path;
    }

    [Fact]
    public void ChwLayoutAndScaleAreExact()
    {
        string path = Write("grad.png", 4, 3, (x, y) => new Rgb24((byte)(10 * x), (byte)(20 * y), 255), png: true);
        var chw = ImageLoader.LoadChw(path);
        Assert.Equal((3, 4), (chw.Height, chw.Width));
        // index (c * H + y) * W + x
        Assert.Equal(30 / 255f, chw.Data[(0 * 3 + 1) * 4 + 3], 6); // R at (x=3, y=1)
        Assert.Equal(40 / 255f, chw.Data[(1 * 3 + 2) * 4 + 0], 6); // G at (x=0, y=2)
        Assert.Equal(1f, chw.Data[(2 * 3 + 0) * 4 + 0], 6);        // B
    }

    [Fact]
    public void CropRoundsOutwardAndResizeKeepsAspect()
    {
        string path = Write("big.png", 100, 80, (x, y) => new Rgb24((byte)x, (byte)y, 0), png: true);
        var chw = ImageLoader.LoadChw(path, new BoundingBox(10.5, 20.2, 30.1, 40.9));
        Assert.Equal((21, 21), (chw.Height, chw.Width)); // x 10..31, y 20..41
        Assert.Equal(10 / 255f, chw.Data[0], 6);
        Assert.Equal(20 / 255f, chw.Data[21 * 21], 6);
        var resized = ImageLoader.LoadChw(path, null, ImageResize.Longer(50));
        Assert.Equal((40, 50), (resized.Height, resized.Width));
        var exact = ImageLoader.LoadChw(path, null, ImageResize.Exact(32, 16));
        Assert.Equal((16, 32), (exact.Height, exact.Width));
    }

    [Fact]
    public void EmptyCorruptAndTruncatedFilesAreNamed()
    {
        string empty = Path.Combine(_dir, "empty.jpg");
        File.WriteAllBytes(empty, []);
        Assert.Equal($"{empty}: empty image file (0 bytes)", Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(empty)).Message);

        string garbage = Path.Combine(_dir, "garbage.jpg");
        File.WriteAllBytes(garbage, [.. Enumerable.Range(0, 500).Select(i => (byte)(i * 7))]);
        Assert.StartsWith(garbage, Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(garbage)).Message);

        string jpg = Write("ok.jpg", 64, 48, (x, y) => new Rgb24((byte)(x * 3), (byte)(y * 5), 7));
        using (ImageLoader.LoadRgb(jpg)) { }
        var bytes = File.ReadAllBytes(jpg);
        string cut = Path.Combine(_dir, "cut.jpg");
        File.WriteAllBytes(cut, bytes[..(bytes.Length * 2 / 3)]);
        var e = Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(cut));
        Assert.StartsWith(cut, e.Message);
        Assert.Contains("truncated", e.Message);

        string png = Write("ok.png", 64, 48, (x, y) => new Rgb24((byte)x, (byte)y, 9), png: true);
        var pbytes = File.ReadAllBytes(png);
        string pcut = Path.Combine(_dir, "cut.png");
        File.WriteAllBytes(pcut, pbytes[..(pbytes.Length - 20)]);
        Assert.Contains("truncated", Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(pcut)).Message);

        Assert.Contains("not found", Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(Path.Combine(_dir, "nope.jpg"))).Message);
    }

    [Fact]
    public void LimitsRefuseBeforeDecoding()
    {
        string path = Write("limit.png", 50, 40, (_, _) => new Rgb24(1, 2, 3), png: true);
        var px = Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(path, new ImageLoadOptions { MaxPixels = 1999 }));
        Assert.Contains("50x40", px.Message);
        Assert.Contains("MaxPixels", px.Message);
        var size = Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(path, new ImageLoadOptions { MaxFileBytes = 10 }));
        Assert.Contains("MaxFileBytes", size.Message);
    }

    [Fact]
    public void LoadManySkipsAndReportsWhenAsked()
    {
        string good = Write("g.png", 8, 8, (_, _) => new Rgb24(1, 2, 3), png: true);
        string bad = Path.Combine(_dir, "bad.jpg");
        File.WriteAllBytes(bad, []);
        Assert.Throws<UserInputException>(() => ImageLoader.LoadMany([good, bad]));
        var (images, failures) = ImageLoader.LoadMany([good, bad, good], skipUnreadable: true);
        Assert.NotNull(images[0]);
        Assert.Null(images[1]);
        Assert.NotNull(images[2]);
        var f = Assert.Single(failures);
        Assert.Equal(1, f.Index);
        Assert.Contains("empty", f.Problem);
    }
}
