using System.Numerics;

namespace MultiLevelHashing.Search.Regions;

/// <summary>
/// A similarity transform of the feature grid, x' = a x + b with complex a (scale and rotation) and b (translation), on
/// positions written as column + i row.
/// </summary>
/// <param name="Linear">a: |a| is the scale, arg(a) the rotation.</param>
/// <param name="Translation">b, in grid cells.</param>
public readonly record struct SimilarityTransform(Complex Linear, Complex Translation)
{
    /// <summary>Scale factor |a|.</summary>
    public double Scale => Linear.Magnitude;

    /// <summary>Rotation in radians, arg(a).</summary>
    public double Rotation => Linear.Phase;

    /// <summary>Where the grid position (column, row) goes.</summary>
    public (double Column, double Row) Apply(double column, double row)
    {
        var z = Linear * new Complex(column, row) + Translation;
        return (z.Real, z.Imaginary);
    }

    /// <summary>The transform taking <paramref name="p1"/> to <paramref name="q1"/> and <paramref name="p2"/> to <paramref name="q2"/>; null when p1 = p2.</summary>
    public static SimilarityTransform? Through(Complex p1, Complex q1, Complex p2, Complex q2)
    {
        var dp = p2 - p1;
        if (dp == Complex.Zero) return null;
        var a = (q2 - q1) / dp;
        return new SimilarityTransform(a, q1 - a * p1);
    }
}

/// <summary>The outcome of <see cref="SpatialVerifier.Verify"/> for one query and one database image.</summary>
/// <param name="Inliers">Distinct database regions the best transform places some match on, within the tolerance (0 when none was found).</param>
/// <param name="InlierWeight">Sum over those regions of their best match's kernel value.</param>
/// <param name="Transform">The transform with the most inlier weight; null when fewer than two matches allow one.</param>
/// <param name="InlierMatches">Every match within the tolerance, in match order.</param>
public sealed record Verification(int Inliers, double InlierWeight, SimilarityTransform? Transform, IReadOnlyList<RegionMatch> InlierMatches)
{
    /// <summary>Nothing verified.</summary>
    public static Verification None { get; } = new(0, 0, null, []);
}

/// <summary>
/// Spatial verification on the feature grid (lib/MultiLevelHashing/README.md section 2.8), the re-ranking step of
/// Philbin et al. 2007 made for region codes without local shape: region matches carry only their grid cell, so one
/// match fixes no transform, two fix a similarity transform. Every pair of matches is a hypothesis (exhaustive, so the
/// result is exact and needs no seed: at most 49 matches, 1,176 pairs on a 7 x 7 grid); a match is an inlier when the
/// transform puts its query cell within <see cref="Tolerance"/> cells of its database cell, and inliers are counted as
/// the distinct database regions they land on (many query regions piled onto one database region count once); the
/// hypothesis with the most inlier weight (kernel values), then the most inliers, then the first in order, wins. Scales
/// outside [<see cref="MinScale"/>, <see cref="MaxScale"/>] are refused: a query crop is often a small part of a
/// database photo, so the range is wide, but a whole query collapsing onto a cell or two is not a placement.
/// </summary>
/// <param name="Tolerance">Largest distance, in grid cells, between a transformed query cell and its match's cell.</param>
/// <param name="MinScale">Smallest scale accepted (database cells per query cell).</param>
/// <param name="MaxScale">Largest scale accepted.</param>
/// <param name="MinInliers">Inliers an image needs to count as verified when re-ranking.</param>
public sealed record SpatialVerifier(double Tolerance = 1.0, double MinScale = 0.25, double MaxScale = 4, int MinInliers = 4)
{
    /// <summary>One cell of tolerance, scales 1/4 to 4, at least 4 inliers (distinct database regions): the setting of the tables.</summary>
    public static SpatialVerifier Default { get; } = new();

    /// <summary>The best similarity transform for <paramref name="matches"/> of query image <paramref name="query"/> of <paramref name="queries"/> with image <paramref name="image"/> of <paramref name="images"/>.</summary>
    public Verification Verify(IReadOnlyList<RegionMatch> matches, RegionCodes queries, int query, RegionCodes images, int image)
    {
        Validate();
        if (matches.Count < 2) return Verification.None;
        var qp = queries.Positions(query);
        var dp = images.Positions(image);
        var from = new Complex[matches.Count];
        var to = new Complex[matches.Count];
        for (int m = 0; m < matches.Count; m++)
        {
            var (a, b) = (qp[matches[m].QueryRegion], dp[matches[m].ImageRegion]);
            from[m] = new Complex(a.Column, a.Row);
            to[m] = new Complex(b.Column, b.Row);
        }
        SimilarityTransform? best = null;
        int bestInliers = 0;
        double bestWeight = 0;
        // Per database region, the best inlier value under the current hypothesis; stamped so that it is not cleared.
        var value = new float[images.RegionCount(image)];
        var stamp = new int[value.Length];
        int hypothesis = 0;
        for (int i = 0; i < matches.Count; i++)
            for (int j = i + 1; j < matches.Count; j++)
            {
                if (SimilarityTransform.Through(from[i], to[i], from[j], to[j]) is not { } t) continue;
                double scale = t.Scale;
                if (scale < MinScale || scale > MaxScale) continue;
                hypothesis++;
                var (inliers, weight) = Score(t, matches, from, to, value, stamp, hypothesis, null);
                if (weight > bestWeight || (weight == bestWeight && inliers > bestInliers)) (best, bestInliers, bestWeight) = (t, inliers, weight);
            }
        if (best is not { } found) return Verification.None;
        var kept = new List<RegionMatch>(bestInliers);
        Score(found, matches, from, to, value, stamp, ++hypothesis, kept);
        return new Verification(bestInliers, bestWeight, found, kept);
    }

    /// <summary>
    /// Inliers of <paramref name="t"/>: the distinct database regions some match lands on within the tolerance, and the
    /// sum of the best such match's value per region. Counting database regions, not matches, keeps a placement that
    /// piles many query regions onto one database region from counting as many inliers.
    /// </summary>
    private (int Inliers, double Weight) Score(SimilarityTransform t, IReadOnlyList<RegionMatch> matches, Complex[] from, Complex[] to,
        float[] value, int[] stamp, int hypothesis, List<RegionMatch>? kept)
    {
        double tolerance2 = Tolerance * Tolerance;
        int inliers = 0;
        double weight = 0;
        for (int m = 0; m < matches.Count; m++)
        {
            var e = t.Linear * from[m] + t.Translation - to[m];
            if (e.Real * e.Real + e.Imaginary * e.Imaginary > tolerance2) continue;
            kept?.Add(matches[m]);
            int s = matches[m].ImageRegion;
            float v = matches[m].Value;
            if (stamp[s] != hypothesis) (stamp[s], value[s], inliers, weight) = (hypothesis, v, inliers + 1, weight + v);
            else if (v > value[s]) (weight, value[s]) = (weight + v - value[s], v);
        }
        return (inliers, weight);
    }

    private void Validate()
    {
        if (!(Tolerance >= 0) || !double.IsFinite(Tolerance)) throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "the tolerance must be a finite number of cells, 0 or more");
        if (!(MinScale > 0 && MinScale <= MaxScale) || !double.IsFinite(MaxScale)) throw new ArgumentOutOfRangeException(nameof(MinScale), MinScale, "the scale range must be positive and finite, MinScale <= MaxScale");
        ArgumentOutOfRangeException.ThrowIfLessThan(MinInliers, 2);
    }
}
