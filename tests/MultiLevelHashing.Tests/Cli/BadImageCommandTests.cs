using System.CommandLine;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Regions;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Cli;

/// <summary><c>mlh encode</c> and <c>mlh index</c> on a folder with a truncated JPEG and a text file named .jpg.</summary>
[Collection(ConsoleCommandCollection.Name)]
public sealed class BadImageCommandTests : IDisposable
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "mlh-badimages-" + Guid.NewGuid().ToString("N"));
    private readonly string _images;
    private readonly string _checkpoint;
    private readonly string _truncated;
    private readonly string _text;

    public BadImageCommandTests()
    {
        _images = Path.Combine(_work, "images");
        Directory.CreateDirectory(_images);
        string photos = Path.Combine(RepositoryLayout.FindRoot(), "data", "photos");
        foreach (string name in new[] { "a-graf1.jpg", "b-leuven-a.jpg", "c-coffee.jpg", "d-apple.jpg" })
            File.Copy(Path.Combine(photos, name[2..]), Path.Combine(_images, name));
        _truncated = Path.Combine(_images, "b-leuven-a.jpg");
        byte[] bytes = File.ReadAllBytes(_truncated);
        File.WriteAllBytes(_truncated, bytes[..(bytes.Length / 3)]);
        _text = Path.Combine(_images, "c-notes.jpg");
        File.WriteAllText(_text, "meeting notes, not a photo\n");
        var config = TrainingConfig.Smoke;
        using var model = DscnnFactory.Create(config.Architecture, config.Seed, pretrainedBackbone: false);
        _checkpoint = Path.Combine(_work, "model.ckpt");
        Checkpoint.Save(_checkpoint, config, model, null, 0, new TrainingHistory());
    }

    public void Dispose()
    {
        if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true);
    }

    /// <summary>Runs <c>mlh encode</c> or <c>mlh index</c> in process; exit code, standard output and standard error.</summary>
    internal static async Task<(int Code, string Stdout, string Stderr)> Invoke(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(EncodeCommand.Create());
        root.Subcommands.Add(IndexCommand.Create());
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var (oldOut, oldErr) = (System.Console.Out, System.Console.Error);
        System.Console.SetOut(stdout);
        System.Console.SetError(stderr);
        try
        {
            int code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            return (code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            System.Console.SetOut(oldOut);
            System.Console.SetError(oldErr);
        }
    }

    [Fact]
    public async Task IndexWithRegionsCodesExactlyTheImagesKept()
    {
        // A coder fitted here on the readable photos' maps; the index must hold their region codes, in the order of their ids.
        string[] kept = ["a-graf1", "c-coffee", "d-apple"];
        var files = new ImageFileSource(ImageFiles.Of(kept.Select(k => Path.Combine(_images, k + ".jpg")), _images));
        var (model, _) = Checkpoint.LoadModel(_checkpoint);
        MultiLevelHashing.Search.Regions.RegionCodes expected;
        using (model)
        using (var maps = FeatureCache.Compute(model.Backbone, files, 64, 1))
        using (var coder = RegionHashHead.FromPca(maps, 16))
        {
            Checkpoint.SaveRegionCoder(_checkpoint, coder, new RegionCoderInfo(16, coder.Channels, 64, "the readable photos"));
            expected = coder.Encode(maps);
        }
        string index = Path.Combine(_work, "regions.mlhidx");
        var (code, stdout, stderr) = await Invoke("index", "--images", _images, "--checkpoint", _checkpoint, "--output", index, "--regions");
        Assert.Equal(0, code);
        Assert.Contains("skipped 2 image(s)", stderr);
        Assert.Contains("region codes: 16 bits", stdout);
        using var db = CodeIndexFile.Open(index);
        Assert.Equal(kept, db.ImageIds);
        Assert.Equal(expected.Offsets.ToArray(), db.Regions!.Offsets.ToArray());
        Assert.Equal(expected.AllCodes.ToArray(), db.Regions.AllCodes.ToArray());
    }

    [Fact]
    public async Task IndexSkipsAndNamesBadImagesByDefault()
    {
        string index = Path.Combine(_work, "db.mlhidx");
        var (code, stdout, stderr) = await Invoke("index", "--images", _images, "--checkpoint", _checkpoint, "--output", index);

        Assert.Equal(0, code);
        Assert.Contains("skipped 2 image(s)", stderr);
        Assert.Contains(_truncated, stderr);
        Assert.Contains(_text, stderr);
        Assert.Contains("img/s", stdout);
        using var db = CodeIndexFile.Open(index, [TrainingConfig.Smoke.GlobalBits, TrainingConfig.Smoke.LocalBits]);
        Assert.Equal(["a-graf1", "c-coffee", "d-apple"], db.ImageIds);
    }

    [Fact]
    public async Task EncodeSkipsBadImagesAndListsOnlyTheEncodedOnes()
    {
        string output = Path.Combine(_work, "codes.npy");
        var (code, _, stderr) = await Invoke("encode", "--images", _images, "--checkpoint", _checkpoint, "--output", output, "--batch", "2");

        Assert.Equal(0, code);
        Assert.Contains(_truncated, stderr);
        Assert.Contains(_text, stderr);
        Assert.Equal(["a-graf1", "c-coffee", "d-apple"], File.ReadAllLines(Path.Combine(_work, "codes.images.txt")));
        Assert.Equal(3, PackedCodes.ReadNpy(Path.Combine(_work, "codes.global.npy")).Count);
    }

    [Fact]
    public async Task StrictStopsAtTheFirstBadImage()
    {
        var e = await Assert.ThrowsAsync<UserInputException>(() =>
            Invoke("index", "--images", _images, "--checkpoint", _checkpoint, "--output", Path.Combine(_work, "db.mlhidx"), "--strict"));
        Assert.StartsWith(_truncated, e.Message);
        Assert.False(File.Exists(Path.Combine(_work, "db.mlhidx")));

        e = await Assert.ThrowsAsync<UserInputException>(() =>
            Invoke("encode", "--images", _images, "--checkpoint", _checkpoint, "--output", Path.Combine(_work, "codes.npy"), "--strict"));
        Assert.StartsWith(_truncated, e.Message);
        Assert.False(File.Exists(Path.Combine(_work, "codes.global.npy")));
    }
}
