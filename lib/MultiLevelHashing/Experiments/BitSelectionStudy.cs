using System.Text.Json;
using MultiLevelHashing.Experiments.Runner;
using MultiLevelHashing.Attention;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Experiments;

/// <summary>What <see cref="BitSelectionStudy"/> compares and over which grid it chooses the settings.</summary>
/// <param name="Training">Training configuration (its image size is the size of the maps and codes).</param>
/// <param name="Seeds">Seeds: every fold and the test run once per seed.</param>
/// <param name="Folds">Cross-validation folds over the training landmarks.</param>
/// <param name="Rhos">Candidate shares rho = L / Kl.</param>
/// <param name="Candidates">Candidate N.</param>
/// <param name="Lambdas">Candidate lambda.</param>
/// <param name="RandomDraws">Draws of the random-bits control per run.</param>
public sealed record BitSelectionStudyConfig(TrainingConfig Training, IReadOnlyList<int> Seeds, int Folds,
    IReadOnlyList<double> Rhos, IReadOnlyList<int> Candidates, IReadOnlyList<double> Lambdas, int RandomDraws = 3)
{
    /// <summary>The grid of the full runs.</summary>
    public static BitSelectionStudyConfig Full(TrainingConfig training) => new(training, [0, 1, 2], 4,
        [0.0625, 0.125, 0.25, 0.5], [50, 100, 200], [0.25, 0.5, 1, 2, 4]);

    /// <summary>A small grid for smoke runs.</summary>
    public static BitSelectionStudyConfig Smoke(TrainingConfig training) => new(training, [0], 2, [0.25, 0.5], [20], [0.5, 1], 2);
}

/// <summary>One method at one setting: validation mAP per fold and seed.</summary>
public sealed record SettingScore(SelectionMethod Method, MultiLevelSetting Setting, IReadOnlyList<double> Maps)
{
    /// <summary>Mean and spread over folds and seeds.</summary>
    public MeanSpread Map => MeanSpread.Of(Maps);
}

/// <summary>One method on the test benchmark at the setting cross-validation chose for it.</summary>
/// <param name="Method">Selection method.</param>
/// <param name="Chosen">The setting with the best mean validation mAP.</param>
/// <param name="Validation">Its validation mAP (folds x seeds).</param>
/// <param name="Test">Test mAP per seed (for the random control: the mean over the draws of that seed).</param>
public sealed record MethodResult(SelectionMethod Method, MultiLevelSetting Chosen, MeanSpread Validation, IReadOnlyList<double> Test)
{
    /// <summary>Mean and spread of the test mAP over seeds.</summary>
    public MeanSpread TestMap => MeanSpread.Of(Test);
}

/// <summary>Test-set numbers of one seed that need no setting: each level alone, and how the bits localise.</summary>
public sealed record SeedBaselines(int Seed, double GlobalMap, double LocalMap, LocalisationScore GlobalLocalisation, LocalisationScore LocalLocalisation,
    double[] TrainingPertinence);

/// <summary>Result of <see cref="BitSelectionStudy.Run"/>.</summary>
public sealed record BitSelectionStudyResult(string Dataset, BitSelectionStudyConfig Config, IReadOnlyList<SettingScore> Validation,
    IReadOnlyList<MethodResult> Methods, IReadOnlyList<SeedBaselines> Seeds)
{
    /// <summary>The global code alone over seeds.</summary>
    public MeanSpread GlobalMap => MeanSpread.Of(Seeds.Select(s => s.GlobalMap));

    /// <summary>The local code alone (all bits) over seeds.</summary>
    public MeanSpread LocalMap => MeanSpread.Of(Seeds.Select(s => s.LocalMap));

    /// <summary>The result of one method.</summary>
    public MethodResult this[SelectionMethod method] => Methods.Single(m => m.Method == method);
}

/// <summary>
/// Bit selection for the multi-level search, measured without touching the test set until the end
/// (lib/MultiLevelHashing/README.md sections 2.7, 2.8 and 3.4): for every method (all bits, dataset-level,
/// query-adaptive, random bits, highest-variance bits) the settings N, lambda and rho are chosen by k-fold
/// cross-validation over the training landmarks (train on k-1 folds, select from their images, score on the held-out
/// fold; the two controls keep the rho, hence the L, chosen for the query-adaptive selection); then the model trained on the whole training split is scored on the test benchmark at each method's chosen
/// setting, once per seed.
/// </summary>
public static class BitSelectionStudy
{
    private static readonly SelectionMethod[] Methods =
        [SelectionMethod.All, SelectionMethod.DatasetLevel, SelectionMethod.QueryAdaptive, SelectionMethod.Random, SelectionMethod.HighestVariance];

    /// <summary>
    /// Runs the study on <paramref name="dataset"/>, or returns its cached result (<paramref name="cache"/>, by default
    /// the repository's <see cref="ResultCache"/>; keyed by configuration, images and code version), so that the
    /// notebooks after 06 reuse its choice of settings without repeating the cross-validation.
    /// </summary>
    public static BitSelectionStudyResult Run(LandmarkDataset dataset, BitSelectionStudyConfig config, TrainingRunOptions? options = null,
        IProgress<ProgressReport>? progress = null, ResultCache? cache = null)
    {
        cache ??= ResultCache.Default();
        string key = ExperimentKey.Of(JsonSerializer.Serialize(config, ResultCache.JsonOptions), TrainedModels.Key(dataset, config.Training));
        return cache.GetOrCompute("bit-selection-study", key, () => Compute(dataset, config, options, progress));
    }

    private static BitSelectionStudyResult Compute(LandmarkDataset dataset, BitSelectionStudyConfig config, TrainingRunOptions? options,
        IProgress<ProgressReport>? progress)
    {
        options ??= new TrainingRunOptions();
        options = options.WithDefaultCaches();
        var grid = Grid(config).ToList();
        var scores = grid.ToDictionary(g => g, _ => new List<double>());
        int runs = config.Folds * config.Seeds.Count + config.Seeds.Count, done = 0;
        for (int fold = 0; fold < config.Folds; fold++)
        {
            var split = dataset.ValidationFold(fold, config.Folds);
            foreach (int seed in config.Seeds)
            {
                using var bench = Encode(split, config.Training with { Seed = seed }, options);
                foreach (var g in grid) scores[g].Add(Score(bench, g.Method, g.Setting, seed, config.RandomDraws));
                progress.Report("bit selection", ++done, runs, "runs", $"{split.Name} seed {seed}");
            }
        }
        var validation = grid.Select(g => new SettingScore(g.Method, g.Setting, scores[g])).ToList();
        SettingScore Best(IEnumerable<SettingScore> scores) => scores.Aggregate((a, b) => b.Map.Mean > a.Map.Mean ? b : a);
        var chosen = Methods.Where(m => !IsControl(m)).ToDictionary(m => m, m => Best(validation.Where(v => v.Method == m)));
        // The controls keep the number of bits L of the query-adaptive selection, so that they answer "are these L bits
        // better than other L bits?"; only N and lambda are chosen for them.
        double controlRho = chosen[SelectionMethod.QueryAdaptive].Setting.Rho;
        foreach (var control in Methods.Where(IsControl))
            chosen[control] = Best(validation.Where(v => v.Method == control && v.Setting.Rho == controlRho));

        var test = Methods.ToDictionary(m => m, _ => new List<double>());
        var baselines = new List<SeedBaselines>();
        foreach (int seed in config.Seeds)
        {
            using var bench = Encode(dataset, config.Training with { Seed = seed }, options);
            foreach (var m in Methods) test[m].Add(Score(bench, m, chosen[m].Setting, seed, config.RandomDraws));
            baselines.Add(new SeedBaselines(seed, bench.GlobalMap(), bench.LocalMap(), bench.Localisation(global: true),
                bench.Localisation(global: false), bench.TrainingPertinence()));
            progress.Report("bit selection", ++done, runs, "runs", $"test seed {seed}");
        }
        var methods = Methods.Select(m => new MethodResult(m, chosen[m].Setting, chosen[m].Map, test[m])).ToList();
        return new BitSelectionStudyResult(dataset.Name, config, validation, methods, baselines);
    }

    /// <summary>Trains <paramref name="config"/> on <paramref name="dataset"/>'s training split and encodes the dataset with it (<see cref="EncodedDataset"/>).</summary>
    public static EncodedDataset Encode(LandmarkDataset dataset, TrainingConfig config, TrainingRunOptions options, IProgress<ProgressReport>? progress = null)
    {
        using var trained = TrainedModels.GetOrTrain(dataset, config, options, progress);
        return EncodedDataset.Build(trained.Model, config, dataset, config.ImageSize, options.FeatureCacheDirectory, progress);
    }

    private static bool IsControl(SelectionMethod method) => method is SelectionMethod.Random or SelectionMethod.HighestVariance;

    private static double Score(EncodedDataset bench, SelectionMethod method, MultiLevelSetting setting, int seed, int randomDraws) =>
        method == SelectionMethod.Random
            ? Enumerable.Range(0, randomDraws).Average(d => bench.Map(method, setting, seed * 1000 + d))
            : bench.Map(method, setting, seed);

    private static IEnumerable<(SelectionMethod Method, MultiLevelSetting Setting)> Grid(BitSelectionStudyConfig config)
    {
        foreach (var method in Methods)
            foreach (int n in config.Candidates)
                foreach (double lambda in config.Lambdas)
                    foreach (double rho in method == SelectionMethod.All ? [1.0] : config.Rhos)
                        yield return (method, new MultiLevelSetting(n, lambda, rho));
    }
}
