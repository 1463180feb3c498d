using MultiLevelHashing.Data;

namespace MultiLevelHashing.Attention;

/// <summary>
/// A region of the image area a map covers, in fractions of its width and height: (0, 0) is the top-left corner,
/// (1, 1) the bottom-right one.
/// </summary>
public readonly record struct RegionBox(double X1, double Y1, double X2, double Y2)
{
    /// <summary>The whole area.</summary>
    public static RegionBox Whole { get; } = new(0, 0, 1, 1);

    /// <summary>Share of the area inside the box (the chance level of the localisation scores).</summary>
    public double Area => Math.Max(0, X2 - X1) * Math.Max(0, Y2 - Y1);

    /// <summary>A pixel box of an image of <paramref name="width"/> x <paramref name="height"/>, clipped to the image.</summary>
    public static RegionBox FromPixels(BoundingBox box, int width, int height)
    {
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width} x {height}");
        static double Clip(double v) => Math.Clamp(v, 0, 1);
        return new RegionBox(Clip(box.X1 / width), Clip(box.Y1 / height), Clip(box.X2 / width), Clip(box.Y2 / height));
    }

    /// <summary>Whether the point (x, y), in fractions of the area, lies inside (edges included).</summary>
    public bool Contains(double x, double y) => x >= X1 && x <= X2 && y >= Y1 && y <= Y2;
}

/// <summary>
/// How much of a bit's activation lies in a region (lib/MultiLevelHashing/README.md section 2.7), and the localisation
/// scores built on it. Maps are h x w grids over the image area; position (i, j) stands for the cell
/// [j/w, (j+1)/w] x [i/h, (i+1)/h], and a region counts each cell by the share of the cell's area it covers, which is
/// exact for a map held constant over its cells and costs h x w operations per bit instead of one per pixel.
/// </summary>
public static class BitPertinence
{
    /// <summary>Per position of an h x w grid, the share of its cell inside <paramref name="region"/> (row-major, in [0, 1]).</summary>
    public static float[] CellCoverage(RegionBox region, int height, int width)
    {
        var cover = new float[height * width];
        for (int i = 0; i < height; i++)
        {
            double dy = Overlap(region.Y1, region.Y2, (double)i / height, (double)(i + 1) / height) * height;
            for (int j = 0; j < width; j++)
                cover[i * width + j] = (float)(dy * Overlap(region.X1, region.X2, (double)j / width, (double)(j + 1) / width) * width);
        }
        return cover;
    }

    private static double Overlap(double a1, double a2, double b1, double b2) => Math.Max(0, Math.Min(a2, b2) - Math.Max(a1, b1));

    /// <summary>
    /// pertinence(A, R) = sum_p cover_R(p) max(A(p), 0) / sum_p max(A(p), 0): the share of the map's positive activation
    /// mass inside the region, in [0, 1]; 0 when the map has no positive mass.
    /// </summary>
    public static double Pertinence(ReadOnlySpan<float> map, ReadOnlySpan<float> coverage)
    {
        if (map.Length != coverage.Length) throw new ArgumentException($"map has {map.Length} positions, coverage {coverage.Length}");
        double inside = 0, total = 0;
        for (int p = 0; p < map.Length; p++)
        {
            double positive = Math.Max(map[p], 0f);
            total += positive;
            inside += coverage[p] * positive;
        }
        return total > 0 ? Math.Min(1.0, inside / total) : 0.0;
    }

    /// <summary>
    /// The selection score of a bit for a region: pertinence times the map's peak, max(max_p A(p), 0), so a bit counts by
    /// how much of its activation is on the region and by how strongly it fires at all.
    /// </summary>
    public static double SelectionScore(ReadOnlySpan<float> map, ReadOnlySpan<float> coverage)
    {
        float peak = float.NegativeInfinity;
        foreach (float v in map) peak = Math.Max(peak, v);
        return peak > 0 ? Pertinence(map, coverage) * peak : 0.0;
    }

    /// <summary>
    /// Pointing game: whether the centre of the map's peak cell (the first maximum in row-major order) lies inside the
    /// region. A bilinear upsampling of the grid peaks at the same point, so the answer does not depend on the resolution.
    /// </summary>
    public static bool PeakInside(ReadOnlySpan<float> map, int height, int width, RegionBox region)
    {
        if (map.Length != height * width) throw new ArgumentException($"map has {map.Length} positions, not {height} x {width}");
        int best = 0;
        for (int p = 1; p < map.Length; p++)
            if (map[p] > map[best]) best = p;
        return region.Contains((best % width + 0.5) / width, (best / width + 0.5) / height);
    }

    /// <summary>
    /// The salient region of an image from its global maps, as coverage weights: 1 at the positions where
    /// S(p) = sum_k max(CAM_k(p), 0) is at least its mean over the image, else 0 (all 1 when S is zero everywhere).
    /// </summary>
    public static float[] SalientCoverage(BitMaps globalMaps, int image)
    {
        var salience = new double[globalMaps.Positions];
        for (int k = 0; k < globalMaps.Bits; k++)
        {
            var map = globalMaps.Map(image, k);
            for (int p = 0; p < map.Length; p++) salience[p] += Math.Max(map[p], 0f);
        }
        double mean = salience.Average();
        return [.. salience.Select(s => mean <= 0 || s >= mean ? 1f : 0f)];
    }
}
