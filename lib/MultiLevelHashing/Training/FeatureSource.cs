using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using static TorchSharp.torch;

namespace MultiLevelHashing.Training;

/// <summary>
/// The backbone maps F of an image set, as training and validation read them (lib/MultiLevelHashing/README.md
/// section 2.5): computed once and cached when the backbone is frozen (<see cref="TrainingConfig.UsesCachedMaps"/>),
/// or run through the backbone batch by batch when it trains, so gradients reach it. Callers ask for the maps of
/// some images and never need to know which.
/// </summary>
public abstract class FeatureSource : IDisposable
{
    /// <summary>Number of images.</summary>
    public abstract int Count { get; }

    /// <summary>F of images <paramref name="indices"/> (B x C x h x w) on the source's device, in the caller's dispose scope.</summary>
    public abstract Tensor Maps(IReadOnlyList<int> indices);

    /// <summary>
    /// The source <paramref name="config"/> calls for: cached maps of <paramref name="backbone"/> (from
    /// <paramref name="cacheDirectory"/> when present there) or the live backbone.
    /// </summary>
    public static FeatureSource For(TrainingConfig config, Backbone backbone, IImageSource images, string? cacheDirectory, Device device,
        IProgress<ProgressReport>? progress = null)
    {
        if (!config.UsesCachedMaps) return Live(backbone, images, config.ImageSize, device);
        var maps = FeatureCache.GetOrCompute(backbone, images, config.ImageSize, config.InferenceBatch, config.FeatureHash(),
            cacheDirectory, device, progress);
        try
        {
            return new Cached(maps.to(device).DetachFromDisposeScope());
        }
        finally
        {
            maps.Dispose();
        }
    }

    /// <summary>The maps of <paramref name="backbone"/> computed batch by batch as they are asked for, at <paramref name="imageSize"/>, never cached.</summary>
    public static FeatureSource Live(Backbone backbone, IImageSource images, int imageSize, Device device) =>
        new LiveBackbone(backbone, images, imageSize, device);

    /// <summary>
    /// <paramref name="head"/> applied to the maps of every image, in chunks of <paramref name="chunk"/> images, without
    /// gradients, as one row-major array (N x the head's output size).
    /// </summary>
    public float[] Apply(Func<Tensor, Tensor> head, int chunk)
    {
        using var noGrad = no_grad();
        var rows = new List<float>();
        for (int start = 0; start < Count; start += chunk)
        {
            int end = Math.Min(Count, start + chunk);
            using var scope = NewDisposeScope();
            rows.AddRange(head(Maps(Enumerable.Range(start, end - start).ToArray())).cpu().data<float>().ToArray());
        }
        return rows.ToArray();
    }

    /// <inheritdoc />
    public virtual void Dispose() => GC.SuppressFinalize(this);

    private sealed class Cached(Tensor maps) : FeatureSource
    {
        public override int Count => (int)maps.shape[0];

        public override Tensor Maps(IReadOnlyList<int> indices)
        {
            using var idx = tensor(indices.Select(i => (long)i).ToArray(), device: maps.device);
            return maps.index_select(0, idx);
        }

        public override void Dispose()
        {
            maps.Dispose();
            base.Dispose();
        }
    }

    private sealed class LiveBackbone(Backbone backbone, IImageSource images, int imageSize, Device device) : FeatureSource
    {
        public override int Count => images.Count;

        public override Tensor Maps(IReadOnlyList<int> indices)
        {
            using var pixels = images.Load(indices, imageSize);
            return backbone.forward(pixels.to(device));
        }
    }
}
