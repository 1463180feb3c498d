using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace MultiLevelHashing.Training;

/// <summary>
/// The images of a <see cref="LandmarkDataset"/> part (training views, database, or queries cropped to their box)
/// as an <see cref="IImageSource"/>. Decoding goes through <see cref="ImageLoader"/>; each image is resized to
/// size x size (stretched, so batches stack) and kept in memory as 8-bit RGB after its first load, because
/// training and per-epoch validation read the same images many times.
/// </summary>
public sealed class LandmarkImages : IImageSource
{
    private readonly (string Path, BoundingBox? Crop)[] _items;
    private readonly Dictionary<(int Index, int Size), byte[]> _cache = new();
    private readonly object _lock = new();

    private LandmarkImages(string kind, string datasetRoot, (string, BoundingBox?)[] items)
    {
        _items = items;
        Fingerprint = $"{kind}|{Path.GetFullPath(datasetRoot)}|" + string.Join(";", items.Select(i =>
        {
            var info = new FileInfo(i.Item1);
            return $"{i.Item1}:{(info.Exists ? info.Length : -1)}:{(info.Exists ? info.LastWriteTimeUtc.Ticks : 0)}:{i.Item2}";
        }));
    }

    /// <summary>The labelled training views.</summary>
    public static LandmarkImages Train(LandmarkDataset dataset) =>
        new("train", dataset.Root, dataset.Train.Select(i => (i.Path, (BoundingBox?)null)).ToArray());

    /// <summary>The retrieval database, in ground-truth order.</summary>
    public static LandmarkImages Database(LandmarkDataset dataset) =>
        new("database", dataset.Root, dataset.Database.Select(i => (i.Path, (BoundingBox?)null)).ToArray());

    /// <summary>The queries, each cropped to its box (DESIGN.md section 2).</summary>
    public static LandmarkImages Queries(LandmarkDataset dataset) =>
        new("queries", dataset.Root, dataset.Queries.Select(q => (q.Path, (BoundingBox?)q.Box)).ToArray());

    /// <summary>Arbitrary image files (no crop), e.g. for <c>mlh encode</c> of a folder.</summary>
    public static LandmarkImages Files(IEnumerable<string> paths, string root) =>
        new("files", root, paths.Select(p => (p, (BoundingBox?)null)).ToArray());

    /// <summary>Image files, each with an optional crop box (a query cropped to its box).</summary>
    public static LandmarkImages Files(IEnumerable<(string Path, BoundingBox? Crop)> items, string root) =>
        new("files", root, items.ToArray());

    /// <inheritdoc />
    public int Count => _items.Length;

    /// <inheritdoc />
    public string Fingerprint { get; }

    /// <inheritdoc />
    public Tensor Load(IReadOnlyList<int> indices, int size)
    {
        int plane = size * size;
        var batch = new byte[indices.Count * 3 * plane];
        for (int b = 0; b < indices.Count; b++)
            Pixels(indices[b], size).CopyTo(batch.AsSpan(b * 3 * plane, 3 * plane));
        using var bytes = tensor(batch, new long[] { indices.Count, 3, size, size });
        return bytes.to_type(ScalarType.Float32);
    }

    private byte[] Pixels(int index, int size)
    {
        lock (_lock)
            if (_cache.TryGetValue((index, size), out var hit)) return hit;
        var (path, crop) = _items[index];
        using var image = ImageLoader.LoadRgb(path, crop, ImageResize.Exact(size, size));
        int plane = size * size;
        var chw = new byte[3 * plane];
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < size; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < size; x++)
                {
                    Rgb24 p = row[x];
                    chw[y * size + x] = p.R;
                    chw[plane + y * size + x] = p.G;
                    chw[2 * plane + y * size + x] = p.B;
                }
            }
        });
        lock (_lock) _cache[(index, size)] = chw;
        return chw;
    }
}
