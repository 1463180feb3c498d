using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Training;

/// <summary>
/// Benchmark hygiene (lib/MultiLevelHashing/README.md section 2.11): a model must not be scored on landmarks it was
/// trained on. The mini-landmarks presets split their landmarks independently, so a model trained on one preset can
/// have seen some test landmarks of another (10 of full's 20 training landmarks are test landmarks of large).
/// </summary>
public static class TrainingOverlap
{
    /// <summary>The names of <paramref name="dataset"/>'s training landmarks, as checkpoints record them.</summary>
    public static IReadOnlyList<string> TrainingLandmarkNames(LandmarkDataset dataset) =>
        [.. dataset.TrainLandmarks.Select(l => dataset.Landmarks[l]).Order(StringComparer.Ordinal)];

    /// <summary>
    /// The test landmarks of <paramref name="dataset"/> that the checkpoint was trained on (empty when none), or null
    /// when the checkpoint does not record its training landmarks.
    /// </summary>
    public static IReadOnlyList<string>? Overlap(CheckpointInfo checkpoint, LandmarkDataset dataset)
    {
        if (checkpoint.TrainingLandmarks is not { } trained) return null;
        var set = trained.ToHashSet(StringComparer.Ordinal);
        return [.. dataset.TestLandmarks.Select(l => dataset.Landmarks[l]).Where(set.Contains).Order(StringComparer.Ordinal)];
    }

    /// <summary>Refuses, naming the checkpoint file and the shared landmarks, when the checkpoint was trained on any test landmark of <paramref name="dataset"/>.</summary>
    /// <exception cref="UserInputException">The training and test landmarks overlap.</exception>
    public static void Ensure(string checkpointPath, CheckpointInfo checkpoint, LandmarkDataset dataset)
    {
        if (Overlap(checkpoint, dataset) is not { Count: > 0 } shared) return;
        int tests = dataset.TestLandmarks.Count;
        throw UserInputException.InFile(checkpointPath,
            $"the model was trained on {shared.Count} of the {tests} test landmarks of '{dataset.Name}' ({string.Join(", ", shared.Take(5))}" +
            $"{(shared.Count > 5 ? ", ..." : "")}), so its scores there would be partly on its own training data; benchmark it on a dataset " +
            "whose test landmarks it has not seen, or pass --allow-training-overlap to score it anyway");
    }
}
