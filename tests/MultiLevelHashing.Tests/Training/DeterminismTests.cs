using System.Diagnostics;
using MultiLevelHashing.Data;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Model;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Tests.Reliability;
using MultiLevelHashing.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Training;

/// <summary>
/// Training is deterministic: the tables' configuration (ResNet18 at 224 px, heads on the backbone's maps, learned
/// whitening start, global and local heads), cut to a few steps, gives the same weights and the same codes bit for bit
/// when it runs twice in this process and once in another (<c>mlh train</c>), each with its own feature cache so
/// that the backbone's maps are computed anew every time.
/// </summary>
public sealed class DeterminismTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("determinism");

    public void Dispose() => Directory.Delete(_dir, true);

    private const int Epochs = 2, PairsPerEpoch = 32, BatchPairs = 16;

    // What `mlh train --preset full` trains, cut to two epochs of two steps without per-epoch validation.
    private static readonly TrainingConfig Short = RunPresets.Command("full") with
    {
        Epochs = Epochs, PairsPerEpoch = PairsPerEpoch, BatchPairs = BatchPairs, ValidateEachEpoch = false,
    };

    private static readonly string[] ShortArguments =
    [
        "--preset", "full", "--epochs", $"{Epochs}", "--set", $"PairsPerEpoch={PairsPerEpoch}", "--set", $"BatchPairs={BatchPairs}",
        "--set", "ValidateEachEpoch=false",
    ];

    private static Dictionary<string, float[]> Weights(DscnnModel model) =>
        model.state_dict().Where(kv => kv.Value.dtype == ScalarType.Float32)
            .ToDictionary(kv => kv.Key, kv => kv.Value.cpu().data<float>().ToArray());

    private static void AssertSameWeights(DscnnModel expected, DscnnModel actual, string what)
    {
        var a = Weights(expected);
        var b = Weights(actual);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var key in a.Keys)
            Assert.True(a[key].AsSpan().SequenceEqual(b[key]), $"{what}: {key} differs");
    }

    [Fact]
    public void TheSameTrainingGivesTheSameBitsInOneProcessAndInAnother()
    {
        var watch = Stopwatch.StartNew();
        string data = TestPaths.TinyBenchmark(_dir, landmarks: 6, viewsPerLandmark: 6, distractors: 2, viewSize: 96);
        var dataset = LandmarkDataset.OpenMiniLandmarks(data);
        Assert.Equal(224, Short.ImageSize);
        Assert.True(Short.LocalBits > 0 && Short.Beta > 0, "the local head trains");

        TrainingResult Train(string name) => DatasetTraining.Train(dataset, Short,
            new TrainingRunOptions { FeatureCacheDirectory = Path.Combine(_dir, name, "features"), CheckpointPath = Path.Combine(_dir, name, "run.ckpt") });
        using var first = Train("first");
        using var second = Train("second");
        output.WriteLine($"data and two runs in this process: {watch.Elapsed.TotalSeconds:F1} s");
        AssertSameWeights(first.Model, second.Model, "two runs in one process");

        var images = new ImageFileSource(ImageFiles.Of(dataset.Database.Select(i => (i.Path, (BoundingBox?)null)), dataset.Root));
        using var firstCodes = DscnnEncoder.Encode(first.Model, images, Short.ImageSize);
        using var secondCodes = DscnnEncoder.Encode(second.Model, images, Short.ImageSize);
        Assert.Equal(firstCodes.GlobalReal, secondCodes.GlobalReal);
        Assert.True(firstCodes.Global.AllWords.SequenceEqual(secondCodes.Global.AllWords), "global codes differ");
        Assert.True(firstCodes.Local.AllWords.SequenceEqual(secondCodes.Local.AllWords), "local codes differ");

        // Another process: its own start-up, thread pool and allocator state, and its own feature cache. It runs with
        // LibTorch's default intra-op thread count, as this process does: another count (OMP_NUM_THREADS=1 here) sums in
        // another order and changes the weights' low bits (lib/MultiLevelHashing/README.md section 2.5, "Determinism").
        string checkpoint = Path.Combine(_dir, "child.ckpt");
        var child = MlhProcess.Run(["train", "--dataset", data, "--checkpoint", checkpoint, .. ShortArguments], new Dictionary<string, string>
        {
            ["MLH_FEATURE_CACHE"] = Path.Combine(_dir, "child", "features"),
            ["MLH_ARTIFACTS"] = Path.Combine(_dir, "child", "artifacts"),
        });
        Assert.True(child.ExitCode == 0, child.Stderr + child.Stdout);
        Assert.Equal(Short.Hash(), Checkpoint.ReadInfo(checkpoint).Config.Hash());
        var (childModel, _) = Checkpoint.LoadModel(checkpoint);
        using (childModel) AssertSameWeights(first.Model, childModel, "this process and mlh train");
        output.WriteLine($"with the child process: {watch.Elapsed.TotalSeconds:F1} s");
    }
}
