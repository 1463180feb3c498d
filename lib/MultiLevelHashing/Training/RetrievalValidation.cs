using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using static TorchSharp.torch;

namespace MultiLevelHashing.Training;

/// <summary>
/// The per-epoch validation of <see cref="DscnnTrainer"/>: mAP of the global code b_g on a benchmark's queries and
/// database. With a frozen backbone the maps F of both are computed once (and cached like the training maps), so an
/// epoch's validation only runs the heads.
/// </summary>
public sealed class RetrievalValidator : IDisposable
{
    private readonly LandmarkDataset _dataset;
    private readonly ImageFileSource _database, _queries;
    private readonly TrainingConfig _config;
    private readonly string? _cacheDirectory;
    private readonly IProgress<ProgressReport>? _progress;
    private FeatureSource? _databaseMaps, _queryMaps;

    /// <summary>A validator on <paramref name="dataset"/>'s database and queries at the configuration's image size.</summary>
    public RetrievalValidator(LandmarkDataset dataset, TrainingConfig config, string? featureCacheDirectory = null,
        IProgress<ProgressReport>? progress = null)
    {
        _dataset = dataset;
        _config = config;
        _cacheDirectory = featureCacheDirectory;
        _progress = progress;
        _database = ImageFileSource.Database(dataset);
        _queries = ImageFileSource.Queries(dataset);
    }

    /// <summary>Validation mAP (0-1) of the model's global code.</summary>
    public double GlobalMap(DscnnModel model)
    {
        using var db = Encode(model, _database, ref _databaseMaps);
        using var q = Encode(model, _queries, ref _queryMaps);
        return RetrievalScoring.Map(_dataset, db, q);
    }

    private PackedCodes Encode(DscnnModel model, ImageFileSource images, ref FeatureSource? kept)
    {
        var device = model.GlobalHead.Weight.device;
        // Maps of the frozen backbone are computed once and kept across epochs; a training backbone is run anew.
        var source = _config.UsesCachedMaps
            ? kept ??= FeatureSource.For(_config, model.Backbone, images, _cacheDirectory, device, _progress)
            : FeatureSource.For(_config, model.Backbone, images, null, device);
        try
        {
            return PackedCodes.FromReal(source.Apply(model.GlobalHead.forward, _config.InferenceBatch), model.GlobalBits);
        }
        finally
        {
            if (!_config.UsesCachedMaps) source.Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _databaseMaps?.Dispose();
        _queryMaps?.Dispose();
    }
}
