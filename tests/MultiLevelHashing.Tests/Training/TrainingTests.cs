using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Tests.Model;
using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Training;

public class TrainingTests
{
    private static readonly TrainingConfig Tiny = TrainingConfig.Smoke with
    {
        ImageSize = 32,
        SmallCnnChannels = 16,
        GlobalBits = 16,
        LocalBits = 32,
        Epochs = 2,
        PairsPerEpoch = 48,
        BatchPairs = 16,
        NegativeCandidates = 2,
    };

    private static (TensorImageSource, int[]) Data() => SyntheticImages.Create(classes: 4, perClass: 5, size: 32, seed: 11);

    private static Dictionary<string, float[]> Weights(DscnnModel model) =>
        model.state_dict().Where(kv => kv.Value.dtype == ScalarType.Float32)
            .ToDictionary(kv => kv.Key, kv => kv.Value.cpu().data<float>().ToArray());

    [Fact]
    public void ResumedRunEqualsUninterruptedRunBitForBit()
    {
        var (images, labels) = Data();
        using var _ = images;
        string dir = TestPaths.NewTempDirectory("dscnn");
        try
        {
            using var straight = DscnnTrainer.Train(Tiny, images, labels);
            string ckpt = Path.Combine(dir, "run.ckpt");
            var options = new TrainingRunOptions { CheckpointPath = ckpt, Resume = true };
            using (var first = DscnnTrainer.Train(Tiny, images, labels, options: options with { StopAfterEpochs = 1 }))
            {
                Assert.False(first.Completed);
                Assert.Equal(1, Checkpoint.ReadInfo(ckpt).EpochsDone);
            }
            using var resumed = DscnnTrainer.Train(Tiny, images, labels, options: options);
            Assert.True(resumed.Completed);
            Assert.Equal(2, resumed.History.Epochs.Count);

            var a = Weights(straight.Model);
            var b = Weights(resumed.Model);
            Assert.Equal(a.Keys.Order(), b.Keys.Order());
            foreach (var key in a.Keys) Assert.True(a[key].AsSpan().SequenceEqual(b[key]), $"{key} differs");
            Assert.Equal(straight.History.Epochs.Select(e => e.Loss), resumed.History.Epochs.Select(e => e.Loss));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void LearnedWhiteningStartIsTheClosedFormFitOfTheTrainingDescriptors()
    {
        var (images, labels) = Data();
        using var _ = images;
        // Stopped before the first epoch: the model is exactly its start.
        using var started = DscnnTrainer.Train(Tiny, images, labels, options: new TrainingRunOptions { StopAfterEpochs = 0 });
        Assert.Empty(started.History.Epochs);
        float[] descriptors;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            started.Model.eval();
            var features = started.Model.Backbone.forward(images.Load(Enumerable.Range(0, images.Count).ToArray(), Tiny.ImageSize));
            descriptors = started.Model.GlobalHead.Descriptor(features).data<float>().ToArray();
        }
        var expected = LearnedWhitening.Fit(descriptors, labels, Tiny.GlobalBits, Tiny.WhiteningShrinkage, Tiny.Seed);
        var weight = started.Model.GlobalHead.Weight.data<float>().ToArray();
        var bias = started.Model.GlobalHead.Bias.data<float>().ToArray();
        for (int i = 0; i < weight.Length; i++) Assert.Equal(expected.Weight[i], weight[i], 4);
        for (int i = 0; i < bias.Length; i++) Assert.Equal(expected.Bias[i], bias[i], 4);

        // A random start keeps TorchSharp's initialisation: different weights.
        using var random = DscnnTrainer.Train(Tiny with { HeadInit = GlobalHeadInit.Random }, images, labels,
            options: new TrainingRunOptions { StopAfterEpochs = 0 });
        Assert.NotEqual(weight, random.Model.GlobalHead.Weight.data<float>().ToArray());
    }

    [Fact]
    public void SameSeedGivesSameCodesAndAnotherSeedDoesNot()
    {
        var (images, labels) = Data();
        using var _ = images;
        var config = Tiny with { Epochs = 1 };
        using var r1 = DscnnTrainer.Train(config, images, labels);
        using var r2 = DscnnTrainer.Train(config, images, labels);
        using var r3 = DscnnTrainer.Train(config with { Seed = 5 }, images, labels);
        using var c1 = DscnnEncoder.Encode(r1.Model, images, config.ImageSize);
        using var c2 = DscnnEncoder.Encode(r2.Model, images, config.ImageSize);
        using var c3 = DscnnEncoder.Encode(r3.Model, images, config.ImageSize);
        Assert.Equal(c1.GlobalReal, c2.GlobalReal);
        Assert.True(c1.Global.AllWords.SequenceEqual(c2.Global.AllWords));
        Assert.True(c1.Local.AllWords.SequenceEqual(c2.Local.AllWords));
        Assert.NotEqual(c1.GlobalReal, c3.GlobalReal);
    }

    [Fact]
    public void TrainingSeparatesLandmarks()
    {
        // After training, positives are closer than negatives in the global code (a learning sanity check of the
        // siamese loss alone: the bit-independence term, which trades some of this for generalisation, is off).
        var (images, labels) = Data();
        using var _ = images;
        var config = Tiny with { Epochs = 6, PairsPerEpoch = 96, Gamma = 0 };
        double validated = 0;
        using var result = DscnnTrainer.Train(config, images, labels, validate: m => ++validated);
        Assert.Equal(7, validated); // untrained + each epoch
        Assert.Equal(1.0, result.History.InitialValidationMap);
        Assert.True(result.History.Epochs[^1].Loss < result.History.Epochs[0].Loss);
        using var codes = DscnnEncoder.Encode(result.Model, images, config.ImageSize);
        double pos = 0, neg = 0; int np = 0, nn = 0;
        for (int i = 0; i < labels.Length; i++)
            for (int j = i + 1; j < labels.Length; j++)
            {
                int d = MultiLevelHashing.Search.BitPacking.Hamming(codes.Global.Code(i), codes.Global.Code(j));
                if (labels[i] == labels[j]) { pos += d; np++; } else { neg += d; nn++; }
            }
        Assert.True(pos / np < 0.5 * (neg / nn), $"mean Hamming positives {pos / np:F2}, negatives {neg / nn:F2}");
    }

    [Fact]
    public void HeadsOnlyTrainingCachesBackboneFeatures()
    {
        var (images, labels) = Data();
        using var _ = images;
        string dir = TestPaths.NewTempDirectory("dscnn");
        try
        {
            var config = Tiny with { Freeze = FreezePolicy.HeadsOnly, CacheFeatures = true, Epochs = 1 };
            var options = new TrainingRunOptions { FeatureCacheDirectory = dir };
            using var a = DscnnTrainer.Train(config, images, labels, options: options);
            var files = Directory.GetFiles(dir, "features-*.bin");
            Assert.Single(files);
            var written = File.GetLastWriteTimeUtc(files[0]);
            using var b = DscnnTrainer.Train(config, images, labels, options: options);
            Assert.Equal(written, File.GetLastWriteTimeUtc(files[0])); // read, not recomputed
            Assert.True(Weights(a.Model)["global_head.fc.weight"].AsSpan().SequenceEqual(Weights(b.Model)["global_head.fc.weight"]));
            // The frozen backbone did not move.
            using var fresh = DscnnFactory.Create(config.Architecture, config.Seed);
            Assert.True(Weights(fresh)["backbone.last.0.weight"].AsSpan().SequenceEqual(Weights(a.Model)["backbone.last.0.weight"]));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void DamagedOrMismatchedCheckpointsGiveClearErrors()
    {
        var (images, labels) = Data();
        using var _ = images;
        string dir = TestPaths.NewTempDirectory("dscnn");
        try
        {
            string ckpt = Path.Combine(dir, "a.ckpt");
            var config = Tiny with { Epochs = 1, PairsPerEpoch = 16 };
            using (DscnnTrainer.Train(config, images, labels, options: new TrainingRunOptions { CheckpointPath = ckpt })) { }
            Assert.False(Directory.GetFiles(dir, "*.tmp-*").Any());

            var (model, info) = Checkpoint.LoadModel(ckpt);
            using (model) Assert.Equal(config, info.Config);

            byte[] bytes = File.ReadAllBytes(ckpt);
            string flipped = Path.Combine(dir, "flipped.ckpt");
            var damaged = (byte[])bytes.Clone();
            damaged[bytes.Length / 2] ^= 0x40;
            File.WriteAllBytes(flipped, damaged);
            Assert.Contains("checksum", Assert.Throws<UserInputException>(() => Checkpoint.Read(flipped)).Message);

            string truncated = Path.Combine(dir, "truncated.ckpt");
            File.WriteAllBytes(truncated, bytes[..(bytes.Length - 100)]);
            Assert.Contains("truncated", Assert.Throws<UserInputException>(() => Checkpoint.Read(truncated)).Message);

            string other = Path.Combine(dir, "other.ckpt");
            File.WriteAllText(other, "hello");
            var e = Assert.Throws<UserInputException>(() => Checkpoint.Read(other));
            Assert.Contains(other, e.Message);
            Assert.Contains("not a DSCNN checkpoint", e.Message);

            string future = Path.Combine(dir, "future.ckpt");
            var v2 = (byte[])bytes.Clone();
            BitConverter.GetBytes(Checkpoint.FormatVersion + 1).CopyTo(v2, 8);
            File.WriteAllBytes(future, v2);
            Assert.Contains("format version", Assert.Throws<UserInputException>(() => Checkpoint.Read(future)).Message);

            // Resuming with another configuration, or loading into another architecture, is refused.
            var resumeOther = new TrainingRunOptions { CheckpointPath = ckpt, Resume = true };
            Assert.Contains("configuration", Assert.Throws<UserInputException>(
                () => DscnnTrainer.Train(config with { GlobalBits = 8 }, images, labels, options: resumeOther)).Message);
            using var contents = Checkpoint.Read(ckpt);
            using var bigger = new DscnnModel(new SmallCnnBackbone(16), globalBits: 24, localBits: 32);
            Assert.Contains("global_head.fc.weight", Assert.Throws<UserInputException>(() => Checkpoint.LoadModel(contents, bigger)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
