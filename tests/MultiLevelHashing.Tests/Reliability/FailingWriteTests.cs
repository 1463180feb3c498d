using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Tests.Model;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary>A stream that fails like a full disk once <paramref name="capacity"/> bytes have been written.</summary>
internal sealed class FullDiskStream(Stream inner, long capacity) : Stream
{
    private long _written;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_written + buffer.Length > capacity) throw new IOException("No space left on device");
        inner.Write(buffer);
        _written += buffer.Length;
    }

    public override void Flush() => inner.Flush();
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _written;
    public override long Position { get => _written; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>
/// A write that fails part-way (disk full) leaves the previous file byte for byte and no temporary file; a NaN loss
/// stops training with the epoch and step named and the last good checkpoint kept (lib/MultiLevelHashing/README.md section 1.6).
/// </summary>
public sealed class FailingWriteTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("diskfull");

    public void Dispose() => Directory.Delete(_dir, true);

    private void PreviousVersionSurvives(string name, Action<string> writeOld, Action<string> writeNew, long capacity)
    {
        string path = Path.Combine(_dir, name);
        writeOld(path);
        byte[] old = File.ReadAllBytes(path);
        AtomicFile.StreamWrapper.Value = s => new FullDiskStream(s, capacity);
        try
        {
            var e = Assert.ThrowsAny<IOException>(() => writeNew(path));
            Assert.Contains("No space left", e.Message);
        }
        finally { AtomicFile.StreamWrapper.Value = null; }
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Empty(AtomicFile.Temporaries(path));
        // And with space again the new version is written.
        writeNew(path);
        Assert.NotEqual(old, File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(50_000)]
    public void EveryFileKindKeepsItsPreviousVersionWhenTheDiskFills(long capacity)
    {
        var config = TrainingConfig.Smoke with { SmallCnnChannels = 16, GlobalBits = 16, LocalBits = 32 };
        using var model = DscnnFactory.Create(config.Architecture, config.Seed, pretrainedBackbone: false);
        DscnnFactory.Initialize(model, seed: 0, includeBackbone: true);
        PreviousVersionSurvives("run.ckpt",
            p => Checkpoint.Save(p, config, model, null, 1, new TrainingHistory()),
            p => Checkpoint.Save(p, config, model, null, 2, new TrainingHistory()), capacity);
        PreviousVersionSurvives("db.mlhidx",
            p => CodeIndexFile.Write(p, ["a", "b"], [SyntheticCodes.Uniform(2, 64, 1)]),
            p => CodeIndexFile.Write(p, Enumerable.Range(0, 3000).Select(i => $"image-{i}").ToList(), [SyntheticCodes.Uniform(3000, 64, 2)]), capacity);
        PreviousVersionSurvives("codes.npy",
            p => NpyFile.WriteUInt8(p, new Array2D<byte>(1, 8, new byte[8])),
            p => NpyFile.WriteUInt8(p, new Array2D<byte>(10_000, 8, Enumerable.Repeat((byte)7, 80_000).ToArray())), capacity);
        PreviousVersionSurvives("features.bin",
            p => { using var t = TorchSharp.torch.zeros(1, 2, 2, 2); FeatureCache.Write(p, t); },
            p => { using var t = TorchSharp.torch.ones(200, 16, 4, 4); FeatureCache.Write(p, t); }, capacity);
    }

    [Fact]
    public void TemporariesOfDeadWritersAreRemovedAndThoseOfLiveOnesKept()
    {
        string path = Path.Combine(_dir, "target.bin");
        // No process has the largest pid (Linux pid_max is at most 2^22); this process is alive.
        string dead = $"{path}.tmp-{int.MaxValue}-0123456789abcdef";
        string live = $"{path}.tmp-{Environment.ProcessId}-0123456789abcdef";
        File.WriteAllBytes(dead, [1, 2]);
        File.WriteAllBytes(live, [3]);
        AtomicFile.WriteAllBytes(path, [9]);
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
        Assert.Equal([9], File.ReadAllBytes(path));
    }

    private static readonly TrainingConfig Tiny = TrainingConfig.Smoke with
    {
        ImageSize = 32, SmallCnnChannels = 16, GlobalBits = 16, LocalBits = 32, Epochs = 2, PairsPerEpoch = 32, BatchPairs = 8,
    };

    [Fact]
    public void ANaNLossStopsTrainingNamingEpochAndStepAndKeepsTheLastGoodCheckpoint()
    {
        var (images, labels) = SyntheticImages.Create(classes: 4, perClass: 4, size: 32, seed: 5);
        using var _ = images;
        string ckpt = Path.Combine(_dir, "nan.ckpt");
        DscnnTrainer.LossProbe.Value = (epoch, step, loss) => epoch == 1 && step == 2 ? float.NaN : loss;
        TrainingDivergedException e;
        try
        {
            e = Assert.Throws<TrainingDivergedException>(() =>
                DscnnTrainer.Train(Tiny, images, labels, options: new TrainingRunOptions { CheckpointPath = ckpt }));
        }
        finally { DscnnTrainer.LossProbe.Value = null; }
        Assert.Equal((2, 3), (e.Epoch, e.Step));
        Assert.Contains("epoch 2, step 3 of 4", e.Message);
        Assert.Contains("NaN", e.Message);
        Assert.Contains(ckpt, e.Message);
        // The checkpoint on disk is the sound one of epoch 1, and training resumes from it.
        Assert.Equal(1, Checkpoint.ReadInfo(ckpt).EpochsDone);
        using var resumed = DscnnTrainer.Train(Tiny, images, labels, options: new TrainingRunOptions { CheckpointPath = ckpt, Resume = true });
        Assert.True(resumed.Completed);
    }

    [Fact]
    public void AnExplodingLearningRateIsCaughtBeforeItReachesACheckpoint()
    {
        var (images, labels) = SyntheticImages.Create(classes: 4, perClass: 4, size: 32, seed: 5);
        using var _ = images;
        string ckpt = Path.Combine(_dir, "explode.ckpt");
        var config = Tiny with { LearningRate = 1e30, Optimizer = OptimizerKind.Sgd, Epochs = 3 };
        var e = Assert.Throws<TrainingDivergedException>(() =>
            DscnnTrainer.Train(config, images, labels, options: new TrainingRunOptions { CheckpointPath = ckpt }));
        Assert.Matches(@"epoch \d+, step \d+ of 4", e.Message);
        // Every checkpoint written before the stop holds finite weights only.
        if (File.Exists(ckpt))
        {
            using var contents = Checkpoint.Read(ckpt);
            Assert.True(contents.Info.EpochsDone < e.Epoch);
            Assert.All(contents.Tensors.Values.Where(t => t.dtype == TorchSharp.torch.ScalarType.Float32),
                t => Assert.True(t.isfinite().all().item<bool>()));
        }
    }
}
