using System.CommandLine;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Tests.Training;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Cli;

[Collection(ConsoleCommandCollection.Name)]
public class TrainImagesCommandTests
{
    private static async Task<int> Invoke(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(TrainCommand.Create());
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private static readonly TrainingConfig Quick = TrainingConfig.Smoke with { Epochs = 2, PairsPerEpoch = 64 };

    [Fact]
    public async Task TrainOnAnImageFolderWritesALoadableCheckpointAndResumes()
    {
        string dir = TestPaths.NewTempDirectory("cli-images");
        try
        {
            string folder = SelfSupervisedPairSourceTests.TinyFolder(dir);
            string views = Path.Combine(dir, "views");
            string ckpt = Path.Combine(dir, "run.ckpt");
            string history = Path.Combine(dir, "history.json");
            Assert.Equal(0, await Invoke("train", "--images", folder, "--views", views, "--preset", "smoke", "--epochs", "2", "--set", "PairsPerEpoch=64",
                "--checkpoint", ckpt, "--history", history));
            var (model, info) = Checkpoint.LoadModel(ckpt);
            using (model)
            {
                Assert.Equal(Quick, info.Config);
                Assert.Equal(2, info.EpochsDone);
                Assert.Equal(2, info.History.Epochs.Count);
                Assert.All(info.History.Epochs, e => Assert.InRange(e.ValidationMap!.Value, 0, 1));
                // It encodes images, like any checkpoint.
                var files = ImageFileSource.Train(SelfSupervisedPairSource.FromFolder(folder, SelfSupervisedViewSettings.For(info.Config), views).Views);
                using var codes = DscnnEncoder.Encode(model, files, info.Config.ImageSize);
                Assert.Equal(files.Count, codes.Count);
            }

            // Resume: a run stopped after one epoch and resumed to two ends with the same weights as the uninterrupted run.
            string partial = Path.Combine(dir, "partial.ckpt");
            var pairs = SelfSupervisedPairSource.FromFolder(folder, SelfSupervisedViewSettings.For(TrainingConfig.Smoke), views);
            using (SelfSupervisedTraining.Train(pairs, Quick, new TrainingRunOptions { CheckpointPath = partial, StopAfterEpochs = 1 })) { }
            Assert.Equal(1, Checkpoint.ReadInfo(partial).EpochsDone);
            Assert.Equal(0, await Invoke("train", "--images", folder, "--views", views, "--preset", "smoke", "--epochs", "2", "--set", "PairsPerEpoch=64",
                "--checkpoint", partial, "--resume"));
            var (resumed, resumedInfo) = Checkpoint.LoadModel(partial);
            var (full, _) = Checkpoint.LoadModel(ckpt);
            using (resumed)
            using (full)
            {
                Assert.Equal(2, resumedInfo.EpochsDone);
                var a = resumed.state_dict();
                var b = full.state_dict();
                foreach (var (name, t) in a)
                    Assert.True(t.equal(b[name]).all().item<bool>(), name);
            }

            // Exactly one of --dataset and --images.
            await Assert.ThrowsAsync<UserInputException>(() => Invoke("train", "--preset", "smoke"));
            await Assert.ThrowsAsync<UserInputException>(() => Invoke("train", "--images", folder, "--dataset", "mini-landmarks/smoke", "--preset", "smoke"));
            var missing = await Assert.ThrowsAsync<UserInputException>(() => Invoke("train", "--images", Path.Combine(dir, "nope"), "--views", views, "--preset", "smoke"));
            Assert.Contains("nope", missing.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
