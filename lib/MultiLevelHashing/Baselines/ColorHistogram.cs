using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Baselines;

/// <summary>
/// A global joint-RGB colour histogram compared by histogram intersection (Swain and Ballard, 1991): the simplest
/// pre-CNN retrieval baseline. It needs no training, so it shows on any benchmark what colour alone achieves; on
/// mini-landmarks it checks that the generated task is neither trivial nor hopeless before any DSCNN result.
/// </summary>
public static class ColorHistogram
{
    /// <summary>L1-normalised histogram with <paramref name="bins"/> levels per channel (bins³ cells) of a CHW image in [0, 1].</summary>
    public static float[] Compute(ChwImage image, int bins = 8)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var h = new float[bins * bins * bins];
        int plane = image.Height * image.Width;
        var d = image.Data;
        for (int i = 0; i < plane; i++)
        {
            int r = Math.Min(bins - 1, (int)(d[i] * bins));
            int g = Math.Min(bins - 1, (int)(d[plane + i] * bins));
            int b = Math.Min(bins - 1, (int)(d[2 * plane + i] * bins));
            h[(r * bins + g) * bins + b] += 1f / plane;
        }
        return h;
    }

    /// <summary>Histogram intersection Σ min(a, b), in [0, 1] for normalised histograms.</summary>
    public static double Intersection(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += Math.Min(a[i], b[i]);
        return s;
    }

    /// <summary>Database indices by decreasing intersection with <paramref name="query"/>; ties broken by index.</summary>
    public static int[] Rank(float[] query, IReadOnlyList<float[]> database)
    {
        var scores = database.Select(d => Intersection(query, d)).ToArray();
        return [.. Enumerable.Range(0, database.Count).OrderByDescending(i => scores[i]).ThenBy(i => i)];
    }

    /// <summary>
    /// Ranks the whole database for every query of <paramref name="dataset"/> (queries cropped to their box; all images
    /// resized to a longer side of <paramref name="maxSide"/> first).
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<int>> RankAll(LandmarkDataset dataset, int bins = 8, int maxSide = 128, IProgress<ProgressReport>? progress = null)
    {
        var resize = ImageResize.Longer(maxSide);
        var db = new float[dataset.Database.Count][];
        for (int i = 0; i < db.Length; i++)
        {
            db[i] = Compute(ImageLoader.LoadChw(dataset.Database[i].Path, null, resize), bins);
            progress.Report("colour histograms", i + 1, db.Length + dataset.Queries.Count, "img");
        }
        var result = new List<IReadOnlyList<int>>(dataset.Queries.Count);
        for (int q = 0; q < dataset.Queries.Count; q++)
        {
            result.Add(Rank(Compute(dataset.LoadQuery(q, resize), bins), db));
            progress.Report("colour histograms", db.Length + q + 1, db.Length + dataset.Queries.Count, "img");
        }
        return result;
    }
}
