using MultiLevelHashing.Runtime;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Training;

public class TrainingOverlapTests(SmokeBenchmarkFixture fixture) : IClassFixture<SmokeBenchmarkFixture>
{
    private static CheckpointInfo Info(IReadOnlyList<string>? landmarks) =>
        new(TrainingConfig.Smoke, 1, 0, new TrainingHistory(), BackboneStored: true) { TrainingLandmarks = landmarks };

    [Fact]
    public void AModelIsRefusedOnTheLandmarksItWasTrainedOn()
    {
        var dataset = fixture.Dataset;
        var trained = TrainingOverlap.TrainingLandmarkNames(dataset);
        Assert.NotEmpty(trained);
        // Its own benchmark: generated training and test landmarks are disjoint.
        Assert.Empty(TrainingOverlap.Overlap(Info(trained), dataset)!);
        TrainingOverlap.Ensure("model.ckpt", Info(trained), dataset);

        // A validation fold tests on training landmarks: exactly those held out overlap.
        var fold = dataset.ValidationFold(0, 2);
        var shared = TrainingOverlap.Overlap(Info(trained), fold)!;
        Assert.Equal(fold.TestLandmarks.Select(l => fold.Landmarks[l]).Order(StringComparer.Ordinal), shared);
        var e = Assert.Throws<UserInputException>(() => TrainingOverlap.Ensure("model.ckpt", Info(trained), fold));
        Assert.Contains("model.ckpt", e.Message);
        Assert.Contains(shared[0], e.Message);
        Assert.Contains("--allow-training-overlap", e.Message);

        // Older checkpoints do not say what they were trained on: nothing to check.
        Assert.Null(TrainingOverlap.Overlap(Info(null), fold));
        TrainingOverlap.Ensure("old.ckpt", Info(null), fold);
    }
}
