using MultiLevelHashing.Model;
using System.Text.Json;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Tests.Model;
using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Training;

public class ConfigAndScheduleTests
{
    [Fact]
    public void ConfigRoundTripsThroughJsonAndRejectsUnknownKeys()
    {
        var config = TrainingConfig.Full with { Seed = 3, Freeze = FreezePolicy.Layer4AndHeads };
        var back = TrainingConfig.FromJson(config.ToJson());
        Assert.Equal(config, back);
        Assert.Equal(config.Hash(), back.Hash());
        Assert.NotEqual(config.Hash(), (config with { Seed = 4 }).Hash());
        string withTypo = config.ToJson().Replace("\"Epochs\"", "\"Epoch\"");
        Assert.Throws<JsonException>(() => TrainingConfig.FromJson(withTypo));
        Assert.Throws<ArgumentException>(() => (TrainingConfig.Smoke with { GlobalBits = 12 }).Validate());
        // Learned whitening keeps at most as many directions as the backbone has channels; other starts have no such limit.
        var wide = TrainingConfig.Smoke with { SmallCnnChannels = 8, GlobalBits = 16 };
        Assert.Contains(nameof(TrainingConfig.GlobalBits), Assert.Throws<ArgumentException>(() => wide.Validate()).Message);
        (wide with { HeadInit = GlobalHeadInit.Centered }).Validate();
        Assert.Throws<ArgumentException>(() => (TrainingConfig.Full with { Gamma = -1 }).Validate());
        // Overrides by name: case-insensitive names, JSON numbers and enum names; typos and misfits are refused by name.
        Assert.Equal(TrainingConfig.Full with { Gamma = 0, HeadInit = GlobalHeadInit.Centered, Epochs = 3 },
            TrainingConfig.Full.WithOverrides([("gamma", "0"), ("HeadInit", "Centered"), ("EPOCHS", " 3")]));
        Assert.Contains("Gama", Assert.Throws<ArgumentException>(() => TrainingConfig.Full.WithOverrides([("Gama", "1")])).Message);
        Assert.Equal(TrainingConfig.Full with { HeadInit = GlobalHeadInit.Random, CacheFeatures = false, LearningRate = 0.002 },
            TrainingConfig.Full.WithOverrides([("headinit", "random"), ("CacheFeatures", "False"), ("LearningRate", "2e-3")]));
        Assert.Contains("not an integer", Assert.Throws<ArgumentException>(() => TrainingConfig.Full.WithOverrides([("Epochs", "many")])).Message);
        Assert.Contains("Centered", Assert.Throws<ArgumentException>(() => TrainingConfig.Full.WithOverrides([("HeadInit", "Sideways")])).Message);
        Assert.Throws<ArgumentException>(() => TrainingConfig.Full.WithOverrides([("HeadInit", "7")]));
        Assert.Contains(nameof(TrainingConfig.Epochs), Assert.Throws<ArgumentException>(() => TrainingConfig.Full.WithOverrides([("Epochs", "0")])).Message);
        Assert.Throws<ArgumentException>(() => TrainingConfig.Preset("medium"));
        // The feature cache key ignores what does not change the backbone's maps.
        Assert.Equal(TrainingConfig.Full.FeatureHash(), (TrainingConfig.Full with { Seed = 9, Epochs = 2 }).FeatureHash());
        Assert.NotEqual(TrainingConfig.Full.FeatureHash(), (TrainingConfig.Full with { ImageSize = 224 }).FeatureHash());
    }

    [Fact]
    public void LearningRateSchedules()
    {
        Assert.Equal(0.1, LearningRates.At(LearningRateSchedule.Constant, 0.1, 50, 100, 3, 6));
        Assert.Equal(0.1, LearningRates.At(LearningRateSchedule.Cosine, 0.1, 0, 100, 0, 6), 12);
        Assert.Equal(0.1 * (0.01 + 0.99 * 0.5), LearningRates.At(LearningRateSchedule.Cosine, 0.1, 50, 100, 3, 6), 12);
        Assert.Equal(0.001, LearningRates.At(LearningRateSchedule.Cosine, 0.1, 100, 100, 5, 6), 12);
        Assert.Equal(0.1, LearningRates.At(LearningRateSchedule.Step, 0.1, 0, 100, 3, 6));
        Assert.Equal(0.01, LearningRates.At(LearningRateSchedule.Step, 0.1, 0, 100, 4, 6), 12);
    }

    [Fact]
    public void FreezePoliciesTrainExactlyTheirParameters()
    {
        var (images, labels) = SyntheticImages.Create(classes: 3, perClass: 4, size: 32, seed: 5);
        using var _ = images;
        var config = TrainingConfig.Smoke with
        {
            ImageSize = 32, SmallCnnChannels = 16, GlobalBits = 16, LocalBits = 16, Epochs = 1, PairsPerEpoch = 32, BatchPairs = 16,
            Freeze = FreezePolicy.Layer4AndHeads, CacheFeatures = false,
        };
        using var initial = DscnnFactory.Create(config.Architecture, config.Seed);
        using var trained = DscnnTrainer.Train(config, images, labels);
        var before = initial.state_dict();
        foreach (var (name, value) in trained.Model.state_dict())
        {
            if (value.dtype != ScalarType.Float32) continue;
            bool changed = !value.cpu().allclose(before[name].cpu(), rtol: 0, atol: 0);
            bool shouldTrain = name.StartsWith("global_head.") || name.StartsWith("local_head.") || name.StartsWith("backbone.last.");
            // Running statistics of the trained stage's batch norm also move (the small CNN learns them); frozen parts keep everything.
            Assert.True(changed == shouldTrain, $"{name}: changed {changed}, expected {shouldTrain}");
        }
    }
}
