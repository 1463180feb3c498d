using MultiLevelHashing.Model;
using MultiLevelHashing.Torch;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Training;

/// <summary>Trains the DSCNN on a <see cref="LandmarkDataset"/>: its training views, validated on its queries and database.</summary>
public static class DatasetTraining
{
    /// <summary><c>data/generated/features</c> under the repository (env <c>MLH_FEATURE_CACHE</c> overrides), or null outside a repository.</summary>
    public static string? DefaultFeatureCache() => RepositoryLayout.FeatureCacheDirectory();

    /// <summary>
    /// Trains with <paramref name="config"/> on <paramref name="dataset"/>'s labelled training split; the global
    /// code's mAP on its benchmark (database + cropped queries, official protocol) is the per-epoch validation.
    /// For generated mini-landmarks the training landmarks are disjoint from the benchmark's.
    /// </summary>
    public static TrainingResult Train(LandmarkDataset dataset, TrainingConfig config, TrainingRunOptions? options = null,
        IProgress<ProgressReport>? progress = null)
    {
        if (dataset.Train.Count == 0)
            throw new UserInputException($"{dataset.Root}: dataset '{dataset.Name}' has no labelled training split to train on");
        options ??= new TrainingRunOptions();
        options = options with
        {
            FeatureCacheDirectory = options.FeatureCacheDirectory ?? DefaultFeatureCache(),
            TrainingLandmarks = TrainingOverlap.TrainingLandmarkNames(dataset),
        };
        var device = options.Device ?? TorchDevice.Default();
        var images = ImageFileSource.Train(dataset);
        var labels = dataset.Train.Select(i => i.Label).ToArray();
        using var validator = new RetrievalValidator(dataset, config, options.FeatureCacheDirectory, progress);
        return DscnnTrainer.Train(config, images, labels, validator.GlobalMap, options with { Device = device }, progress);
    }
}
