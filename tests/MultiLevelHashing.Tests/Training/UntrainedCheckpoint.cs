using MultiLevelHashing.Model;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Training;

/// <summary>Checkpoints of the smoke architecture with seeded random weights, for tests of commands that read one.</summary>
internal static class UntrainedCheckpoint
{
    /// <summary>Writes the smoke preset's DSCNN, every weight drawn with <paramref name="seed"/>, to <paramref name="path"/>.</summary>
    public static string Write(string path, int seed = 0)
    {
        var config = TrainingConfig.Smoke;
        using var model = DscnnFactory.Create(config.Architecture, config.Seed, pretrainedBackbone: false);
        DscnnFactory.Initialize(model, seed, includeBackbone: true);
        Checkpoint.Save(path, config, model, null, 0, new TrainingHistory());
        return path;
    }
}
