using MultiLevelHashing.Experiments.Runner;
using System.Diagnostics;
using MultiLevelHashing.Attention;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Experiments;

/// <summary>Localisation of one level's bits under one state of the heads, for one seed.</summary>
/// <param name="Heads">"trained", "learned-whitening start" or "untrained heads".</param>
/// <param name="Level">"global" or "local".</param>
/// <param name="Seed">Seed of the run.</param>
/// <param name="Score">Pointing game, mass inside and chance.</param>
public sealed record LocalisationRow(string Heads, string Level, int Seed, LocalisationScore Score);

/// <summary>One input size: what it costs and what it changes (notebook 05).</summary>
/// <param name="ImageSize">Input size S (images are stretched to S x S).</param>
/// <param name="GridHeight">Height h of F and of the bit maps.</param>
/// <param name="GridWidth">Width w.</param>
/// <param name="ForwardMsPerImage">Median milliseconds per image of a forward pass (backbone and heads, batches of 16, images already decoded).</param>
/// <param name="GlobalMap">Test mAP of the global code, trained at this size.</param>
/// <param name="MultiLevelAllMap">Test mAP of the multi-level search with all local bits at <paramref name="Setting"/>.</param>
/// <param name="QueryAdaptiveMap">Test mAP with query-adaptive selection at <paramref name="Setting"/>.</param>
/// <param name="Setting">The fixed multi-level setting used for both.</param>
/// <param name="Global">Localisation of the global bits.</param>
/// <param name="Local">Localisation of the local bits.</param>
public sealed record InputSizeRow(int ImageSize, int GridHeight, int GridWidth, double ForwardMsPerImage, double GlobalMap, double MultiLevelAllMap,
    double QueryAdaptiveMap, MultiLevelSetting Setting, LocalisationScore Global, LocalisationScore Local);

/// <summary>
/// Do the bits look at the object? (lib/MultiLevelHashing/README.md section 2.6.) On a benchmark whose database views
/// carry the landmark's box (mini-landmarks), the pointing game and the share of activation inside the box of both
/// levels' bits, for the trained heads, the learned-whitening start before any siamese step, and untrained heads; and
/// the cost and effect of the input size that sets the maps' resolution.
/// </summary>
public static class BitLocalisationStudy
{
    /// <summary>Localisation of both levels for the three head states, once per seed.</summary>
    public static IReadOnlyList<LocalisationRow> HeadStates(LandmarkDataset dataset, TrainingConfig config, IReadOnlyList<int> seeds,
        TrainingRunOptions? options = null, IProgress<ProgressReport>? progress = null)
    {
        options ??= new TrainingRunOptions();
        options = options.WithDefaultCaches();
        var states = new (string Name, TrainingConfig Config, int? Stop)[]
        {
            ("trained", config, null),
            ("learned-whitening start", config with { HeadInit = GlobalHeadInit.LearnedWhitening }, 0),
            ("untrained heads", config with { HeadInit = GlobalHeadInit.Centered }, 0),
        };
        var rows = new List<LocalisationRow>();
        int done = 0;
        foreach (int seed in seeds)
            foreach (var (name, stateConfig, stop) in states)
            {
                var seeded = stateConfig with { Seed = seed };
                using var trained = TrainedModels.GetOrTrain(dataset, seeded, options with { StopAfterEpochs = stop }, progress);
                var (global, local) = EncodedDataset.DatabaseLocalisation(trained.Model, seeded, dataset, seeded.ImageSize, options.FeatureCacheDirectory, progress);
                rows.Add(new LocalisationRow(name, "global", seed, global));
                rows.Add(new LocalisationRow(name, "local", seed, local));
                progress.Report("localisation", ++done, seeds.Count * states.Length, "runs", $"{name}, seed {seed}");
            }
        return rows;
    }

    /// <summary>For each input size: train at that size (one seed), then time, score and localise.</summary>
    public static IReadOnlyList<InputSizeRow> InputSizes(LandmarkDataset dataset, TrainingConfig config, IReadOnlyList<int> sizes, MultiLevelSetting setting,
        TrainingRunOptions? options = null, IProgress<ProgressReport>? progress = null)
    {
        options ??= new TrainingRunOptions();
        options = options.WithDefaultCaches();
        var rows = new List<InputSizeRow>();
        foreach (int size in sizes)
        {
            var sized = config with { ImageSize = size };
            using var trained = TrainedModels.GetOrTrain(dataset, sized, options, progress);
            using var bench = EncodedDataset.Build(trained.Model, sized, dataset, size, options.FeatureCacheDirectory, progress);
            double ms = ForwardMilliseconds(trained.Model, ImageFileSource.Queries(dataset), size);
            var grid = GridSize(trained.Model, size);
            rows.Add(new InputSizeRow(size, grid.Height, grid.Width, ms, bench.GlobalMap(), bench.Map(SelectionMethod.All, setting),
                bench.Map(SelectionMethod.QueryAdaptive, setting), setting, bench.Localisation(global: true), bench.Localisation(global: false)));
            progress.Report("input sizes", rows.Count, sizes.Count, "sizes", $"{size} px");
        }
        return rows;
    }

    private static (int Height, int Width) GridSize(DscnnModel model, int size)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var f = model.Backbone.forward(zeros([1, 3, size, size], device: model.GlobalHead.Weight.device));
        return ((int)f.shape[2], (int)f.shape[3]);
    }

    /// <summary>Median over 3 passes of the forward time per image over up to 32 decoded images, in batches of 16.</summary>
    public static double ForwardMilliseconds(DscnnModel model, IImageSource images, int size)
    {
        int n = Math.Min(32, images.Count);
        using var noGrad = no_grad();
        using var pixels = images.Load([.. Enumerable.Range(0, n)], size);
        model.eval();
        var passes = new List<double>();
        for (int pass = 0; pass < 4; pass++)
        {
            var watch = Stopwatch.StartNew();
            for (int start = 0; start < n; start += 16)
            {
                using var scope = NewDisposeScope();
                using var output = model.forward(pixels[start..Math.Min(n, start + 16)].to(model.GlobalHead.Weight.device));
            }
            if (pass > 0) passes.Add(watch.Elapsed.TotalMilliseconds / n);  // the first pass warms up
        }
        return Statistics.Median(passes);
    }
}
