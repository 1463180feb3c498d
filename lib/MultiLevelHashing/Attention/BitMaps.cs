using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Attention;

/// <summary>
/// Per-bit activation maps of a set of images on the grid of the feature map F (lib/MultiLevelHashing/README.md
/// section 2.6): <see cref="Count"/> images x <see cref="Bits"/> bits x <see cref="Height"/> x <see cref="Width"/>,
/// row-major. A map's grid covers the image region the encoder saw (the whole image, or a query's crop).
/// </summary>
public sealed class BitMaps
{
    /// <summary>Maps from a row-major array of <paramref name="count"/> x <paramref name="bits"/> x <paramref name="height"/> x <paramref name="width"/> values.</summary>
    public BitMaps(float[] values, int count, int bits, int height, int width)
    {
        if (count < 0 || bits < 1 || height < 1 || width < 1)
            throw new ArgumentOutOfRangeException(nameof(count), $"invalid map shape {count} x {bits} x {height} x {width}");
        if (values.LongLength != (long)count * bits * height * width)
            throw new ArgumentException($"{values.LongLength} values do not fill {count} x {bits} x {height} x {width} maps", nameof(values));
        Values = values; Count = count; Bits = bits; Height = height; Width = width;
    }

    /// <summary>The values, row-major.</summary>
    public float[] Values { get; }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>Bits per image (Kg or Kl).</summary>
    public int Bits { get; }

    /// <summary>Grid height h.</summary>
    public int Height { get; }

    /// <summary>Grid width w.</summary>
    public int Width { get; }

    /// <summary>Positions per map (h x w).</summary>
    public int Positions => Height * Width;

    /// <summary>The h x w map of bit <paramref name="bit"/> of image <paramref name="image"/>, row-major.</summary>
    public ReadOnlySpan<float> Map(int image, int bit)
    {
        if ((uint)image >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(image));
        if ((uint)bit >= (uint)Bits) throw new ArgumentOutOfRangeException(nameof(bit));
        return Values.AsSpan((int)(((long)image * Bits + bit) * Positions), Positions);
    }

    /// <summary>Copies an N x K x h x w float tensor to the CPU.</summary>
    public static BitMaps FromTensor(Tensor maps)
    {
        if (maps.dim() != 4) throw new ArgumentException($"maps must be N x K x h x w, got [{string.Join(", ", maps.shape)}]", nameof(maps));
        using var cpu = maps.detach().to(ScalarType.Float32).cpu().contiguous();
        return new BitMaps(cpu.data<float>().ToArray(), (int)maps.shape[0], (int)maps.shape[1], (int)maps.shape[2], (int)maps.shape[3]);
    }

    /// <summary>Concatenates map sets of the same bits and grid along the images.</summary>
    public static BitMaps Concat(IReadOnlyList<BitMaps> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to concatenate", nameof(parts));
        var first = parts[0];
        if (parts.Any(p => p.Bits != first.Bits || p.Height != first.Height || p.Width != first.Width))
            throw new ArgumentException("map sets differ in bits or grid size", nameof(parts));
        return new BitMaps([.. parts.SelectMany(p => p.Values)], parts.Sum(p => p.Count), first.Bits, first.Height, first.Width);
    }
}

/// <summary>The two levels' maps of the same images: global class activation maps and local maps U.</summary>
/// <param name="Global">CAM_k of every global bit (Kg maps per image).</param>
/// <param name="Local">U_k of every local bit (Kl maps per image).</param>
/// <param name="GlobalCodes">Relaxed global codes u_g (N x Kg, row-major).</param>
/// <param name="LocalCodes">Relaxed local codes u_l (N x Kl, row-major).</param>
public sealed record LevelMaps(BitMaps Global, BitMaps Local, float[] GlobalCodes, float[] LocalCodes)
{
    /// <summary>Number of images.</summary>
    public int Count => Local.Count;
}

/// <summary>
/// Bit activation maps of the DSCNN (paper: "the visual attention inside hash bits is analysed through activation maps
/// of deep convolutional features"; lib/MultiLevelHashing/README.md section 2.6). A local bit's map is its own map U_k;
/// a global bit's map is its class activation map CAM_k = s * sum_c W[k, c] F_c, exact for average pooling: the mean of
/// CAM_k over positions plus the bias b_k is the bit's pre-activation.
/// </summary>
public static class BitActivationMaps
{
    /// <summary>
    /// Class activation maps of every global bit (N x Kg x h x w) for maps F (N x C x h x w). With the normalised
    /// descriptor every position is scaled by the image's factor s = sqrt(C) / ||GAP(F)||, so the identity stays exact.
    /// </summary>
    /// <exception cref="NotSupportedException">The head pools with GeM, which has no exact decomposition over positions.</exception>
    public static Tensor GlobalCams(GlobalHashHead head, Tensor features)
    {
        if (head.Pooling != FeaturePooling.Gap)
            throw new NotSupportedException($"class activation maps are exact only for average pooling; this head pools with {head.Pooling}");
        using var scope = NewDisposeScope();
        var cams = einsum("kc,nchw->nkhw", head.Weight, features);
        if (head.Normalize)
        {
            // Same factor as GlobalHashHead.Descriptor: normalize() divides by max(||x||, 1e-12), then scales by sqrt(C).
            var pooled = features.mean([2, 3]);
            var factor = pooled.norm(1).clamp_min(1e-12).reciprocal() * Math.Sqrt(features.shape[1]);
            cams = cams * factor.reshape(-1, 1, 1, 1);
        }
        return cams.MoveToOuterDisposeScope();
    }

    /// <summary>Codes and maps of both levels for maps F already computed (no gradients).</summary>
    public static LevelMaps FromFeatures(DscnnModel model, Tensor features)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var heads = model.ForwardHeads(features);
            return new LevelMaps(BitMaps.FromTensor(GlobalCams(model.GlobalHead, features)), BitMaps.FromTensor(heads.LocalMaps),
                heads.GlobalCodes.cpu().data<float>().ToArray(), heads.LocalCodes.cpu().data<float>().ToArray());
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    /// <summary>Codes and maps of both levels for every image of <paramref name="source"/>, in chunks of <paramref name="chunk"/> images.</summary>
    public static LevelMaps FromSource(DscnnModel model, FeatureSource source, int chunk = 64, IProgress<ProgressReport>? progress = null)
    {
        var parts = new List<LevelMaps>();
        for (int start = 0; start < source.Count; start += chunk)
        {
            int end = Math.Min(source.Count, start + chunk);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            parts.Add(FromFeatures(model, source.Maps(Enumerable.Range(start, end - start).ToArray())));
            progress.Report("bit maps", end, source.Count, "img");
        }
        if (parts.Count == 0) throw new ArgumentException("the image set is empty", nameof(source));
        return new LevelMaps(BitMaps.Concat([.. parts.Select(p => p.Global)]), BitMaps.Concat([.. parts.Select(p => p.Local)]),
            [.. parts.SelectMany(p => p.GlobalCodes)], [.. parts.SelectMany(p => p.LocalCodes)]);
    }

    /// <summary>Codes and maps of every image of <paramref name="images"/> at <paramref name="imageSize"/>, through the model's backbone.</summary>
    public static LevelMaps FromImages(DscnnModel model, IImageSource images, int imageSize, int batchSize = 16, Device? device = null,
        IProgress<ProgressReport>? progress = null)
    {
        using var source = FeatureSource.Live(model.Backbone, images, imageSize, device ?? model.GlobalHead.Weight.device);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            return FromSource(model, source, batchSize, progress);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }
}
