using System.CommandLine;
using MultiLevelHashing.Attention.Rendering;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using MultiLevelHashing.Tests.Training;

namespace MultiLevelHashing.Tests.Cli;

/// <summary><c>mlh maps</c> end to end on a smoke checkpoint: the PNGs it writes, and its refusals of bad input.</summary>
[Collection(ConsoleCommandCollection.Name)]
public class MapsCommandTests
{
    private static readonly string Photo = Path.Combine(RepositoryLayout.FindRoot(), "data", "photos", "graf1.jpg");   // 640 x 512

    private static string SmokeCheckpoint()
    {
        string work = Path.Combine(Path.GetTempPath(), "mlh-maps-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        return UntrainedCheckpoint.Write(Path.Combine(work, "model.ckpt"));
    }

    private static async Task<(int Code, string Output)> Maps(params string[] args)
    {
        var output = new StringWriter();
        var root = new RootCommand();
        root.Subcommands.Add(MapsCommand.Create(output));
        int code = await root.Parse(["maps", .. args]).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        return (code, output.ToString());
    }

    private static List<string> Written(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("wrote ", StringComparison.Ordinal))
            .Select(l => l["wrote ".Length..].Split(" (")[0])
            .ToList();

    [Fact]
    public async Task WritesOneOverlayPerStrongestBitAndAContactSheetAtThePhotosSize()
    {
        string checkpoint = SmokeCheckpoint();
        string folder = Path.Combine(Path.GetDirectoryName(checkpoint)!, "maps");
        var (code, output) = await Maps("--checkpoint", checkpoint, "--image", Photo, "--bits", "top:3", "--output", folder);
        Assert.Equal(0, code);
        var files = Written(output);
        Assert.Equal(4, files.Count);
        Assert.All(files, f => Assert.True(File.Exists(f), $"{f} was reported but not written"));
        Assert.Equal(files.Order(), Directory.GetFiles(folder).Order());
        foreach (string overlay in files.Take(3))
        {
            Assert.Matches(@"graf1-local-bit\d+\.png$", overlay);
            using var png = Image.Load<Rgb24>(overlay);
            Assert.Equal(640, png.Width);                                    // the photo's own pixels
            Assert.Equal(512 + MapOverlay.FooterHeight, png.Height);
        }
        Assert.EndsWith("graf1-local-sheet.png", files[3]);
        using (var sheet = Image.Load<Rgb24>(files[3]))
        {
            // Tiles: the photo scaled to a longer side of 256 (256 x 205) with its footer, 2 columns x 2 rows.
            Assert.Equal(6 + 2 * (256 + 6), sheet.Width);
            Assert.Equal(26 + 2 * (205 + MapOverlay.FooterHeight + 6), sheet.Height);
        }
    }

    [Fact]
    public async Task AListOfGlobalBitsWithABoxMapsOnlyTheBoxedRegion()
    {
        string checkpoint = SmokeCheckpoint();
        string folder = Path.Combine(Path.GetDirectoryName(checkpoint)!, "maps");
        var (code, output) = await Maps("--checkpoint", checkpoint, "--image", Photo, "--level", "global", "--bits", "5,0",
            "--box", "100,80,420,400", "--size", "96", "--output", folder);
        Assert.Equal(0, code);
        var files = Written(output);
        Assert.Equal(["graf1-global-bit5.png", "graf1-global-bit0.png", "graf1-global-sheet.png"], files.Select(Path.GetFileName));
        using var overlay = Image.Load<Rgb24>(files[0]);
        using var photo = Image.Load<Rgb24>(Photo);
        Assert.Equal((640, 512 + MapOverlay.FooterHeight), (overlay.Width, overlay.Height));
        // Outside the box the photo is only dimmed (no heat), inside it is blended with the map.
        foreach (var (x, y) in new[] { (20, 20), (600, 450), (50, 300) })
        {
            var p = photo[x, y];
            var o = overlay[x, y];
            Assert.True(Math.Abs(o.R - p.R * 0.35) <= 1.5 && Math.Abs(o.G - p.G * 0.35) <= 1.5 && Math.Abs(o.B - p.B * 0.35) <= 1.5,
                $"({x}, {y}) outside the box: photo {p}, overlay {o}");
        }
        int changed = 0;
        for (int y = 100; y < 380; y += 7)
            for (int x = 120; x < 400; x += 7)
                if (Math.Abs(overlay[x, y].R - photo[x, y].R * 0.35) > 3) changed++;
        Assert.True(changed > 1000, $"only {changed} pixels inside the box carry the map");
    }

    [Theory]
    [InlineData("300,10,200,50", "x2 must exceed x1")]
    [InlineData("10,10,50", "four numbers")]
    [InlineData("10,10,a,50", "'a' is not a number")]
    [InlineData("0,0,700,100", "outside the 640 x 512 image")]
    [InlineData("-5,0,100,100", "outside the 640 x 512 image")]
    public async Task ABadBoxIsRefusedWithTheProblem(string box, string problem)
    {
        string checkpoint = SmokeCheckpoint();
        string folder = Path.Combine(Path.GetDirectoryName(checkpoint)!, "maps");
        var e = await Assert.ThrowsAsync<UserInputException>(() => Maps("--checkpoint", checkpoint, "--image", Photo, "--box", box, "--output", folder));
        Assert.Contains("--box", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.False(Directory.Exists(folder), "nothing may be written for a bad box");
    }

    [Fact]
    public async Task AnUnknownBitAMissingImageAndAnUnknownLevelAreRefused()
    {
        string checkpoint = SmokeCheckpoint();
        string folder = Path.Combine(Path.GetDirectoryName(checkpoint)!, "maps");
        var bit = await Assert.ThrowsAsync<UserInputException>(() => Maps("--checkpoint", checkpoint, "--image", Photo, "--bits", "3,256", "--output", folder));
        Assert.Contains("bit 256 does not exist", bit.Message);
        Assert.Contains("0..255", bit.Message);
        var global = await Assert.ThrowsAsync<UserInputException>(() => Maps("--checkpoint", checkpoint, "--image", Photo, "--level", "global", "--bits", "top:65", "--output", folder));
        Assert.Contains("1..64", global.Message);
        string missing = Path.Combine(Path.GetDirectoryName(checkpoint)!, "no-such.jpg");
        var image = await Assert.ThrowsAsync<UserInputException>(() => Maps("--checkpoint", checkpoint, "--image", missing, "--output", folder));
        Assert.Contains("no-such.jpg", image.Message);
        Assert.Contains("image not found", image.Message);
        var level = await Assert.ThrowsAsync<UserInputException>(() => Maps("--checkpoint", checkpoint, "--image", Photo, "--level", "middle", "--output", folder));
        Assert.Contains("--level middle", level.Message);
        Assert.False(Directory.Exists(folder));
    }
}
