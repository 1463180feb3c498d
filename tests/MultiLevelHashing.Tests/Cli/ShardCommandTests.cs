using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Cli;

/// <summary>
/// <c>mlh encode --shard</c> and <c>mlh index</c> on a shared cache, with an unreadable image among the others: two
/// shards and a joining run write the bytes of a run without a cache, the codes are the library encoder's (one image
/// per batch, so chunking cannot change them), and <c>mlh index</c> on the same cache encodes nothing.
/// </summary>
[Collection(ConsoleCommandCollection.Name)]
public sealed class ShardCommandTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("shard-cli");

    public void Dispose() => Directory.Delete(_dir, true);

    private static Task<(int Code, string Stdout, string Stderr)> Invoke(params string[] args) => BadImageCommandTests.Invoke(args);

    [Fact]
    public async Task ShardsAndAJoiningRunWriteTheBytesOfARunWithoutCache()
    {
        var f = LandmarkFixture.Create(Path.Combine(_dir, "data"), distractors: 0);
        string images = f.OxfordImages;
        File.WriteAllBytes(Path.Combine(images, "balliol_bad.jpg"), [0xFF, 0xD8, 0xFF, 0x00]);
        var (ckpt, config) = BenchmarkCommandTests.SmokeCheckpoint(_dir);
        string cache = Path.Combine(_dir, "cache");
        string[] Common(params string[] rest) => ["--images", images, "--checkpoint", ckpt, "--batch", "1", "--chunk", "3", .. rest];

        var single = await Invoke(["encode", .. Common("--output", Path.Combine(_dir, "single", "codes.npy"))]);
        Assert.Equal(0, single.Code);
        Assert.Contains("balliol_bad", single.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_dir, "single", "codes.chunks"))); // the private cache is removed

        Assert.Equal(0, (await Invoke(["encode", .. Common("--cache", cache, "--shard", "1/2")])).Code);
        var dry = await Invoke(["encode", .. Common("--cache", cache, "--shard", "0/2", "--dry-run")]);
        Assert.Contains("shard 0/2 of images", dry.Stdout);
        Assert.DoesNotContain(") stored", dry.Stdout);
        Assert.Equal(0, (await Invoke(["encode", .. Common("--cache", cache, "--shard", "0/2")])).Code);
        var joined = await Invoke(["encode", .. Common("--cache", cache, "--output", Path.Combine(_dir, "joined", "codes.npy"))]);
        Assert.Equal(0, joined.Code);
        Assert.Contains("nothing encoded", joined.Stdout);
        Assert.Contains("balliol_bad", joined.Stderr);
        foreach (string file in new[] { "codes.global.npy", "codes.local.npy", "codes.images.txt" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "single", file)), File.ReadAllBytes(Path.Combine(_dir, "joined", file)));

        // The independent truth: the library encoder over the readable images in one go, one image per batch.
        var readable = Directory.GetFiles(images).Where(p => !p.Contains("balliol_bad")).Order(StringComparer.Ordinal).ToList();
        var (model, _) = Checkpoint.LoadModel(ckpt);
        using (model)
        using (var truth = DscnnEncoder.Encode(model, new ImageFileSource(ImageFiles.Of(readable, images)), config.ImageSize, batchSize: 1))
        {
            Assert.Equal(truth.Global.ToArray().Data, NpyFile.ReadUInt8(Path.Combine(_dir, "joined", "codes.global.npy")).Data);
            Assert.Equal(truth.Local.ToArray().Data, NpyFile.ReadUInt8(Path.Combine(_dir, "joined", "codes.local.npy")).Data);
        }
        Assert.Equal(readable.Select(Path.GetFileNameWithoutExtension), File.ReadAllLines(Path.Combine(_dir, "joined", "codes.images.txt")));

        // mlh index on the same cache encodes nothing and holds the same codes.
        string index = Path.Combine(_dir, "db.mlhidx");
        var indexed = await Invoke(["index", .. Common("--cache", cache, "--output", index)]);
        Assert.Equal(0, indexed.Code);
        Assert.Contains("nothing encoded", indexed.Stdout);
        using var db = CodeIndexFile.Open(index, [config.GlobalBits, config.LocalBits]);
        Assert.Equal(readable.Select(Path.GetFileNameWithoutExtension), db.ImageIds);
        Assert.Equal(NpyFile.ReadUInt8(Path.Combine(_dir, "joined", "codes.local.npy")).Data, db.Levels[1].ToArray().Data);
    }

    [Fact]
    public async Task AShardWithoutACacheOrAnOutputIsRefused()
    {
        var (ckpt, _) = BenchmarkCommandTests.SmokeCheckpoint(_dir);
        var e1 = await Assert.ThrowsAsync<MultiLevelHashing.Runtime.UserInputException>(() =>
            Invoke("encode", "--images", _dir, "--checkpoint", ckpt, "--shard", "0/2"));
        Assert.Contains("--shard needs --cache", e1.Message);
        var e2 = await Assert.ThrowsAsync<MultiLevelHashing.Runtime.UserInputException>(() =>
            Invoke("index", "--images", _dir, "--checkpoint", ckpt));
        Assert.Contains("--output is required", e2.Message);
    }
}
