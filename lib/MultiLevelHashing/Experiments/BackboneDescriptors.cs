using MultiLevelHashing.Model;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Baselines;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Experiments;

/// <summary>mAP of one float-descriptor baseline.</summary>
/// <param name="Pooling">How F was pooled.</param>
/// <param name="Map">mAP (0-1) with cosine ranking, official protocol.</param>
public sealed record DescriptorResult(FeaturePooling Pooling, double Map);

/// <summary>
/// The backbone's maps F for a benchmark's database and (cropped) queries, and the float-descriptor baselines on them
/// (lib/MultiLevelHashing/README.md section 2.9: GAP, GeM, R-MAC with cosine). Maps come from <see cref="FeatureCache"/>, so the DSCNN
/// experiments reuse them.
/// </summary>
public sealed class BackboneDescriptors : IDisposable
{
    /// <summary>F of the database images (N x C x h x w).</summary>
    public Tensor Database { get; }

    /// <summary>F of the queries, each cropped to its box.</summary>
    public Tensor Queries { get; }

    /// <summary>F of the training views (what the unsupervised hashing baselines are fitted on), or null when not computed.</summary>
    public Tensor? Training { get; }

    /// <summary>The benchmark.</summary>
    public LandmarkDataset Dataset { get; }

    private BackboneDescriptors(LandmarkDataset dataset, Tensor database, Tensor queries, Tensor? training)
    {
        Dataset = dataset;
        Database = database;
        Queries = queries;
        Training = training;
    }

    /// <summary>
    /// Maps of the ImageNet ResNet18 (or <paramref name="backbone"/>) at <paramref name="imageSize"/> x imageSize, cached
    /// under <paramref name="cacheDirectory"/>; with <paramref name="withTraining"/> also those of the training views.
    /// </summary>
    public static BackboneDescriptors Compute(LandmarkDataset dataset, int imageSize, string? cacheDirectory,
        Backbone? backbone = null, string? featureHash = null, IProgress<ProgressReport>? progress = null, bool withTraining = false)
    {
        bool own = backbone is null;
        backbone ??= ResNet18Weights.LoadImageNet();
        featureHash ??= (TrainingConfig.Full with { ImageSize = imageSize }).FeatureHash();
        try
        {
            var db = FeatureCache.GetOrCompute(backbone, ImageFileSource.Database(dataset), imageSize, 16, featureHash, cacheDirectory, progress: progress);
            var q = FeatureCache.GetOrCompute(backbone, ImageFileSource.Queries(dataset), imageSize, 16, featureHash, cacheDirectory, progress: progress);
            var train = withTraining
                ? FeatureCache.GetOrCompute(backbone, ImageFileSource.Train(dataset), imageSize, 16, featureHash, cacheDirectory, progress: progress)
                : null;
            return new BackboneDescriptors(dataset, db, q, train);
        }
        finally
        {
            if (own) backbone.Dispose();
        }
    }

    /// <summary>L2-normalised descriptors (row-major, N x C) of the database and the queries.</summary>
    public (float[] Database, float[] Queries, int Dimension) Descriptors(FeaturePooling pooling)
    {
        using var scope = NewDisposeScope();
        var d = FloatDescriptors.Pool(Database, pooling);
        var q = FloatDescriptors.Pool(Queries, pooling);
        return (d.data<float>().ToArray(), q.data<float>().ToArray(), (int)d.shape[1]);
    }

    /// <summary>L2-normalised descriptors (row-major, N x C) of the training views; needs <c>withTraining</c>.</summary>
    public float[] TrainingDescriptors(FeaturePooling pooling)
    {
        if (Training is null) throw new InvalidOperationException("training maps were not computed (Compute with withTraining: true)");
        using var scope = NewDisposeScope();
        return FloatDescriptors.Pool(Training, pooling).data<float>().ToArray();
    }

    /// <summary>mAP of cosine ranking with the given pooling.</summary>
    public DescriptorResult FloatMap(FeaturePooling pooling)
    {
        var (d, q, dim) = Descriptors(pooling);
        return new DescriptorResult(pooling, RetrievalScoring.Map(Dataset, RetrievalScoring.CosineRankings(d, q, dim)));
    }

    /// <summary>
    /// mAP of LSH codes (<paramref name="bits"/> random projections, seeded) of the pooled descriptors, centred on the
    /// training views' mean as in the tables (lib/MultiLevelHashing/README.md section 2.9); needs <c>withTraining</c>.
    /// </summary>
    public double LshMap(int bits, int seed, FeaturePooling pooling = FeaturePooling.Gap)
    {
        var (d, q, dim) = Descriptors(pooling);
        var lsh = LshHashing.Create(bits, dim, seed, TrainingDescriptors(pooling));
        using var dc = lsh.Encode(d);
        using var qc = lsh.Encode(q);
        return RetrievalScoring.Map(Dataset, dc, qc);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Database.Dispose();
        Queries.Dispose();
        Training?.Dispose();
    }
}
