using System.Numerics;

namespace MultiLevelHashing.Search.Regions;

/// <summary>Which placements of a query on a database image <see cref="SpatialVerifier"/> considers.</summary>
public enum GridTransformModel
{
    /// <summary>
    /// Column and row scaled independently, then shifted: x' = s_x x + t_x, y' = s_y y + t_y. The encoder stretches a
    /// query crop and a database photo of other aspect ratios each to a square, so one planar object seen in both appears
    /// scaled by different factors along the two grid axes; a similarity cannot place it.
    /// </summary>
    AxisAligned,

    /// <summary>Scale, rotation and shift with one scale for both axes: x' = a x + b with complex a and b.</summary>
    Similarity,
}

/// <summary>
/// A placement of query grid positions on a database grid: (column, row) goes to
/// (<see cref="Xx"/> column + <see cref="Xy"/> row + <see cref="Tx"/>, <see cref="Yx"/> column + <see cref="Yy"/> row + <see cref="Ty"/>).
/// </summary>
public readonly record struct GridTransform(double Xx, double Xy, double Yx, double Yy, double Tx, double Ty)
{
    /// <summary>Where the grid position (column, row) goes.</summary>
    public (double Column, double Row) Apply(double column, double row) => (Xx * column + Xy * row + Tx, Yx * column + Yy * row + Ty);

    /// <summary>The similarity taking <paramref name="p1"/> to <paramref name="q1"/> and <paramref name="p2"/> to <paramref name="q2"/> (positions as column + i row); null when p1 = p2.</summary>
    public static GridTransform? Similarity(Complex p1, Complex q1, Complex p2, Complex q2)
    {
        var dp = p2 - p1;
        if (dp == Complex.Zero) return null;
        var a = (q2 - q1) / dp;
        var b = q1 - a * p1;
        return new GridTransform(a.Real, -a.Imaginary, a.Imaginary, a.Real, b.Real, b.Imaginary);
    }

    /// <summary>The axis-aligned scaling and shift taking p1 to q1 and p2 to q2; null unless p1 and p2 differ in both column and row.</summary>
    public static GridTransform? AxisAligned(Complex p1, Complex q1, Complex p2, Complex q2)
    {
        var dp = p2 - p1;
        if (dp.Real == 0 || dp.Imaginary == 0) return null;
        double sx = (q2.Real - q1.Real) / dp.Real, sy = (q2.Imaginary - q1.Imaginary) / dp.Imaginary;
        return new GridTransform(sx, 0, 0, sy, q1.Real - sx * p1.Real, q1.Imaginary - sy * p1.Imaginary);
    }

    /// <summary>The scale along columns and along rows: the lengths the transform gives to a unit step along each axis.</summary>
    public (double Column, double Row) Scales => (Math.Sqrt(Xx * Xx + Yx * Yx), Math.Sqrt(Xy * Xy + Yy * Yy));
}

/// <summary>The outcome of <see cref="SpatialVerifier.Verify"/> for one query and one database image.</summary>
/// <param name="Inliers">Distinct database regions the best transform places some match on, within the tolerance (0 when none was found).</param>
/// <param name="InlierWeight">Sum over those regions of their best match's kernel value.</param>
/// <param name="MatchWeight">Sum of every match's kernel value: the unnormalised best-match region score.</param>
/// <param name="Transform">The transform with the most inlier weight; null when no pair of matches fixes an accepted one.</param>
/// <param name="InlierMatches">Every match within the tolerance, in match order.</param>
public sealed record Verification(int Inliers, double InlierWeight, double MatchWeight, GridTransform? Transform, IReadOnlyList<RegionMatch> InlierMatches)
{
    /// <summary>Nothing verified.</summary>
    public static Verification None { get; } = new(0, 0, 0, null, []);

    /// <summary>The share of the region score that consistently placed matches carry (0 when there are no matches).</summary>
    public double VerifiedShare => MatchWeight > 0 ? Math.Min(1, InlierWeight / MatchWeight) : 0;
}

/// <summary>
/// Spatial verification on the feature grid (lib/MultiLevelHashing/README.md section 2.8), the re-ranking step of
/// Philbin et al. 2007 made for region codes without local shape: region matches carry only their grid cell, so one
/// match fixes no transform and two fix one (<see cref="Model"/>: by default the column and row scales and shifts, since
/// the encoder stretches every image to a square). Every pair of matches is a hypothesis (exhaustive, so the result is
/// exact and needs no seed: at most 49 matches, 1,176 pairs on a 7 x 7 grid); a match is an inlier when the transform
/// puts its query cell within <see cref="Tolerance"/> cells of its database cell, and inliers are counted as the
/// distinct database regions they land on (many query regions piled onto one database region count once); the
/// hypothesis with the most inlier weight (kernel values), then the most inliers, then the first in order, wins. Scales
/// outside [<see cref="MinScale"/>, <see cref="MaxScale"/>] are refused: a query crop is often a small part of a
/// database photo, so the range is wide, but a whole query collapsing onto a cell or two is not a placement.
/// </summary>
/// <param name="Tolerance">Largest distance, in grid cells, between a transformed query cell and its match's cell.</param>
/// <param name="MinScale">Smallest scale accepted (database cells per query cell), along each axis.</param>
/// <param name="MaxScale">Largest scale accepted.</param>
/// <param name="MinInliers">Inliers (distinct database regions) a placement needs to be drawn as verified.</param>
/// <param name="Model">The transforms considered.</param>
public sealed record SpatialVerifier(double Tolerance = 1.0, double MinScale = 0.25, double MaxScale = 4, int MinInliers = 4,
    GridTransformModel Model = GridTransformModel.AxisAligned)
{
    /// <summary>Axis-aligned placements, one cell of tolerance, scales 1/4 to 4, 4 inliers to count as verified: the setting of the tables.</summary>
    public static SpatialVerifier Default { get; } = new();

    /// <summary>The best similarity transform for <paramref name="matches"/> of query image <paramref name="query"/> of <paramref name="queries"/> with image <paramref name="image"/> of <paramref name="images"/>.</summary>
    public Verification Verify(IReadOnlyList<RegionMatch> matches, RegionCodes queries, int query, RegionCodes images, int image)
    {
        Validate();
        double matchWeight = 0;
        foreach (var m in matches) matchWeight += m.Value;
        if (matches.Count < 2) return Verification.None with { MatchWeight = matchWeight };
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
        GridTransform? best = null;
        int bestInliers = 0;
        double bestWeight = 0;
        // Per database region, the best inlier value under the current hypothesis; stamped so that it is not cleared.
        var value = new float[images.RegionCount(image)];
        var stamp = new int[value.Length];
        int hypothesis = 0;
        for (int i = 0; i < matches.Count; i++)
            for (int j = i + 1; j < matches.Count; j++)
            {
                var candidate = Model == GridTransformModel.AxisAligned
                    ? GridTransform.AxisAligned(from[i], to[i], from[j], to[j])
                    : GridTransform.Similarity(from[i], to[i], from[j], to[j]);
                if (candidate is not { } t) continue;
                var (sx, sy) = t.Scales;
                // Axis-aligned scales must also keep their sign: a mirrored placement is not a view of the same object.
                if (sx < MinScale || sx > MaxScale || sy < MinScale || sy > MaxScale || (Model == GridTransformModel.AxisAligned && (t.Xx <= 0 || t.Yy <= 0))) continue;
                hypothesis++;
                var (inliers, weight) = Score(t, matches, from, to, value, stamp, hypothesis, null);
                if (weight > bestWeight || (weight == bestWeight && inliers > bestInliers)) (best, bestInliers, bestWeight) = (t, inliers, weight);
            }
        if (best is not { } found) return Verification.None with { MatchWeight = matchWeight };
        var kept = new List<RegionMatch>(bestInliers);
        Score(found, matches, from, to, value, stamp, ++hypothesis, kept);
        return new Verification(bestInliers, bestWeight, matchWeight, found, kept);
    }

    /// <summary>
    /// Inliers of <paramref name="t"/>: the distinct database regions some match lands on within the tolerance, and the
    /// sum of the best such match's value per region. Counting database regions, not matches, keeps a placement that
    /// piles many query regions onto one database region from counting as many inliers.
    /// </summary>
    private (int Inliers, double Weight) Score(GridTransform t, IReadOnlyList<RegionMatch> matches, Complex[] from, Complex[] to,
        float[] value, int[] stamp, int hypothesis, List<RegionMatch>? kept)
    {
        double tolerance2 = Tolerance * Tolerance;
        int inliers = 0;
        double weight = 0;
        for (int m = 0; m < matches.Count; m++)
        {
            var (column, row) = t.Apply(from[m].Real, from[m].Imaginary);
            double ex = column - to[m].Real, ey = row - to[m].Imaginary;
            if (ex * ex + ey * ey > tolerance2) continue;
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
