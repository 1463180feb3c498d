using MultiLevelHashing.Experiments.Runner;
using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Experiments;

/// <summary>One training regime of <see cref="SelfSupervisedComparison"/> at one seed.</summary>
/// <param name="Regime">What it trained on.</param>
/// <param name="Seed">Training seed (initialisation and pairs; the self-supervised views are the same for every seed).</param>
/// <param name="TestMap">mAP of the global code on the benchmark's test queries (official classic protocol).</param>
/// <param name="ValidationMap">Last epoch's validation mAP: the test benchmark for labelled training, the held-out photos' views for self-supervised training.</param>
/// <param name="Photos">Photos trained on as identities (self-supervised), or 0 for labelled training.</param>
/// <param name="TrainingImages">Training images (views) seen.</param>
/// <param name="Seconds">Wall time of the training run.</param>
public sealed record RegimeOutcome(string Regime, int Seed, double TestMap, double ValidationMap, int Photos, int TrainingImages, double Seconds);

/// <summary>Result of <see cref="SelfSupervisedComparison.Run"/>: every regime at every seed.</summary>
public sealed record SelfSupervisedComparisonResult(string Dataset, TrainingConfig Config, IReadOnlyList<RegimeOutcome> Outcomes)
{
    /// <summary>The regimes, in the order they ran.</summary>
    public IReadOnlyList<string> Regimes => [.. Outcomes.Select(o => o.Regime).Distinct()];

    /// <summary>Test mAP of <paramref name="regime"/> over seeds.</summary>
    public MeanSpread TestMap(string regime) => MeanSpread.Of(Outcomes.Where(o => o.Regime == regime).Select(o => o.TestMap));

    /// <summary>Per-seed differences of test mAP, <paramref name="regime"/> minus <paramref name="reference"/> (same seed), over seeds.</summary>
    public MeanSpread Difference(string regime, string reference) => MeanSpread.Of(
        Outcomes.Where(o => o.Regime == regime).Join(Outcomes.Where(o => o.Regime == reference), o => o.Seed, o => o.Seed, (a, b) => a.TestMap - b.TestMap));
}

/// <summary>
/// Does self-supervised training (lib/MultiLevelHashing/README.md section 2.10) help the test mAP of a mini-landmarks
/// benchmark against labelled training? Three regimes per seed, all with the same training configuration, all scored
/// on the benchmark's test queries, whose landmarks none of them trains on: labelled training on the training
/// landmarks' views; self-supervised on the training landmarks' photos (each photo its own identity, its views from
/// the view synthesizer, no landmark labels); and self-supervised on those photos plus the photos no landmark uses
/// (the reserved scenes and the clutter textures, from which the benchmark's distractors are rendered).
/// </summary>
public static class SelfSupervisedComparison
{
    /// <summary>Regime name: labelled training.</summary>
    public const string Labelled = "labelled (training landmarks' views)";
    /// <summary>Regime name: self-supervised on the training photos.</summary>
    public const string TrainingPhotos = "self-supervised: training photos";
    /// <summary>Regime name: self-supervised on the training photos plus the unused distractor photos.</summary>
    public const string WithDistractorPhotos = "self-supervised: training + unused distractor photos";

    /// <summary>
    /// The views of a run mode: in smoke mode four small views (64 px) per photo, so that the notebook runs in seconds;
    /// in full mode <see cref="SelfSupervisedViewSettings.For"/> of <paramref name="config"/>.
    /// </summary>
    public static SelfSupervisedViewSettings ViewsFor(RunMode mode, TrainingConfig config)
        => mode == RunMode.Full ? SelfSupervisedViewSettings.For(config) : new SelfSupervisedViewSettings { ViewsPerPhoto = 4, ViewSize = 64 };

    /// <summary>
    /// Runs the three regimes on <paramref name="dataset"/> (a generated mini-landmarks benchmark made from
    /// <paramref name="photoDirectory"/>) for each seed; self-supervised views go under <paramref name="viewRoot"/>.
    /// </summary>
    public static SelfSupervisedComparisonResult Run(LandmarkDataset dataset, string photoDirectory, TrainingConfig config, IReadOnlyList<int> seeds,
        string viewRoot, SelfSupervisedViewSettings? views = null, IProgress<ProgressReport>? progress = null)
    {
        views ??= SelfSupervisedViewSettings.For(config);
        var (trainingPhotos, unusedPhotos) = PhotosOf(dataset, photoDirectory);
        string tag = Path.GetFileName(dataset.Root);
        var sources = new (string Regime, SelfSupervisedPairSource Pairs)[]
        {
            (TrainingPhotos, SelfSupervisedPairSource.FromPhotos(photoDirectory, trainingPhotos, views, viewRoot, $"{tag}-training-photos", progress)),
            (WithDistractorPhotos, SelfSupervisedPairSource.FromPhotos(photoDirectory, [.. trainingPhotos, .. unusedPhotos], views, viewRoot, $"{tag}-with-distractor-photos", progress)),
        };
        var options = new TrainingRunOptions().WithDefaultCaches();
        var outcomes = new List<RegimeOutcome>();
        using var test = new RetrievalValidator(dataset, config, options.FeatureCacheDirectory, progress);
        foreach (int seed in seeds)
        {
            var seeded = config with { Seed = seed };
            var watch = System.Diagnostics.Stopwatch.StartNew();
            using (var labelled = TrainedModels.GetOrTrain(dataset, seeded, options, progress))
            {
                double map = labelled.History.Epochs[^1].ValidationMap ?? test.GlobalMap(labelled.Model);
                outcomes.Add(new RegimeOutcome(Labelled, seed, map, map, 0, dataset.Train.Count, watch.Elapsed.TotalSeconds));
            }
            foreach (var (regime, pairs) in sources)
            {
                watch.Restart();
                using var trained = SelfSupervisedTraining.Train(pairs, seeded, options, progress);
                double seconds = watch.Elapsed.TotalSeconds;
                trained.Model.eval();
                outcomes.Add(new RegimeOutcome(regime, seed, test.GlobalMap(trained.Model), trained.History.Epochs[^1].ValidationMap ?? double.NaN,
                    pairs.TrainingPhotos.Count, pairs.Views.Train.Count, seconds));
            }
        }
        return new SelfSupervisedComparisonResult(dataset.Name, config, outcomes);
    }

    /// <summary>
    /// The photos (relative to <paramref name="photoDirectory"/>) of <paramref name="dataset"/>'s training landmarks, and
    /// those of no landmark (reserved scenes and clutter); photos of test landmarks are in neither.
    /// </summary>
    public static (IReadOnlyList<string> Training, IReadOnlyList<string> Unused) PhotosOf(LandmarkDataset dataset, string photoDirectory)
    {
        string manifest = Path.Combine(dataset.Root, MiniLandmarksLayout.ManifestFileName);
        if (!File.Exists(manifest)) throw new UserInputException($"{dataset.Root}: not a generated mini-landmarks benchmark (no {MiniLandmarksLayout.ManifestFileName})");
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(manifest));
        string? extra = doc.RootElement.GetProperty("config").TryGetProperty(nameof(MiniLandmarksConfig.ExtraPhotoFolder), out var e) ? e.GetString() : null;
        var catalog = PhotoCatalog.Read(photoDirectory, extra);
        var train = dataset.TrainLandmarks.Select(i => dataset.Landmarks[i]).ToHashSet(StringComparer.Ordinal);
        var test = dataset.TestLandmarks.Select(i => dataset.Landmarks[i]).ToHashSet(StringComparer.Ordinal);
        return ([.. catalog.Where(p => train.Contains(p.Scene)).Select(p => p.File)],
                [.. catalog.Where(p => !train.Contains(p.Scene) && !test.Contains(p.Scene)).Select(p => p.File)]);
    }
}
