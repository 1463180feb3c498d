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
        _database = ImageFileSource.Database(dataset);
        _queries = ImageFileSource.Queries(dataset);
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

    private PackedCodes Encode(DscnnModel model, ImageFileSource images, ref Tensor? features)
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
