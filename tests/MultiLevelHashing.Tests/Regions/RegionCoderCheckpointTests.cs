using System.Text;
using System.Text.Json.Nodes;
using MultiLevelHashing.Model;
using MultiLevelHashing.Regions;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;
using static TorchSharp.torch;
using MultiLevelHashing.Tests.Training;

namespace MultiLevelHashing.Tests.Regions;

/// <summary>The PCA-sign region coder stored in a checkpoint (lib/MultiLevelHashing/README.md sections 1.3 and 2.3).</summary>
public sealed class RegionCoderCheckpointTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("region-coder");

    public void Dispose() => Directory.Delete(_dir, true);

    private string SmokeCheckpoint(string name) => UntrainedCheckpoint.Write(Path.Combine(_dir, name));

    private static RegionHashHead Coder(int channels, int bits, int seed)
    {
        using var features = randn([6, channels, 3, 3], generator: new TorchSharp.torch.Generator((ulong)seed));
        return RegionHashHead.FromPca(features, bits);
    }

    [Fact]
    public void TheStoredCoderCodesExactlyAsTheOriginalAndKeepsTheModelAndSelection()
    {
        string path = SmokeCheckpoint("model.ckpt");
        var selection = new SelectedLocalBits(TrainingConfig.Smoke.LocalBits, [0, 3, 5], 0.1, 64, "test");
        Checkpoint.SaveSelection(path, selection);
        using var coder = Coder(24, 16, 1);
        Checkpoint.SaveRegionCoder(path, coder, new RegionCoderInfo(16, 24, 96, "random maps"));
        // Storing again replaces the coder (no duplicate tensors).
        Checkpoint.SaveRegionCoder(path, coder, new RegionCoderInfo(16, 24, 96, "random maps"));

        var info = Checkpoint.ReadInfo(path);
        Assert.Equal(new RegionCoderInfo(16, 24, 96, "random maps"), info.RegionCoder);
        Assert.Equal(selection.Bits, info.Selection!.Bits);
        var (model, _) = Checkpoint.LoadModel(path);
        model.Dispose();

        var (stored, storedInfo) = Checkpoint.LoadRegionCoder(path)!.Value;
        using (stored)
        {
            Assert.Equal(96, storedInfo.ImageSize);
            using var maps = randn([4, 24, 3, 3], generator: new TorchSharp.torch.Generator(7));
            var expected = coder.Encode(maps);
            var actual = stored.Encode(maps);
            Assert.Equal(expected.AllCodes.ToArray(), actual.AllCodes.ToArray());
            Assert.Equal(expected.AllPositions.ToArray(), actual.AllPositions.ToArray());
        }
    }

    [Fact]
    public void RewritingTheCheckpointWithTheSameBackboneKeepsTheCoderAndDropsTheSelection()
    {
        string path = SmokeCheckpoint("retrained.ckpt");
        Checkpoint.SaveSelection(path, new SelectedLocalBits(TrainingConfig.Smoke.LocalBits, [1, 2], 0.1, 64, "test"));
        using var coder = Coder(24, 16, 2);
        Checkpoint.SaveRegionCoder(path, coder, new RegionCoderInfo(16, 24, 96, "random maps"));

        // Training that leaves the backbone as it was (heads only) rewrites the checkpoint from the same backbone weights.
        UntrainedCheckpoint.Write(path, seed: 0);

        var info = Checkpoint.ReadInfo(path);
        Assert.Null(info.Selection);
        Assert.Equal(new RegionCoderInfo(16, 24, 96, "random maps"), Checkpoint.StoredRegionCoder(path));
        var (kept, _) = Checkpoint.RequireRegionCoder(path);
        using (kept)
        {
            using var maps = randn([2, 24, 3, 3], generator: new TorchSharp.torch.Generator(3));
            Assert.Equal(coder.Encode(maps).AllCodes.ToArray(), kept.Encode(maps).AllCodes.ToArray());
        }
    }

    [Fact]
    public void RewritingTheCheckpointWithAnotherBackboneDropsTheCoder()
    {
        string path = SmokeCheckpoint("changed.ckpt");
        using var coder = Coder(24, 16, 2);
        Checkpoint.SaveRegionCoder(path, coder, new RegionCoderInfo(16, 24, 96, "random maps"));

        // Training that changes the backbone: its maps are no longer the ones the coder was fitted on.
        UntrainedCheckpoint.Write(path, seed: 1);

        Assert.Null(Checkpoint.StoredRegionCoder(path));
        Assert.Null(Checkpoint.LoadRegionCoder(path));
        var (model, _) = Checkpoint.LoadModel(path);
        model.Dispose();
    }

    [Fact]
    public void AnUnreadableFileBeingReplacedIsReplacedAsBefore()
    {
        string path = Path.Combine(_dir, "garbage.ckpt");
        File.WriteAllText(path, "not a checkpoint");
        Assert.Null(Checkpoint.StoredRegionCoder(path));
        UntrainedCheckpoint.Write(path);
        Assert.Null(Checkpoint.ReadInfo(path).RegionCoder);
    }

    [Fact]
    public void CheckpointsWithoutACoderLoadAsBefore()
    {
        string path = SmokeCheckpoint("old.ckpt");
        // A checkpoint of a build that did not know region coders: its header has no RegionCoder key at all.
        byte[] payload = ChecksummedFile.ReadPayload(path, "MLHCKPT\0"u8, Checkpoint.FormatVersion, "DSCNN checkpoint");
        using (var reader = new BinaryReader(new MemoryStream(payload), Encoding.UTF8))
        {
            var header = JsonNode.Parse(reader.ReadString())!.AsObject();
            Assert.True(header.Remove("RegionCoder"));
            byte[] rest = reader.ReadBytes(payload.Length - (int)reader.BaseStream.Position);
            ChecksummedFile.Write(path, "MLHCKPT\0"u8, Checkpoint.FormatVersion, w =>
            {
                w.Write(header.ToJsonString());
                w.Write(rest);
            });
        }
        Assert.Null(Checkpoint.ReadInfo(path).RegionCoder);
        Assert.Null(Checkpoint.LoadRegionCoder(path));
        var (model, _) = Checkpoint.LoadModel(path);
        model.Dispose();
    }

    [Fact]
    public void AStoredCoderThatDoesNotMatchItsDescriptionNamesTheFile()
    {
        string path = SmokeCheckpoint("bad.ckpt");
        using var coder = Coder(24, 16, 2);
        Assert.Throws<ArgumentException>(() => Checkpoint.SaveRegionCoder(path, coder, new RegionCoderInfo(32, 24, 96, "wrong bits")));

        // Description and tensors disagree (as a hand-edited or foreign file could): refused, naming the file.
        Checkpoint.SaveRegionCoder(path, coder, new RegionCoderInfo(16, 24, 96, "random maps"));
        byte[] payload = ChecksummedFile.ReadPayload(path, "MLHCKPT\0"u8, Checkpoint.FormatVersion, "DSCNN checkpoint");
        using (var reader = new BinaryReader(new MemoryStream(payload), Encoding.UTF8))
        {
            var header = JsonNode.Parse(reader.ReadString())!.AsObject();
            header["RegionCoder"]!["Channels"] = 25;
            byte[] rest = reader.ReadBytes(payload.Length - (int)reader.BaseStream.Position);
            ChecksummedFile.Write(path, "MLHCKPT\0"u8, Checkpoint.FormatVersion, w =>
            {
                w.Write(header.ToJsonString());
                w.Write(rest);
            });
        }
        var e = Assert.Throws<UserInputException>(() => Checkpoint.LoadRegionCoder(path));
        Assert.Contains("bad.ckpt", e.Message);
        Assert.Contains("region coder", e.Message);
    }
}
