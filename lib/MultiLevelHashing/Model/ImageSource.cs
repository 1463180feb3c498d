using static TorchSharp.torch;

namespace MultiLevelHashing.Model;

/// <summary>
/// Indexed images that the DSCNN can read in batches: N x 3 x size x size float RGB in [0, 255] on the CPU.
/// Implemented over datasets (decoding and resizing are the data layer's job) and over in-memory tensors.
/// </summary>
public interface IImageSource
{
    /// <summary>Number of images.</summary>
    int Count { get; }

    /// <summary>Identifies the images (paths, crops, order) for cache keys; equal fingerprints mean equal images.</summary>
    string Fingerprint { get; }

    /// <summary>Images <paramref name="indices"/> resized to <paramref name="size"/> x <paramref name="size"/>.</summary>
    Tensor Load(IReadOnlyList<int> indices, int size);
}

/// <summary>Images held in one N x 3 x H x W tensor (tests, synthetic data); resized with bilinear interpolation on request.</summary>
public sealed class TensorImageSource : IImageSource, IDisposable
{
    private readonly Tensor _images;

    /// <summary>Wraps <paramref name="images"/> (N x 3 x H x W, RGB [0, 255]); <paramref name="fingerprint"/> names them.</summary>
    public TensorImageSource(Tensor images, string fingerprint)
    {
        if (images.ndim != 4 || images.shape[1] != 3) throw new ArgumentException("images must be N x 3 x H x W");
        _images = images.detach().clone().DetachFromDisposeScope();
        Fingerprint = fingerprint;
    }

    /// <inheritdoc />
    public int Count => (int)_images.shape[0];

    /// <inheritdoc />
    public string Fingerprint { get; }

    /// <inheritdoc />
    public Tensor Load(IReadOnlyList<int> indices, int size)
    {
        using var scope = NewDisposeScope();
        using var idx = tensor(indices.Select(i => (long)i).ToArray());
        var batch = _images.index_select(0, idx);
        if (batch.shape[2] != size || batch.shape[3] != size)
            batch = nn.functional.interpolate(batch, size: [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
        return batch.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose() => _images.Dispose();
}
