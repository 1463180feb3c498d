using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using static TorchSharp.torch;

namespace MultiLevelHashing.Training;

/// <summary>
/// Retrieval mAP of codes and descriptors on a <see cref="LandmarkDataset"/> under the official protocol
/// (<see cref="MeanAveragePrecision"/>; the dataset's default protocol: classic for Oxford-style ground truth).
/// </summary>
public static class RetrievalScoring
{
    /// <summary>
    /// Hamming ranking of the whole database for each query (ascending distance, ties by database index) with the
    /// search layer's exhaustive scan (<see cref="LinearScan"/>): stage 1 of the paper's multi-level search, used
    /// here on one code level.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<int>> HammingRankings(PackedCodes database, PackedCodes queries)
    {
        if (database.Bits != queries.Bits) throw new ArgumentException($"{queries.Bits}-bit queries against {database.Bits}-bit database");
        var knn = LinearScan.Search(database, queries, Math.Max(1, database.Count));
        var result = new IReadOnlyList<int>[queries.Count];
        for (int q = 0; q < queries.Count; q++)
            result[q] = knn.Ids.Row(q).ToArray().Where(id => id >= 0).Select(id => (int)id).ToArray();
        return result;
    }

    /// <summary>Rankings by descending cosine similarity of L2-normalised float descriptors (ties by index).</summary>
    public static IReadOnlyList<IReadOnlyList<int>> CosineRankings(float[] database, float[] queries, int dimension)
    {
        int n = database.Length / dimension, m = queries.Length / dimension;
        var result = new IReadOnlyList<int>[m];
        Parallel.For(0, m, q =>
        {
            var s = new double[n];
            var qv = queries.AsSpan(q * dimension, dimension);
            for (int i = 0; i < n; i++)
            {
                var dv = database.AsSpan(i * dimension, dimension);
                double dot = 0;
                for (int k = 0; k < dimension; k++) dot += qv[k] * dv[k];
                s[i] = dot;
            }
            result[q] = Enumerable.Range(0, n).OrderByDescending(i => s[i]).ToArray();
        });
        return result;
    }

    /// <summary>mAP (0-1) of rankings on <paramref name="dataset"/> under its default protocol.</summary>
    public static double Map(LandmarkDataset dataset, IReadOnlyList<IReadOnlyList<int>> rankings) =>
        MeanAveragePrecision.Evaluate(dataset.GroundTruth, rankings, dataset.GroundTruth.DefaultProtocol).MeanAveragePrecision;

    /// <summary>mAP of packed codes (database and queries encoded by the same hash function).</summary>
    public static double Map(LandmarkDataset dataset, PackedCodes database, PackedCodes queries) =>
        Map(dataset, HammingRankings(database, queries));
}

/// <summary>
/// The per-epoch validation of <see cref="DscnnTrainer"/>: mAP of the global code b_g on a benchmark's queries and
/// database. With a frozen backbone the maps F of both are computed once (and cached like the training maps), so an
/// epoch's validation only runs the heads.
/// </summary>
public sealed class RetrievalValidator : IDisposable
{
    private readonly LandmarkDataset _dataset;
    private readonly LandmarkImages _database, _queries;
    private readonly TrainingConfig _config;
    private readonly string? _cacheDirectory;
    private readonly Device? _device;
    private readonly IProgress<ProgressReport>? _progress;
    private Tensor? _databaseFeatures, _queryFeatures;

    /// <summary>A validator on <paramref name="dataset"/>'s database and queries at the configuration's image size.</summary>
    public RetrievalValidator(LandmarkDataset dataset, TrainingConfig config, string? featureCacheDirectory = null, Device? device = null,
        IProgress<ProgressReport>? progress = null)
    {
        _dataset = dataset;
        _config = config;
        _cacheDirectory = featureCacheDirectory;
        _device = device;
        _progress = progress;
        _database = LandmarkImages.Database(dataset);
        _queries = LandmarkImages.Queries(dataset);
    }

    /// <summary>True when the backbone stays as it is during training, so its maps can be cached.</summary>
    private bool FrozenBackbone => _config.Freeze == FreezePolicy.HeadsOnly && _config.CacheFeatures;

    /// <summary>Validation mAP (0-1) of the model's global code.</summary>
    public double GlobalMap(DscnnModel model)
    {
        using var db = Encode(model, _database, ref _databaseFeatures);
        using var q = Encode(model, _queries, ref _queryFeatures);
        return RetrievalScoring.Map(_dataset, db, q);
    }

    private PackedCodes Encode(DscnnModel model, LandmarkImages images, ref Tensor? features)
    {
        if (!FrozenBackbone)
        {
            using var codes = DscnnEncoder.Encode(model, images, _config.ImageSize, _config.InferenceBatch, device: _device);
            return PackedCodes.FromReal(codes.GlobalReal, model.GlobalBits);
        }
        features ??= FeatureCache.GetOrCompute(model.Backbone, images, _config.ImageSize, _config.InferenceBatch, _config.FeatureHash(),
            _cacheDirectory, _device, _progress);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var device = model.GlobalHead.Weight.device;
        var ug = model.GlobalHead.forward(features.to(device)).cpu();
        return PackedCodes.FromReal(ug.data<float>().ToArray(), model.GlobalBits);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _databaseFeatures?.Dispose();
        _queryFeatures?.Dispose();
    }
}
