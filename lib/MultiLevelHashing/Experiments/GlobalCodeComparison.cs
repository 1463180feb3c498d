using MultiLevelHashing.Experiments.Runner;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Experiments;

/// <summary>One seed of <see cref="GlobalCodeComparison"/>.</summary>
/// <param name="Seed">Seed of head initialisation, pair sampling and LSH projections.</param>
/// <param name="UntrainedMap">Test mAP of the global code with random heads centred on the training data (no labels used, no step taken).</param>
/// <param name="StartMap">Test mAP of the configured start (<see cref="TrainingConfig.HeadInit"/>) before the first siamese step.</param>
/// <param name="TrainedMap">Test mAP of the global code after training (last epoch).</param>
/// <param name="RandomStartTrainedMap">Test mAP after the same siamese training from the centred random start (an ablation of the start), or NaN when not run.</param>
/// <param name="LshMap">Test mAP of LSH with the same bit count on the same backbone's GAP descriptors.</param>
/// <param name="History">Loss and validation-mAP curves of the configured run.</param>
/// <param name="Seconds">Wall time of the configured training run.</param>
/// <param name="DatabaseGlobal">Relaxed global codes u_g of the database after training (N x Kg), for code statistics.</param>
/// <param name="DatabaseLocal">Relaxed local codes u_l of the database after training (N x Kl).</param>
public sealed record SeedOutcome(int Seed, double UntrainedMap, double StartMap, double TrainedMap, double RandomStartTrainedMap, double LshMap,
    TrainingHistory History, double Seconds, float[] DatabaseGlobal, float[] DatabaseLocal);

/// <summary>Result of <see cref="GlobalCodeComparison.Run"/>.</summary>
public sealed record GlobalCodeComparisonResult(string Dataset, TrainingConfig Config, double GapCosineMap, IReadOnlyList<SeedOutcome> Seeds)
{
    /// <summary>Trained DSCNN global code over seeds.</summary>
    public MeanSpread Trained => MeanSpread.Of(Seeds.Select(s => s.TrainedMap));

    /// <summary>Untrained (random, centred) heads over seeds.</summary>
    public MeanSpread Untrained => MeanSpread.Of(Seeds.Select(s => s.UntrainedMap));

    /// <summary>The configured start before any siamese step, over seeds.</summary>
    public MeanSpread Start => MeanSpread.Of(Seeds.Select(s => s.StartMap));

    /// <summary>Siamese training from the centred random start, over seeds (NaN when the ablation was not run).</summary>
    public MeanSpread RandomStartTrained => MeanSpread.Of(Seeds.Select(s => s.RandomStartTrainedMap));

    /// <summary>LSH over seeds.</summary>
    public MeanSpread Lsh => MeanSpread.Of(Seeds.Select(s => s.LshMap));
}

/// <summary>
/// What siamese training buys the global code: the Kg-bit code of the trained DSCNN against (a) the same network
/// with untrained heads and (b) LSH with Kg bits on the same backbone's GAP descriptors, on a benchmark's test
/// queries, as mean and spread over seeds. It separates what the training's two stages add: the configured start
/// (learned whitening by default) before any siamese step, and, as an ablation, the same siamese training from a
/// centred random start. Also reports the float GAP + cosine mAP as the reference ceiling.
/// </summary>
public static class GlobalCodeComparison
{
    /// <summary>
    /// Runs <paramref name="config"/> once per seed on <paramref name="dataset"/>; with <paramref name="randomStartAblation"/>
    /// (and a start other than the centred random one) also trains from the centred random start.
    /// </summary>
    public static GlobalCodeComparisonResult Run(LandmarkDataset dataset, TrainingConfig config, IReadOnlyList<int> seeds,
        TrainingRunOptions? options = null, IProgress<ProgressReport>? progress = null, bool randomStartAblation = true)
    {
        options ??= new TrainingRunOptions();
        options = options.WithDefaultCaches();
        var outcomes = new List<SeedOutcome>();
        double gap = double.NaN;
        bool resnet = config.Backbone == Model.Backbones.BackboneKind.ResNet18;
        foreach (int seed in seeds)
        {
            var seeded = config with { Seed = seed };
            var watch = System.Diagnostics.Stopwatch.StartNew();
            using var result = TrainedModels.GetOrTrain(dataset, seeded, options, progress);
            watch.Stop();
            double lsh = double.NaN;
            float[] ug, ul;
            // A trained backbone has other maps than its initialisation, so only the ImageNet maps are cached; a frozen
            // ResNet18 still is the ImageNet one and is reused, one that trained is replaced by fresh ImageNet weights.
            bool freshImageNet = resnet && seeded.BackboneTrains;
            using (var descriptors = BackboneDescriptors.Compute(dataset, seeded.ImageSize, resnet ? options.FeatureCacheDirectory : null,
                       freshImageNet ? null : result.Model.Backbone, seeded.FeatureHash(), progress, withTraining: true))
            {
                lsh = descriptors.LshMap(seeded.GlobalBits, seed);
                if (double.IsNaN(gap)) gap = descriptors.FloatMap(FeaturePooling.Gap).Map;
                using var noGrad = TorchSharp.torch.no_grad();
                using var scope = TorchSharp.torch.NewDisposeScope();
                result.Model.eval();
                var heads = result.Model.ForwardHeads(descriptors.Database);
                ug = heads.GlobalCodes.data<float>().ToArray();
                ul = heads.LocalCodes.data<float>().ToArray();
            }
            double start = result.History.InitialValidationMap ?? double.NaN;
            bool centred = seeded.HeadInit == GlobalHeadInit.Centered;
            double untrained = centred ? start : double.NaN, randomStartTrained = double.NaN;
            if (!centred && randomStartAblation)
            {
                // Same run from the centred random start: its initial mAP is the untrained heads', its last the ablation's.
                using var ablation = TrainedModels.GetOrTrain(dataset, seeded with { HeadInit = GlobalHeadInit.Centered }, options, progress);
                untrained = ablation.History.InitialValidationMap ?? double.NaN;
                randomStartTrained = ablation.History.Epochs[^1].ValidationMap ?? double.NaN;
            }
            outcomes.Add(new SeedOutcome(seed, untrained, start, result.History.Epochs[^1].ValidationMap ?? double.NaN, randomStartTrained, lsh,
                result.History, watch.Elapsed.TotalSeconds, ug, ul));
        }
        return new GlobalCodeComparisonResult(dataset.Name, config, gap, outcomes);
    }
}
