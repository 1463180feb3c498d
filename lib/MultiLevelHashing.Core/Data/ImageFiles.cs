using MultiLevelHashing.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MultiLevelHashing.Data;

/// <summary>
/// An ordered list of image files, each with an optional crop box: the training views, the database or the queries
/// of a <see cref="LandmarkDataset"/> (queries cropped to their box, lib/MultiLevelHashing/README.md section 3.1), or
/// any folder of images. Decoding goes through <see cref="ImageLoader"/>; each image is resized to size x size
/// (stretched, so batches stack) and kept in memory as 8-bit RGB after its first read, because training and
/// per-epoch validation read the same images many times.
/// </summary>
public sealed class ImageFiles
{
    private readonly (string Path, BoundingBox? Crop)[] _items;
    private readonly Dictionary<(int Index, int Size), byte[]> _cache = new();
    private readonly object _lock = new();

    private ImageFiles(string kind, string root, (string, BoundingBox?)[] items)
    {
        _items = items;
        Fingerprint = $"{kind}|{System.IO.Path.GetFullPath(root)}|" + string.Join(";", items.Select(i =>
        {
            var info = new FileInfo(i.Item1);
            return $"{i.Item1}:{(info.Exists ? info.Length : -1)}:{(info.Exists ? info.LastWriteTimeUtc.Ticks : 0)}:{i.Item2}";
        }));
    }

    /// <summary>The labelled training views.</summary>
    public static ImageFiles Train(LandmarkDataset dataset) =>
        new("train", dataset.Root, dataset.Train.Select(i => (i.Path, (BoundingBox?)null)).ToArray());

    /// <summary>The retrieval database, in ground-truth order.</summary>
    public static ImageFiles Database(LandmarkDataset dataset) =>
        new("database", dataset.Root, dataset.Database.Select(i => (i.Path, (BoundingBox?)null)).ToArray());

    /// <summary>The queries, each cropped to its box.</summary>
    public static ImageFiles Queries(LandmarkDataset dataset) =>
        new("queries", dataset.Root, dataset.Queries.Select(q => (q.Path, (BoundingBox?)q.Box)).ToArray());

    /// <summary>Image files, each with an optional crop box; <paramref name="root"/> names the collection in the fingerprint.</summary>
    public static ImageFiles Of(IEnumerable<(string Path, BoundingBox? Crop)> items, string root) =>
        new("files", root, items.ToArray());

    /// <summary>Image files without crops, e.g. a folder for <c>mlh encode</c>.</summary>
    public static ImageFiles Of(IEnumerable<string> paths, string root) =>
        Of(paths.Select(p => (p, (BoundingBox?)null)), root);

    /// <summary>Number of images.</summary>
    public int Count => _items.Length;

    /// <summary>Path and crop of image <paramref name="index"/>.</summary>
    public (string Path, BoundingBox? Crop) this[int index] => _items[index];

    /// <summary>Identifies the images (paths, sizes, modification times, crops, order) for cache keys.</summary>
    public string Fingerprint { get; }

    /// <summary>
    /// Image <paramref name="index"/>, cropped and resized to <paramref name="size"/> x <paramref name="size"/>, as
    /// planar RGB bytes (3 x size x size). Throws <see cref="UserInputException"/> naming the file when it cannot be decoded.
    /// </summary>
    public ReadOnlySpan<byte> Planar(int index, int size)
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
