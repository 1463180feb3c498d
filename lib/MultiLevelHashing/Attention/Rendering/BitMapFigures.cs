using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SkiaSharp;
using static TorchSharp.torch;

namespace MultiLevelHashing.Attention.Rendering;

/// <summary>
/// The bit maps of one image as the encoder saw it: the photo's size, the region the encoder saw (the whole image or the
/// query crop) and both levels' maps and relaxed codes of that region.
/// </summary>
public sealed record ImageBitMaps(string ImagePath, int ImageWidth, int ImageHeight, PixelRegion Region, LevelMaps Maps)
{
    /// <summary>The maps of one level (one image, Kg or Kl bits).</summary>
    public BitMaps Of(MapLevel level) => level == MapLevel.Global ? Maps.Global : Maps.Local;

    /// <summary>The relaxed codes u of one level.</summary>
    public float[] Codes(MapLevel level) => level == MapLevel.Global ? Maps.GlobalCodes : Maps.LocalCodes;
}

/// <summary>The files one call of <see cref="BitMapFigures.Write"/> wrote.</summary>
/// <param name="Overlays">One PNG per bit, in the order of the bits.</param>
/// <param name="Sheet">The contact sheet of all of them.</param>
public sealed record BitMapFiles(IReadOnlyList<string> Overlays, string Sheet);

/// <summary>
/// Figures of the bit activation maps of one image (lib/MultiLevelHashing/README.md section 2.6, Rendering): the maps
/// through a model, the choice of bits to show, one overlay PNG per bit and a contact sheet of them, written
/// atomically.
/// </summary>
public static class BitMapFigures
{
    /// <summary>
    /// Both levels' maps of <paramref name="imagePath"/>, cropped to <paramref name="box"/> when given (as a query is),
    /// stretched to <paramref name="imageSize"/> x <paramref name="imageSize"/> as the encoder does.
    /// </summary>
    /// <exception cref="UserInputException">The image cannot be read.</exception>
    public static ImageBitMaps Compute(DscnnModel model, string imagePath, BoundingBox? box, int imageSize, Device? device = null)
    {
        string full = Path.GetFullPath(imagePath);
        var (width, height) = ImageLoader.Size(full);
        var source = new ImageFileSource(ImageFiles.Of([(full, box)], Path.GetDirectoryName(full)!));
        var maps = BitActivationMaps.FromImages(model, source, imageSize, batchSize: 1, device: device);
        return new ImageBitMaps(full, width, height, PixelRegion.Seen(box, width, height), maps);
    }

    /// <summary>The <paramref name="count"/> bits with the largest u (the most firmly set), ties to the lower index.</summary>
    public static int[] StrongestBits(ReadOnlySpan<float> codes, int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), $"count must be at least 1, got {count}");
        var values = codes.ToArray();
        return [.. Enumerable.Range(0, values.Length).OrderByDescending(k => values[k]).ThenBy(k => k).Take(count)];
    }

    /// <summary>
    /// Writes one overlay per bit of <paramref name="bits"/> (at the photo's own resolution) and a contact sheet of them
    /// (tiles scaled to <see cref="ContactSheet.TileLongerSide"/>) into <paramref name="outputDirectory"/>, named
    /// <c>&lt;image&gt;-&lt;level&gt;-bit&lt;k&gt;.png</c> and <c>&lt;image&gt;-&lt;level&gt;-sheet.png</c>.
    /// </summary>
    public static BitMapFiles Write(ImageBitMaps maps, MapLevel level, IReadOnlyList<int> bits, string outputDirectory,
        IProgress<ProgressReport>? progress = null)
    {
        var levelMaps = maps.Of(level);
        if (bits.Count == 0) throw new ArgumentException("no bits to draw", nameof(bits));
        foreach (int k in bits)
            if ((uint)k >= (uint)levelMaps.Bits)
                throw new ArgumentOutOfRangeException(nameof(bits), $"bit {k} is not a {Name(level)} bit (0..{levelMaps.Bits - 1})");
        Directory.CreateDirectory(outputDirectory);
        using var photo = ImageLoader.LoadRgb(maps.ImagePath);
        if (photo.Width != maps.ImageWidth || photo.Height != maps.ImageHeight)
            throw UserInputException.InFile(maps.ImagePath, $"the image changed size since its maps were computed ({maps.ImageWidth} x {maps.ImageHeight})");
        string stem = Path.GetFileNameWithoutExtension(maps.ImagePath);
        var codes = maps.Codes(level);
        double tileScale = ContactSheet.TileScale(photo.Width, photo.Height);
        var written = new List<string>();
        var tiles = new List<SKBitmap>();
        try
        {
            for (int i = 0; i < bits.Count; i++)
            {
                int k = bits[i];
                var caption = new OverlayCaption(level, k, codes[k]);
                var grid = levelMaps.Map(0, k);
                using (var overlay = MapOverlay.Render(photo, maps.Region, grid, levelMaps.Height, levelMaps.Width, caption))
                {
                    string path = Path.Combine(outputDirectory, $"{stem}-{Name(level)}-bit{k}.png");
                    AtomicFile.WriteAllBytes(path, MapOverlay.EncodePng(overlay));
                    written.Add(path);
                }
                tiles.Add(MapOverlay.Render(photo, maps.Region, grid, levelMaps.Height, levelMaps.Width, caption, tileScale));
                progress.Report("render maps", i + 1, bits.Count + 1, "map");
            }
            string title = $"{Path.GetFileName(maps.ImagePath)}: {bits.Count} {Name(level)} bit map(s), {levelMaps.Height} x {levelMaps.Width} grid";
            using var sheet = ContactSheet.Render(tiles, title);
            string sheetPath = Path.Combine(outputDirectory, $"{stem}-{Name(level)}-sheet.png");
            AtomicFile.WriteAllBytes(sheetPath, MapOverlay.EncodePng(sheet));
            progress.Report("render maps", bits.Count + 1, bits.Count + 1, "map");
            return new BitMapFiles(written, sheetPath);
        }
        finally
        {
            foreach (var tile in tiles) tile.Dispose();
        }
    }

    /// <summary>"global" or "local".</summary>
    public static string Name(MapLevel level) => level == MapLevel.Global ? "global" : "local";
}
