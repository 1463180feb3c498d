using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace MultiLevelHashing.Tests.Model;

/// <summary>Real photos shipped with the repository (data/photos), as 224 x 224 planar RGB [0, 255] for the parity test.</summary>
internal static class RealPhotos
{
    public static IEnumerable<string> Files()
    {
        string dir = Path.Combine(TestPaths.RepositoryRoot(), "data", "photos");
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);
    }

    public static IEnumerable<(string Name, float[] Pixels)> Load224(int count)
    {
        foreach (var file in Files().Take(count))
        {
            // Both networks see the same pixels, so how they were resized does not matter for parity.
            using var image = Image.Load<Rgb24>(file);
            image.Mutate(c => c.Resize(224, 224));
            var pixels = new float[3 * 224 * 224];
            image.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < 224; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (int x = 0; x < 224; x++)
                    {
                        pixels[(0 * 224 + y) * 224 + x] = row[x].R;
                        pixels[(1 * 224 + y) * 224 + x] = row[x].G;
                        pixels[(2 * 224 + y) * 224 + x] = row[x].B;
                    }
                }
            });
            yield return (Path.GetFileName(file), pixels);
        }
    }
}
