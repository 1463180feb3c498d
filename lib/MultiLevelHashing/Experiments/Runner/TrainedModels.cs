using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Torch;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Experiments.Runner;

/// <summary>
/// Trained DSCNNs cached as checkpoints (<see cref="Checkpoint"/>: versioned, checksummed, atomic) keyed by
/// <see cref="ExperimentKey"/> over the configuration, the training images and labels, the validation images and the
/// code version (lib/MultiLevelHashing/README.md section 1.7). The notebooks train the same configuration and seed
/// more than once (the 224 px Full preset of notebooks 05, 06, 07 and 09); with the cache each is trained once per
/// code version and every later user loads the identical weights and history.
/// </summary>
public static class TrainedModels
{
    /// <summary>File name prefix of cached models.</summary>
    public const string Kind = "model";

    /// <summary>The cache key of training <paramref name="config"/> on <paramref name="dataset"/> (stopping after <paramref name="stopAfterEpochs"/>, if given).</summary>
    public static string Key(LandmarkDataset dataset, TrainingConfig config, int? stopAfterEpochs = null) => ExperimentKey.Of(
        config.ToJson(),
        ImageFiles.Train(dataset).Fingerprint,
        string.Join(',', dataset.Train.Select(i => i.Label)),
        ImageFiles.Database(dataset).Fingerprint,
        ImageFiles.Queries(dataset).Fingerprint,
        stopAfterEpochs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all");

    /// <summary>
    /// <see cref="DatasetTraining.Train"/>, or the model cached for the same key under
    /// <see cref="TrainingRunOptions.ModelCacheDirectory"/>. Runs with a checkpoint path of their own, or without a
    /// cache folder, always train. A damaged cache entry is retrained and replaced.
    /// </summary>
    public static TrainingResult GetOrTrain(LandmarkDataset dataset, TrainingConfig config, TrainingRunOptions options,
        IProgress<ProgressReport>? progress = null)
    {
        if (options.ModelCacheDirectory is null || options.CheckpointPath is not null || options.Resume)
            return DatasetTraining.Train(dataset, config, options, progress);
        string path = Path.Combine(options.ModelCacheDirectory, $"{Kind}-{Key(dataset, config, options.StopAfterEpochs)}.ckpt");
        if (File.Exists(path))
        {
            try
            {
                var (model, info) = Checkpoint.LoadModel(path, options.Device ?? TorchDevice.Default());
                if (info.Config == config) return new TrainingResult(model, info.Config, info.History, info.EpochsDone);
                model.Dispose();
            }
            catch (UserInputException)
            {
                // A damaged entry is retrained below and overwritten.
            }
        }
        var trained = DatasetTraining.Train(dataset, config, options, progress);
        Directory.CreateDirectory(options.ModelCacheDirectory);
        Checkpoint.Save(path, config, trained.Model, optimizer: null, trained.EpochsDone, trained.History, TrainingOverlap.TrainingLandmarkNames(dataset));
        return trained;
    }
}
