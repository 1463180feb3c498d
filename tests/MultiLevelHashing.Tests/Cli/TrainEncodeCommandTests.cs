using System.CommandLine;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Cli;

/// <summary>Commands that draw Spectre.Console progress must not run concurrently (Spectre refuses two live displays).</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleCommandCollection
{
    public const string Name = "console commands";
}

[Collection(ConsoleCommandCollection.Name)]
public class TrainEncodeCommandTests
{
    private static async Task<int> Invoke(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EncodeCommand.Create());
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    [Fact]
    public async Task TrainThenEncodeWritesNumpyCodesThatMatchTheLibrary()
    {
        string dir = TestPaths.NewTempDirectory("cli-dscnn");
        try
        {
            var tiny = MiniLandmarksConfig.Smoke with { Name = "tiny", LandmarkCount = 6, ViewsPerLandmark = 4, DistractorCount = 4, ViewSize = 96 };
            string data = Path.Combine(dir, "tiny");
            MiniLandmarksGenerator.Generate(tiny, data, TestPaths.Photos);
            string ckpt = Path.Combine(dir, "run.ckpt");
            string history = Path.Combine(dir, "history.json");
            Assert.Equal(0, await Invoke("train", "--dataset", data, "--preset", "smoke", "--epochs", "1", "--checkpoint", ckpt, "--history", history,
                "--set", "gamma=2.5", "--set", "HeadInit=Centered"));
            Assert.True(File.Exists(ckpt));
            Assert.Contains("ValidationMap", File.ReadAllText(history));

            string output = Path.Combine(dir, "out", "codes.npy");
            Assert.Equal(0, await Invoke("encode", "--dataset", data, "--checkpoint", ckpt, "--output", output, "--batch", "5"));
            var dataset = LandmarkDataset.OpenMiniLandmarks(data);
            var global = NpyFile.ReadUInt8(Path.Combine(dir, "out", "codes.global.npy"));
            var local = NpyFile.ReadUInt8(Path.Combine(dir, "out", "codes.local.npy"));
            var names = File.ReadAllLines(Path.Combine(dir, "out", "codes.images.txt"));
            Assert.Equal(dataset.Database.Count, global.Rows);
            Assert.Equal(TrainingConfig.Smoke.GlobalBits / 8, global.Columns);
            Assert.Equal(TrainingConfig.Smoke.LocalBits / 8, local.Columns);
            Assert.Equal(dataset.Database.Select(i => i.Name), names);

            // Independent path: the library's encoder on the same checkpoint; bit j of a row is byte j/8, bit j%8, 1 where u > 0.
            var (model, info) = Checkpoint.LoadModel(ckpt);
            using var _ = model;
            Assert.Equal(TrainingConfig.Smoke with { Epochs = 1, Gamma = 2.5, HeadInit = GlobalHeadInit.Centered }, info.Config);
            using var codes = DscnnEncoder.Encode(model, ImageFileSource.Database(dataset), info.Config.ImageSize);
            for (int i = 0; i < codes.Count; i++)
                for (int j = 0; j < info.Config.GlobalBits; j++)
                    Assert.Equal(codes.GlobalReal[i * info.Config.GlobalBits + j] > 0, ((global[i, j / 8] >> (j % 8)) & 1) == 1);

            // A damaged checkpoint is refused with a message naming it.
            var bytes = File.ReadAllBytes(ckpt);
            bytes[^40] ^= 1;
            string bad = Path.Combine(dir, "bad.ckpt");
            File.WriteAllBytes(bad, bytes);
            var e = await Assert.ThrowsAsync<UserInputException>(() => Invoke("encode", "--dataset", data, "--checkpoint", bad, "--output", output));
            Assert.Contains("bad.ckpt", e.Message);
            await Assert.ThrowsAsync<UserInputException>(() => Invoke("train", "--dataset", Path.Combine(dir, "missing"), "--preset", "smoke"));
            var typo = await Assert.ThrowsAsync<UserInputException>(() => Invoke("train", "--dataset", data, "--preset", "smoke", "--set", "Gama=1"));
            Assert.Contains("Gama", typo.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task RetrainingKeepsTheStoredRegionCoderOnlyWhenTheBackboneIsUnchanged()
    {
        string dir = TestPaths.NewTempDirectory("cli-retrain-coder");
        try
        {
            string data = TestPaths.TinyBenchmark(dir, landmarks: 6, viewsPerLandmark: 3, distractors: 2, viewSize: 64);
            string ckpt = Path.Combine(dir, "run.ckpt");
            var text = new StringWriter();
            Task<int> Run(params string[] args)
            {
                var root = new RootCommand();
                root.Subcommands.Add(TrainCommand.Create(text));
                root.Subcommands.Add(RegionsCommand.Create(text));
                return root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            }
            string[] headsOnly = ["train", "--dataset", data, "--preset", "smoke", "--size", "48", "--freeze", "HeadsOnly", "--checkpoint", ckpt];
            Assert.Equal(0, await Run([.. headsOnly, "--epochs", "1"]));
            Assert.Equal(0, await Run("regions", "--checkpoint", ckpt, "--dataset", data, "--bits", "16", "--size", "48"));
            var coder = Checkpoint.ReadInfo(ckpt).RegionCoder;
            Assert.NotNull(coder);

            // Training the heads again (another number of epochs): the backbone whose maps the coder codes is the same
            // seeded one, unchanged, so the coder stays.
            Assert.Equal(0, await Run([.. headsOnly, "--epochs", "2"]));
            Assert.Equal(2, Checkpoint.ReadInfo(ckpt).EpochsDone);
            Assert.Equal(coder, Checkpoint.ReadInfo(ckpt).RegionCoder);
            Assert.Contains("region coder stored in the checkpoint was kept", text.ToString());

            // Training the whole network over the same file changes the backbone: the coder is dropped, and the user told.
            Assert.Equal(0, await Run("train", "--dataset", data, "--preset", "smoke", "--size", "48", "--freeze", "All", "--epochs", "1", "--checkpoint", ckpt));
            Assert.Null(Checkpoint.ReadInfo(ckpt).RegionCoder);
            Assert.Contains("region coder stored in the checkpoint was dropped", text.ToString());
            Assert.Contains("mlh regions", text.ToString());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task SizeOptionsSetTheInputSizeOfTrainingAndOfEncoding()
    {
        // The full preset is the model of the tables (224 px), whatever size the Full training preset has.
        Assert.Equal(RunPresets.Tables(RunMode.Full).Training.Hash(), RunPresets.Command("full").Hash());
        Assert.Equal(224, RunPresets.Command("full").ImageSize);
        string dir = TestPaths.NewTempDirectory("cli-size");
        try
        {
            string data = TestPaths.TinyBenchmark(dir, landmarks: 6, viewsPerLandmark: 3, distractors: 2, viewSize: 64);
            string ckpt = Path.Combine(dir, "run.ckpt");
            Assert.Equal(0, await Invoke("train", "--dataset", data, "--preset", "smoke", "--size", "48", "--epochs", "1", "--checkpoint", ckpt));
            var (model, info) = Checkpoint.LoadModel(ckpt);
            using var _ = model;
            Assert.Equal(48, info.Config.ImageSize);

            // Encoded at 80 px instead of the 48 it was trained at: the library's encoder at 80 px gives the same bits.
            string output = Path.Combine(dir, "codes.npy");
            Assert.Equal(0, await Invoke("encode", "--dataset", data, "--checkpoint", ckpt, "--output", output, "--size", "80"));
            var dataset = LandmarkDataset.OpenMiniLandmarks(data);
            var global = NpyFile.ReadUInt8(Path.Combine(dir, "codes.global.npy"));
            using var codes = DscnnEncoder.Encode(model, ImageFileSource.Database(dataset), 80);
            for (int i = 0; i < codes.Count; i++)
                for (int j = 0; j < info.Config.GlobalBits; j++)
                    Assert.Equal(codes.GlobalReal[i * info.Config.GlobalBits + j] > 0, ((global[i, j / 8] >> (j % 8)) & 1) == 1);

            var small = await Assert.ThrowsAsync<UserInputException>(() => Invoke("encode", "--dataset", data, "--checkpoint", ckpt, "--output", output, "--size", "16"));
            Assert.Contains("--size", small.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
