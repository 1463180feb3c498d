using MultiLevelHashing.Search;

namespace MultiLevelHashing.Attention;

/// <summary>How the local bits compared in the multi-level search's second stage are chosen (lib/MultiLevelHashing/README.md section 2.7).</summary>
public enum SelectionMethod
{
    /// <summary>All Kl local bits (no selection).</summary>
    All,
    /// <summary>One mask for every query: the L bits most pertinent to the landmark boxes of the training images.</summary>
    DatasetLevel,
    /// <summary>One mask per query: the L bits most pertinent to the query's own box, from the query's maps.</summary>
    QueryAdaptive,
    /// <summary>Control: L bits drawn at random (seeded).</summary>
    Random,
    /// <summary>Control: the L bits whose u_l varies most over the training images (selection without attention).</summary>
    HighestVariance,
}

/// <summary>
/// Bit selection (paper: "bit selecting reinforces the pertinence of the local-level code"; lib/MultiLevelHashing/README.md
/// section 2.7): which L of the Kl local bits the multi-level search compares. Scores come from
/// <see cref="BitPertinence.SelectionScore"/>; the L highest win, ties to the lower bit index.
/// </summary>
public static class BitSelection
{
    /// <summary>L = round(rho * Kl), at least 1 and at most Kl.</summary>
    public static int SelectedCount(int localBits, double rho)
    {
        if (!(rho > 0 && rho <= 1)) throw new ArgumentOutOfRangeException(nameof(rho), $"rho must be in (0, 1], got {rho}");
        return Math.Clamp((int)Math.Round(rho * localBits, MidpointRounding.AwayFromZero), 1, localBits);
    }

    /// <summary>The <paramref name="count"/> indices with the highest scores (ties to the lower index), ascending.</summary>
    public static int[] TopBits(IReadOnlyList<double> scores, int count)
    {
        if (count < 0 || count > scores.Count) throw new ArgumentOutOfRangeException(nameof(count), $"cannot keep {count} of {scores.Count} bits");
        return [.. Enumerable.Range(0, scores.Count).OrderByDescending(k => scores[k]).ThenBy(k => k).Take(count).Order()];
    }

    /// <summary>Mean selection score of every bit over images <c>0..Count-1</c> of <paramref name="maps"/>, each against its region.</summary>
    public static double[] MeanScores(BitMaps maps, IReadOnlyList<RegionBox> regions)
    {
        if (regions.Count != maps.Count) throw new ArgumentException($"{regions.Count} regions for {maps.Count} images", nameof(regions));
        var sums = new double[maps.Bits];
        for (int i = 0; i < maps.Count; i++)
        {
            var cover = BitPertinence.CellCoverage(regions[i], maps.Height, maps.Width);
            for (int k = 0; k < maps.Bits; k++) sums[k] += BitPertinence.SelectionScore(maps.Map(i, k), cover);
        }
        return [.. sums.Select(s => maps.Count > 0 ? s / maps.Count : 0)];
    }

    /// <summary>Dataset-level selection: the <paramref name="count"/> bits of highest mean score over (training) images and their landmark boxes.</summary>
    public static BitMask DatasetLevel(BitMaps trainingLocalMaps, IReadOnlyList<RegionBox> boxes, int count) =>
        BitMask.FromIndices(trainingLocalMaps.Bits, TopBits(MeanScores(trainingLocalMaps, boxes), count));

    /// <summary>
    /// Query-adaptive selection for image <paramref name="image"/> of <paramref name="localMaps"/>: the <paramref name="count"/>
    /// bits of highest score against <paramref name="coverage"/> (the query box's <see cref="BitPertinence.CellCoverage"/>,
    /// or <see cref="BitPertinence.SalientCoverage"/> when there is no box).
    /// </summary>
    public static BitMask QueryAdaptive(BitMaps localMaps, int image, ReadOnlySpan<float> coverage, int count)
    {
        var scores = new double[localMaps.Bits];
        for (int k = 0; k < scores.Length; k++) scores[k] = BitPertinence.SelectionScore(localMaps.Map(image, k), coverage);
        return BitMask.FromIndices(localMaps.Bits, TopBits(scores, count));
    }

    /// <summary>Control: <paramref name="count"/> of <paramref name="bits"/> bits drawn uniformly without replacement from <paramref name="seed"/>.</summary>
    public static BitMask Random(int bits, int count, int seed)
    {
        if (count < 0 || count > bits) throw new ArgumentOutOfRangeException(nameof(count));
        var order = Enumerable.Range(0, bits).ToArray();
        new System.Random(seed).Shuffle(order);
        return BitMask.FromIndices(bits, order.Take(count));
    }

    /// <summary>Control: the <paramref name="count"/> bits of highest variance of u_l over the (training) images, ties to the lower index.</summary>
    public static BitMask HighestVariance(float[] localCodes, int bits, int count)
    {
        if (bits < 1 || localCodes.Length % bits != 0) throw new ArgumentException($"{localCodes.Length} values are not rows of {bits} bits", nameof(localCodes));
        int n = localCodes.Length / bits;
        var variance = new double[bits];
        for (int k = 0; k < bits; k++)
        {
            double sum = 0, squares = 0;
            for (int i = 0; i < n; i++) { double v = localCodes[(long)i * bits + k]; sum += v; squares += v * v; }
            double mean = n > 0 ? sum / n : 0;
            variance[k] = n > 0 ? squares / n - mean * mean : 0;
        }
        return BitMask.FromIndices(bits, TopBits(variance, count));
    }
}
