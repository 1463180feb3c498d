using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Regions;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search.Regions;
using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Experiments;

/// <summary>What the region-level rows of the tables use (lib/MultiLevelHashing/README.md sections 2.3 and 2.7).</summary>
/// <param name="Bits">Bits per region code.</param>
/// <param name="Kernel">The selective match kernel of stage 2.</param>
/// <param name="Training">How the region head is trained on homography correspondences.</param>
/// <param name="Shortlists">Stage-1 shortlist lengths N of the multi-level rows.</param>
/// <param name="CompactRegions">Regions kept per image in the compact rows (strongest against random).</param>
/// <param name="Folds">Validation folds over the training landmarks; fold 0 chooses between the PCA-sign and the trained coder.</param>
/// <param name="VerificationDepth">How many of the multi-level search's results spatial verification checks.</param>
/// <param name="Expansion">How many top results average query expansion adds to the query.</param>
/// <param name="InvertedCandidates">Images the region-level inverted file adds to the shortest global shortlist.</param>
/// <param name="Probes">Nearest words each query region visits in the inverted file.</param>
public sealed record RegionStudyConfig(int Bits, SelectiveKernel Kernel, CorrespondenceTrainingConfig Training, IReadOnlyList<int> Shortlists,
    int CompactRegions, int Folds = 4, int VerificationDepth = 100, int Expansion = 5, int InvertedCandidates = 100, int Probes = 4)
{
    /// <summary>The spatial verification of the verified row.</summary>
    public SpatialVerifier Verifier { get; init; } = SpatialVerifier.Default;

    /// <summary>
    /// How the tables train region codes on correspondences: learned whitening with shrinkage 3, chosen on the validation
    /// fold of full mini-landmarks among 0.001, 0.03, 0.3 and 3 (lib/MultiLevelHashing/README.md section 2.5); the
    /// contrastive head validated far below it.
    /// </summary>
    public static CorrespondenceTrainingConfig TablesTraining => new(Method: RegionTrainingMethod.LearnedWhitening, Shrinkage: 3);

    /// <summary>
    /// 256-bit codes of every 7 x 7 location at 224 px, alpha = 3, tau = 0; shortlists of 100 and 500, and 100 more from
    /// the inverted file; 16 regions (512 bytes) in the compact rows; the top 100 verified, the top 5 expanding the query.
    /// </summary>
    public static RegionStudyConfig Full => new(256, SelectiveKernel.Default, TablesTraining, [100, RegionSearch.DefaultCandidates], 16);

    /// <summary>Seconds: 32-bit codes, one warp per image, short shortlists.</summary>
    public static RegionStudyConfig Smoke => new(32, SelectiveKernel.Default, TablesTraining with { WarpsPerImage = 1 }, [5, 20], 2, Folds: 2,
        VerificationDepth: 10, Expansion: 2, InvertedCandidates: 5);
}

/// <summary>Region-alone mAP (0-1) of both coders on the validation fold, and the coder kept.</summary>
/// <param name="PcaMap">The PCA-sign coder fitted on the other folds.</param>
/// <param name="TrainedMap">The head trained on the other folds' correspondences.</param>
/// <param name="Kept">"trained" or "PCA-sign".</param>
public sealed record RegionCoderChoice(double PcaMap, double TrainedMap, string Kept);

/// <summary>
/// The region coders of one benchmark (lib/MultiLevelHashing/README.md section 2.3): the unsupervised PCA-sign coder
/// fitted on the training views' location vectors, and, per seed, a head trained on homography correspondences of the
/// training views started from it. Which of the two the multi-level rows use is chosen on a validation fold of the
/// training landmarks (never the test queries). Region codes come from the ImageNet backbone's maps at the tables'
/// image size (the Full preset trains heads on exactly those maps).
/// </summary>
public sealed class RegionStudy : IDisposable
{
    private readonly BackboneDescriptors _descriptors;
    private readonly LandmarkDataset _dataset;
    private readonly RegionStudyConfig _config;
    private readonly WarpedViews _views;
    private readonly int[] _labels;

    private RegionStudy(LandmarkDataset dataset, BackboneDescriptors descriptors, RegionStudyConfig config, WarpedViews views, RegionHashHead pca,
        RegionCoderChoice choice)
    {
        _dataset = dataset;
        _descriptors = descriptors;
        _config = config;
        _views = views;
        _labels = [.. dataset.Train.Select(t => t.Label)];
        Pca = pca;
        Choice = choice;
    }

    /// <summary>The PCA-sign coder fitted on every training view.</summary>
    public RegionHashHead Pca { get; }

    /// <summary>The validation fold's verdict.</summary>
    public RegionCoderChoice Choice { get; }

    /// <summary>The configuration.</summary>
    public RegionStudyConfig Config => _config;

    /// <summary>
    /// Fits the PCA-sign coder, renders the warped training views, and runs the validation that chooses the coder.
    /// <paramref name="descriptors"/> must hold the training views' maps.
    /// </summary>
    public static RegionStudy Build(LandmarkDataset dataset, BackboneDescriptors descriptors, RegionStudyConfig config, int imageSize,
        string? featureCache, IProgress<ProgressReport>? progress = null)
    {
        var training = descriptors.Training ?? throw new ArgumentException("the region study needs the training views' maps (withTraining: true)");
        int h = (int)training.shape[2], w = (int)training.shape[3];
        using var backbone = ResNet18Weights.LoadImageNet();
        var views = CorrespondenceTraining.Warp(backbone, ImageFileSource.Train(dataset), imageSize, h, w, config.Training, progress);
        var pca = RegionHashHead.FromPca(training, config.Bits);
        var choice = Validate(dataset, training, views, config, imageSize, featureCache, backbone, progress);
        return new RegionStudy(dataset, descriptors, config, views, pca, choice);
    }

    /// <summary>
    /// The PCA-sign region codes of the database and the cropped queries alone, without the warped views, the training and
    /// the validation of <see cref="Build"/> (for figures): the coder is fitted on <paramref name="descriptors"/>'
    /// training views, as <see cref="Pca"/> is.
    /// </summary>
    public static (RegionCodes Database, RegionCodes Queries) PcaSignCodes(BackboneDescriptors descriptors, int bits)
    {
        var training = descriptors.Training ?? throw new ArgumentException("the PCA-sign coder is fitted on the training views' maps (withTraining: true)");
        using var coder = RegionHashHead.FromPca(training, bits);
        return (coder.Encode(descriptors.Database), coder.Encode(descriptors.Queries));
    }

    /// <summary>The head trained on every training view's correspondences with <paramref name="seed"/>, started from <see cref="Pca"/>.</summary>
    public RegionHashHead Trained(int seed, IProgress<ProgressReport>? progress = null) =>
        CorrespondenceTraining.Train(Pca, _descriptors.Training!, _labels, _views, _config.Training with { Seed = seed }, progress);

    /// <summary>The coder the multi-level rows use for <paramref name="seed"/>: the trained head or the PCA-sign one, as validation chose.</summary>
    public RegionHashHead Chosen(int seed, IProgress<ProgressReport>? progress = null) =>
        Choice.Kept == "trained" ? Trained(seed, progress) : Pca;

    /// <summary>The PCA-sign region codes of the database and the cropped queries, encoded once and shared by every seed's rows.</summary>
    public (RegionCodes Database, RegionCodes Queries) PcaCodes => _pcaCodes ??= Encode(Pca);

    private (RegionCodes Database, RegionCodes Queries)? _pcaCodes;

    /// <summary>Region codes of the database and the cropped queries under <paramref name="coder"/>.</summary>
    public (RegionCodes Database, RegionCodes Queries) Encode(RegionHashHead coder) =>
        (coder.Encode(_descriptors.Database), coder.Encode(_descriptors.Queries));

    /// <summary>Region codes of the trained local head's maps (sign of U at every location) for the database and queries.</summary>
    public (RegionCodes Database, RegionCodes Queries) LocalHead(DscnnModel model) =>
        (RegionFeatures.FromLocalHead(model, _descriptors.Database), RegionFeatures.FromLocalHead(model, _descriptors.Queries));

    private static RegionCoderChoice Validate(LandmarkDataset dataset, Tensor training, WarpedViews views, RegionStudyConfig config, int imageSize,
        string? featureCache, Backbone backbone, IProgress<ProgressReport>? progress)
    {
        // Fewer folds where the training landmarks cannot fill as many with two landmarks each.
        var fold = dataset.ValidationFold(0, Math.Max(2, Math.Min(config.Folds, dataset.TrainLandmarks.Count / 2)));
        var trainIndex = dataset.Train.Select((t, i) => (t.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var kept = fold.Train.Select(t => trainIndex[t.Name]).ToHashSet();
        var heldOut = fold.Database.Select(t => (long)trainIndex[t.Name]).ToArray();
        using var scope = NewDisposeScope();
        var keptIndex = tensor(kept.Order().Select(i => (long)i).ToArray());
        var fitMaps = training.index_select(0, keptIndex);
        var databaseMaps = training.index_select(0, tensor(heldOut));
        var queryMaps = FeatureCache.GetOrCompute(backbone, ImageFileSource.Queries(fold), imageSize, 16,
            (TrainingConfig.Full with { ImageSize = imageSize }).FeatureHash(), featureCache, progress: progress);
        // Only the kept landmarks' views train the head; the held-out landmarks never reach it.
        var labels = dataset.Train.Select((t, i) => kept.Contains(i) ? t.Label : -1).ToArray();
        var subset = FoldViews(views, kept);
        using var pca = RegionHashHead.FromPca(fitMaps, config.Bits);
        using var trained = CorrespondenceTraining.Train(pca, training, labels, subset, config.Training, progress);
        double Score(RegionHashHead coder)
        {
            var matcher = new RegionMatcher(coder.Encode(databaseMaps), config.Kernel);
            var rankings = matcher.RankAll(coder.Encode(queryMaps)).Select(r => (IReadOnlyList<int>)r).ToList();
            return MeanAveragePrecision.Evaluate(fold.GroundTruth, rankings, fold.GroundTruth.DefaultProtocol).MeanAveragePrecision;
        }
        double pcaMap = Score(pca), trainedMap = Score(trained);
        return new RegionCoderChoice(pcaMap, trainedMap, trainedMap > pcaMap ? "trained" : "PCA-sign");
    }

    /// <summary>The warped views whose source image is in <paramref name="kept"/> (the others' matches emptied, so they are never drawn).</summary>
    private static WarpedViews FoldViews(WarpedViews views, HashSet<int> kept) =>
        views with { Matches = [.. views.Matches.Select((m, v) => kept.Contains(views.Sources[v]) ? m : [])] };

    /// <summary>Releases the warped views and the PCA coder.</summary>
    public void Dispose()
    {
        _views.Dispose();
        Pca.Dispose();
    }
}
