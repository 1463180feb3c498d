using MultiLevelHashing.Data;
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

/// <summary>
/// The files of an <see cref="ImageFiles"/> list (a dataset part or a folder) as batches for the DSCNN; decoding,
/// cropping and resizing are the data layer's.
/// </summary>
public sealed class ImageFileSource(ImageFiles files) : IImageSource
{
    /// <summary>The listed files.</summary>
    public ImageFiles Files { get; } = files;

    /// <summary>The labelled training views of <paramref name="dataset"/>.</summary>
    public static ImageFileSource Train(LandmarkDataset dataset) => new(ImageFiles.Train(dataset));

    /// <summary>The database of <paramref name="dataset"/>, in ground-truth order.</summary>
    public static ImageFileSource Database(LandmarkDataset dataset) => new(ImageFiles.Database(dataset));

    /// <summary>The queries of <paramref name="dataset"/>, each cropped to its box.</summary>
    public static ImageFileSource Queries(LandmarkDataset dataset) => new(ImageFiles.Queries(dataset));

    /// <inheritdoc />
    public int Count => Files.Count;

    /// <inheritdoc />
    public string Fingerprint => Files.Fingerprint;

    /// <inheritdoc />
    public Tensor Load(IReadOnlyList<int> indices, int size)
    {
        int image = 3 * size * size;
        var batch = new byte[indices.Count * image];
        for (int b = 0; b < indices.Count; b++)
            Files.Planar(indices[b], size).CopyTo(batch.AsSpan(b * image, image));
        using var bytes = tensor(batch, new long[] { indices.Count, 3, size, size });
        return bytes.to_type(ScalarType.Float32);
    }
}
