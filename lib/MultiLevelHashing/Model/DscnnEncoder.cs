using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using static TorchSharp.torch;

namespace MultiLevelHashing.Model;

/// <summary>
/// Codes of a set of images: packed global and local bits (b = 1 where u &gt; 0, LSB-first within bytes, as
/// <see cref="BitPacking"/>), the relaxed values u, and, on request, the local bit maps U. Dispose releases the packed codes.
/// </summary>
public sealed class EncodedImages : IDisposable
{
    /// <summary>Global codes b_g (Kg bits each).</summary>
    public required PackedCodes Global { get; init; }

    /// <summary>Local codes b_l (Kl bits each).</summary>
    public required PackedCodes Local { get; init; }

    /// <summary>Relaxed global codes u_g, N x Kg row-major.</summary>
    public required float[] GlobalReal { get; init; }

    /// <summary>Relaxed local codes u_l, N x Kl row-major.</summary>
    public required float[] LocalReal { get; init; }

    /// <summary>Local bit maps U per image (Kl x h x w, row-major), when requested.</summary>
    public IReadOnlyList<float[]>? LocalMaps { get; init; }

    /// <summary>Spatial size (h, w) of the maps.</summary>
    public (int Height, int Width) MapSize { get; init; }

    /// <summary>Number of images.</summary>
    public int Count => Global.Count;

    /// <inheritdoc />
    public void Dispose()
    {
        Global.Dispose();
        Local.Dispose();
    }
}

/// <summary>
/// Encodes images with a trained DSCNN into the paper's two code levels (global-level and local-level hashing
/// codes). Batched, under a dispose scope per batch, so native memory stays flat however many images are encoded.
/// </summary>
public static class DscnnEncoder
{
    /// <summary>Encodes all images of <paramref name="images"/> at <paramref name="imageSize"/> in batches of <paramref name="batchSize"/>.</summary>
    public static EncodedImages Encode(DscnnModel model, IImageSource images, int imageSize, int batchSize = 16,
        bool includeMaps = false, Device? device = null, IProgress<ProgressReport>? progress = null)
    {
        var indices = Enumerable.Range(0, images.Count).ToArray();
        return Encode(model, n => images.Load(indices[n.Start..n.End], imageSize), images.Count, batchSize, includeMaps, device, progress);
    }

    /// <summary>Encodes an RGB [0, 255] batch tensor (N x 3 x H x W) in batches of <paramref name="batchSize"/>.</summary>
    public static EncodedImages Encode(DscnnModel model, Tensor rgb, int batchSize = 16, bool includeMaps = false, Device? device = null)
        => Encode(model, r => rgb[r.Start..r.End].alias(), (int)rgb.shape[0], batchSize, includeMaps, device, null);

    private static EncodedImages Encode(DscnnModel model, Func<(int Start, int End), Tensor> load, int count, int batchSize,
        bool includeMaps, Device? device, IProgress<ProgressReport>? progress)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
        var ug = new float[(long)count * model.GlobalBits];
        var ul = new float[(long)count * model.LocalBits];
        var maps = includeMaps ? new List<float[]>(count) : null;
        (int, int) mapSize = (0, 0);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            for (int start = 0; start < count; start += batchSize)
            {
                int end = Math.Min(count, start + batchSize);
                using var scope = NewDisposeScope();
                var batch = load((start, end));
                if (device is not null) batch = batch.to(device);
                var output = model.forward(batch);
                output.GlobalCodes.cpu().data<float>().CopyTo(ug.AsSpan(start * model.GlobalBits, (end - start) * model.GlobalBits));
                output.LocalCodes.cpu().data<float>().CopyTo(ul.AsSpan(start * model.LocalBits, (end - start) * model.LocalBits));
                if (maps is not null)
                {
                    var m = output.LocalMaps.cpu();
                    mapSize = ((int)m.shape[2], (int)m.shape[3]);
                    int per = (int)(m.shape[1] * m.shape[2] * m.shape[3]);
                    var all = m.data<float>().ToArray();
                    for (int i = 0; i < end - start; i++) maps.Add(all.AsSpan(i * per, per).ToArray());
                }
                progress.Report("encode", end, count, "img");
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return new EncodedImages
        {
            Global = PackedCodes.FromReal(ug, model.GlobalBits),
            Local = PackedCodes.FromReal(ul, model.LocalBits),
            GlobalReal = ug,
            LocalReal = ul,
            LocalMaps = maps,
            MapSize = mapSize,
        };
    }
}
