using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Tests.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary>
/// Every file of <see cref="BadImageCorpus"/> either loads with the pixels that were encoded (EXIF orientation
/// applied) or is refused with a <see cref="UserInputException"/> that names it; nothing else escapes.
/// </summary>
public sealed class BadImageCorpusTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("corpus");

    public void Dispose() => Directory.Delete(_dir, true);

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in BadImageCorpus.All()) data.Add(c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void EachFileLoadsCorrectlyOrIsRefusedByName(string name)
    {
        var (path, c) = BadImageCorpus.WriteAll(_dir).Single(w => w.Case.Name == name);
        if (c.RejectedWith is null)
        {
            using var image = ImageLoader.LoadRgb(path);
            c.Check!(image);
        }
        else
        {
            var e = Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(path));
            Assert.StartsWith(path + ":", e.Message);
            Assert.Contains(c.RejectedWith, e.Message);
        }
    }

    [Fact]
    public void LoadManyReportsEveryRefusedFileAndLoadsTheRest()
    {
        var written = BadImageCorpus.WriteAll(_dir);
        var (images, failures) = ImageLoader.LoadMany(written.Select(w => w.Path).ToList(), ImageResize.Exact(8, 8), skipUnreadable: true);
        var refused = written.Select((w, i) => (w, i)).Where(x => x.w.Case.RejectedWith is not null).Select(x => x.i).ToList();
        Assert.Equal(refused, failures.Select(f => f.Index));
        Assert.All(failures, f => Assert.Equal(written[f.Index].Path, f.Path));
        for (int i = 0; i < written.Count; i++)
            Assert.Equal(refused.Contains(i), images[i] is null);
        Assert.True(refused.Count >= 10 && written.Count - refused.Count >= 10, $"{refused.Count} refused, {written.Count - refused.Count} loaded");
    }

    [Fact]
    public void TheBufferLimitStopsADecodeThatWouldAllocateMore()
    {
        // 1000 x 1000 RGBA is 3.8 MiB in one buffer: above a 1 MiB limit, below the pixel limit.
        string path = Path.Combine(_dir, "large.png");
        using (var img = new Image<Rgba32>(1000, 1000, new Rgba32(1, 2, 3, 255))) img.SaveAsPng(path);
        var e = Assert.Throws<UserInputException>(() => ImageLoader.LoadRgb(path, new ImageLoadOptions { MaxBufferMegabytes = 1 }));
        Assert.StartsWith(path + ":", e.Message);
        Assert.True(e.Message.Contains("MaxBufferMegabytes"), e.Message);
        using var ok = ImageLoader.LoadRgb(path, new ImageLoadOptions { MaxBufferMegabytes = 8 });
        Assert.Equal(new Rgb24(1, 2, 3), ok[999, 999]);
    }

    [Fact]
    public void LimitsComeFromTheEnvironmentAndBadValuesAreNamed()
    {
        var env = new Dictionary<string, string?>
        {
            [ImageLoadOptions.MaxBytesVariable] = "1000",
            [ImageLoadOptions.MaxPixelsVariable] = "250000",
            [ImageLoadOptions.MaxBufferVariable] = "16",
        };
        var o = ImageLoadOptions.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal(new ImageLoadOptions { MaxFileBytes = 1000, MaxPixels = 250_000, MaxBufferMegabytes = 16 }, o);
        Assert.Equal(new ImageLoadOptions(), ImageLoadOptions.FromEnvironment(_ => null));
        Assert.Equal(ImageLoadOptions.DefaultMaxPixels, new ImageLoadOptions().MaxPixels);
        env[ImageLoadOptions.MaxPixelsVariable] = "-5";
        var e = Assert.Throws<UserInputException>(() => ImageLoadOptions.FromEnvironment(k => env.GetValueOrDefault(k)));
        Assert.Contains(ImageLoadOptions.MaxPixelsVariable, e.Message);
    }
}
