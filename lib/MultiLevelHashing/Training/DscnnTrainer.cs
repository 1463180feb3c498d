using MultiLevelHashing.Torch;
using System.Diagnostics;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiLevelHashing.Training;

/// <summary>How a training run is carried out (not what it computes: that is <see cref="TrainingConfig"/>).</summary>
public sealed record TrainingRunOptions
{
    /// <summary>Checkpoint written atomically after every epoch, or null.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Continue from <see cref="CheckpointPath"/> when it exists (its configuration must equal the run's).</summary>
    public bool Resume { get; init; }

    /// <summary>Stop after this many epochs are done (an interruption at an epoch boundary), or null for all.</summary>
    public int? StopAfterEpochs { get; init; }

    /// <summary>Where cached backbone maps F live (heads-only training), or null to keep them in memory only.</summary>
    public string? FeatureCacheDirectory { get; init; }

    /// <summary>Names of the landmarks trained on, recorded in the checkpoint (<see cref="CheckpointInfo.TrainingLandmarks"/>); null when unknown.</summary>
    public IReadOnlyList<string>? TrainingLandmarks { get; init; }

    /// <summary>Compute device; null picks <see cref="TorchDevice.Default"/>.</summary>
    public Device? Device { get; init; }

    /// <summary>
    /// Where experiments keep trained models keyed by configuration (<c>Experiments.Runner.TrainedModels</c>), or null
    /// to train every time. <see cref="DscnnTrainer"/> itself ignores it.
    /// </summary>
    public string? ModelCacheDirectory { get; init; }

    /// <summary>These options with the repository's feature and model caches filled in where unset.</summary>
    public TrainingRunOptions WithDefaultCaches() => this with
    {
        FeatureCacheDirectory = FeatureCacheDirectory ?? RepositoryLayout.FeatureCacheDirectory(),
        ModelCacheDirectory = ModelCacheDirectory ?? RepositoryLayout.ModelCacheDirectory(),
    };
}

/// <summary>A finished (or stopped) run: the model, its configuration and its history.</summary>
public sealed record TrainingResult(DscnnModel Model, TrainingConfig Config, TrainingHistory History, int EpochsDone) : IDisposable
{
    /// <summary>True when all configured epochs ran.</summary>
    public bool Completed => EpochsDone >= Config.Epochs;

    /// <inheritdoc />
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Siamese training of the DSCNN (lib/MultiLevelHashing/README.md section 2.5): pairs from <see cref="PairSampler"/>, both images of a pair
/// through the same network (shared weights: one forward of the batch's distinct images), loss
/// <see cref="DshLoss"/> L = L_g + beta L_l, validation mAP of the global code after every epoch, an atomic
/// checkpoint after every epoch and exact resumption. With <see cref="FreezePolicy.HeadsOnly"/> the backbone's maps
/// are computed once and cached, so steps only run the two heads. Before the first epoch the global head gets its
/// data-dependent start (<see cref="TrainingConfig.HeadInit"/>); <see cref="TrainingHistory.InitialValidationMap"/> is measured after that.
/// </summary>
public static class DscnnTrainer
{
    /// <summary>
    /// Trains on <paramref name="images"/> with landmark <paramref name="labels"/> (one per image, negative for none).
    /// <paramref name="validate"/> maps the current model to the validation mAP of its global code.
    /// </summary>
    public static TrainingResult Train(TrainingConfig config, IImageSource images, IReadOnlyList<int> labels,
        Func<DscnnModel, double>? validate = null, TrainingRunOptions? options = null, IProgress<ProgressReport>? progress = null)
    {
        config.Validate();
        options ??= new TrainingRunOptions();
        if (labels.Count != images.Count) throw new ArgumentException($"{labels.Count} labels for {images.Count} images");
        var device = options.Device ?? TorchDevice.Default();

        Checkpoint.Contents? resume = null;
        if (options.Resume && options.CheckpointPath is not null && File.Exists(options.CheckpointPath))
        {
            resume = Checkpoint.Read(options.CheckpointPath);
            if (resume.Info.Config != config)
            {
                string path = resume.Path;
                string theirs = resume.Info.Config.Hash();
                resume.Dispose();
                throw UserInputException.InFile(path, $"checkpoint was written for configuration {theirs}, this run uses {config.Hash()}; " +
                                                      "resume with the same configuration or start a new checkpoint");
            }
        }

        var model = DscnnFactory.Create(config.Architecture, config.Seed, pretrainedBackbone: true);
        HashOptimizer? optimizer = null;
        FeatureSource? features = null;
        try
        {
            var trainable = ConfigureTrainable(model, config.Freeze);
            model.to(device);
            optimizer = new HashOptimizer(trainable, config.Optimizer, config.WeightDecay, config.Momentum);
            var history = new TrainingHistory();
            int startEpoch = 0;
            if (resume is not null)
            {
                Checkpoint.LoadModel(resume, model);
                Checkpoint.LoadOptimizer(resume, optimizer);
                history = resume.Info.History;
                startEpoch = resume.Info.EpochsDone;
                resume.Dispose();
                resume = null;
            }

            features = FeatureSource.For(config, model.Backbone, images, options.FeatureCacheDirectory, device, progress);

            if (startEpoch == 0 && config.HeadInit != GlobalHeadInit.Random)
                InitializeGlobalHead(model, features, labels, config);

            if (startEpoch == 0 && validate is not null)
            {
                SetMode(model, config.Freeze, training: false);
                history = history with { InitialValidationMap = validate(model) };
            }

            var sampler = new PairSampler(labels, config.Seed, config.PositiveFraction, config.NegativeCandidates);
            int stepsPerEpoch = (config.PairsPerEpoch + config.BatchPairs - 1) / config.BatchPairs;
            long totalSteps = (long)stepsPerEpoch * config.Epochs;
            int stopAt = Math.Min(config.Epochs, options.StopAfterEpochs ?? config.Epochs);

            for (int epoch = startEpoch; epoch < stopAt; epoch++)
            {
                Func<int, int, float>? distance = null;
                if (config.NegativeCandidates > 1)
                {
                    SetMode(model, config.Freeze, training: false);
                    var codes = features.Apply(model.GlobalHead.forward, config.InferenceBatch * 8);
                    int k = config.GlobalBits;
                    distance = (a, b) =>
                    {
                        float d = 0;
                        for (int j = 0; j < k; j++) { float t = codes[a * k + j] - codes[b * k + j]; d += t * t; }
                        return d;
                    };
                }
                var pairs = sampler.Sample(epoch, config.PairsPerEpoch, distance);
                SetMode(model, config.Freeze, training: true);
                var watch = Stopwatch.StartNew();
                double sumTotal = 0, sumGlobal = 0, sumLocal = 0, lr = config.LearningRate;
                string task = $"train epoch {epoch + 1}/{config.Epochs}";
                for (int s = 0; s < stepsPerEpoch; s++)
                {
                    var batch = pairs.AsSpan(s * config.BatchPairs, Math.Min(config.BatchPairs, pairs.Length - s * config.BatchPairs)).ToArray();
                    lr = LearningRates.At(config.Schedule, config.LearningRate, optimizer.Step, totalSteps, epoch, config.Epochs);
                    var terms = Step(model, optimizer, batch, features, config, device, lr, epoch, s, stepsPerEpoch, options.CheckpointPath);
                    sumTotal += terms.Total * batch.Length;
                    sumGlobal += terms.Global * batch.Length;
                    sumLocal += terms.Local * batch.Length;
                    int done = Math.Min(pairs.Length, (s + 1) * config.BatchPairs);
                    progress.Report(task, done, pairs.Length, "pairs", $"loss {sumTotal / done:F3}");
                }
                watch.Stop();
                double? map = null;
                if (validate is not null && config.ValidateEachEpoch)
                {
                    SetMode(model, config.Freeze, training: false);
                    map = validate(model);
                }
                int n = pairs.Length;
                history = history.With(new EpochRecord(epoch + 1, sumTotal / n, sumGlobal / n, sumLocal / n, map, lr,
                    watch.Elapsed.TotalSeconds, n / Math.Max(1e-9, watch.Elapsed.TotalSeconds)));
                if (options.CheckpointPath is not null)
                    Checkpoint.Save(options.CheckpointPath, config, model, optimizer, epoch + 1, history, options.TrainingLandmarks);
            }

            SetMode(model, config.Freeze, training: false);
            int epochsDone = Math.Max(startEpoch, stopAt);
            return new TrainingResult(model, config, history, epochsDone);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            resume?.Dispose();
            optimizer?.Dispose();
            features?.Dispose();
        }
    }

    /// <summary>Sets requires_grad per the freeze policy and returns the trainable parameters (heads first, then backbone), in a fixed order.</summary>
    internal static List<Parameter> ConfigureTrainable(DscnnModel model, FreezePolicy policy)
    {
        foreach (var p in model.Backbone.parameters()) p.requires_grad = policy == FreezePolicy.All;
        if (policy == FreezePolicy.Layer4AndHeads)
            foreach (var m in model.Backbone.LastStage)
                foreach (var p in m.parameters()) p.requires_grad = true;
        var list = new List<Parameter>();
        list.AddRange(model.GlobalHead.parameters());
        list.AddRange(model.LocalHead.parameters());
        list.AddRange(model.Backbone.parameters().Where(p => p.requires_grad));
        return list;
    }

    /// <summary>
    /// Train/eval modes: heads train; frozen backbone parts run in eval mode; a pretrained backbone keeps its
    /// batch-norm statistics even where it trains.
    /// </summary>
    internal static void SetMode(DscnnModel model, FreezePolicy policy, bool training)
    {
        model.train(training);
        if (!training) return;
        var backbone = model.Backbone;
        switch (policy)
        {
            case FreezePolicy.HeadsOnly: backbone.eval(); break;
            case FreezePolicy.Layer4AndHeads:
                backbone.eval();
                foreach (var m in backbone.LastStage) m.train();
                break;
        }
        if (backbone.FreezeBatchNormStatistics)
            foreach (var m in backbone.modules().OfType<BatchNorm2d>()) m.eval();
    }

    /// <summary>Test seam: replaces the loss value seen by the guard (epoch index, step index, loss), to inject a NaN.</summary>
    internal static readonly AsyncLocal<Func<int, int, float, float>?> LossProbe = new();

    private static LossTerms Step(DscnnModel model, HashOptimizer optimizer, ImagePair[] batch, FeatureSource features,
        TrainingConfig config, Device device, double lr, int epoch, int step, int stepsPerEpoch, string? checkpointPath)
    {
        using var scope = NewDisposeScope();
        // Shared weights: the distinct images of the batch go through the network once.
        var distinct = batch.SelectMany(p => new[] { p.First, p.Second }).Distinct().ToList();
        var position = new Dictionary<int, int>();
        for (int i = 0; i < distinct.Count; i++) position[distinct[i]] = i;
        var output = model.ForwardHeads(features.Maps(distinct));
        var first = tensor(batch.Select(p => (long)position[p.First]).ToArray(), device: device);
        var second = tensor(batch.Select(p => (long)position[p.Second]).ToArray(), device: device);
        var similar = tensor(batch.Select(p => p.Similar ? 1f : 0f).ToArray(), device: device);
        var (total, lg, ll) = DshLoss.Combined(
            output.GlobalCodes.index_select(0, first), output.GlobalCodes.index_select(0, second),
            output.LocalCodes.index_select(0, first), output.LocalCodes.index_select(0, second),
            similar, config.Alpha, config.Beta, config.MarginPerBit);
        if (config.Gamma > 0) total = total + config.Gamma * DshLoss.BitIndependence(output.GlobalCodes);
        // Guard before the update (lib/MultiLevelHashing/README.md section 1.6): a NaN or infinite loss would poison the
        // weights and every later checkpoint; stop here, so the checkpoint on disk stays the last good one.
        float value = total.item<float>();
        value = LossProbe.Value?.Invoke(epoch, step, value) ?? value;
        if (!float.IsFinite(value))
            throw new TrainingDivergedException(epoch + 1, step + 1, stepsPerEpoch, value, checkpointPath);
        optimizer.ZeroGrad();
        total.backward();
        optimizer.Update(lr);
        return new LossTerms(value, lg.item<float>(), ll.item<float>());
    }

    /// <summary>Data-dependent start of the global head from the training descriptors (see <see cref="GlobalHeadInit"/>).</summary>
    private static void InitializeGlobalHead(DscnnModel model, FeatureSource features, IReadOnlyList<int> labels, TrainingConfig config)
    {
        var descriptors = TrainingDescriptors(model, features, config);
        int n = features.Count, c = descriptors.Length / n;
        var device = model.GlobalHead.Weight.device;
        if (config.HeadInit == GlobalHeadInit.Centered)
        {
            var sum = new double[c];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < c; j++) sum[j] += descriptors[(long)i * c + j];
            using var m = tensor(sum.Select(v => (float)(v / n)).ToArray());
            model.GlobalHead.CenterOn(m);
            return;
        }
        var fit = LearnedWhitening.Fit(descriptors, labels, config.GlobalBits, config.WhiteningShrinkage, config.Seed);
        using var w = tensor(fit.Weight, [fit.Bits, fit.Dimension], device: device);
        using var b = tensor(fit.Bias, device: device);
        model.GlobalHead.SetProjection(w, b);
    }

    /// <summary>The global head's input descriptors of all training images (N x C, row-major), in eval mode.</summary>
    private static float[] TrainingDescriptors(DscnnModel model, FeatureSource features, TrainingConfig config)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            return features.Apply(model.GlobalHead.Descriptor, config.InferenceBatch * 8);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}

/// <summary>
/// Training stopped because the loss became NaN or infinite. The message names the epoch and step and the checkpoint
/// that was kept (the last one written, at the end of the previous epoch), so a run can be resumed with other settings
/// from a sound state. A <see cref="UserInputException"/>: the usual cause is a setting (learning rate, margins).
/// </summary>
public sealed class TrainingDivergedException(int epoch, int step, int stepsPerEpoch, float loss, string? checkpointPath)
    : UserInputException($"training stopped: the loss is {loss} at epoch {epoch}, step {step} of {stepsPerEpoch}; " +
                         (checkpointPath is null ? "no checkpoint was being written" :
                          File.Exists(checkpointPath) ? $"the last good checkpoint {checkpointPath} is kept" : $"no checkpoint was written yet ({checkpointPath})") +
                         "; try a lower LearningRate")
{
    /// <summary>1-based epoch of the bad step.</summary>
    public int Epoch { get; } = epoch;

    /// <summary>1-based step within the epoch.</summary>
    public int Step { get; } = step;
}
