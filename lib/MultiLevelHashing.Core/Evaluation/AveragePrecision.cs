namespace MultiLevelHashing.Evaluation;

/// <summary>What one ranked database image is for one query.</summary>
public enum RankLabel : byte
{
    /// <summary>Neither positive nor ignored: counts against precision.</summary>
    Negative = 0,
    /// <summary>A positive of the query under the protocol.</summary>
    Positive = 1,
    /// <summary>Junk (or the other difficulty under Easy/Hard): removed from the ranked list before scoring.</summary>
    Ignored = 2,
}

/// <summary>One point of a precision-recall curve, taken after each non-ignored rank.</summary>
public readonly record struct PrecisionRecallPoint(double Recall, double Precision);

/// <summary>
/// Average precision exactly as the official Oxford <c>compute_ap.cpp</c> (and the revisited benchmark's
/// <c>compute_ap</c>, which is algebraically the same), lib/MultiLevelHashing/README.md section 3.1.
/// </summary>
/// <remarks>
/// <para>Ranks: the list is in retrieval order, best first; position 0 is the top. Ignored (junk) images are removed
/// first and the remaining items are counted 0-based as j. At each kept item recall = TP/|positives| and
/// precision = TP/(j+1); ap += (recall − old_recall)·(old_precision + precision)/2, starting from old_recall = 0 and
/// old_precision = 1 (trapezoid rule). Only kept items where a positive appears add area.</para>
/// <para>Short lists: a positive that never appears in the list contributes nothing (it is "never retrieved"), so AP
/// is then below 1 even if everything listed is right.</para>
/// <para>Ties: the evaluator sees a strict order. Callers that score images must break ties themselves; the search
/// code breaks them by database index so that results are deterministic.</para>
/// <para>No positives: AP is undefined; these functions return <see cref="double.NaN"/> and
/// <see cref="MeanAveragePrecision"/> skips such queries, as the revisited evaluation does.</para>
/// <para>Arithmetic is in double precision (the C++ original uses float; results agree to about 1e-6).</para>
/// </remarks>
public static class AveragePrecision
{
    /// <summary>AP of a labelled ranked list with <paramref name="positiveCount"/> positives in all (retrieved or not).</summary>
    public static double Compute(ReadOnlySpan<RankLabel> ranked, int positiveCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(positiveCount);
        if (positiveCount == 0) return double.NaN;
        double oldRecall = 0, oldPrecision = 1, ap = 0;
        int tp = 0, j = 0;
        foreach (var label in ranked)
        {
            if (label == RankLabel.Ignored) continue;
            if (label == RankLabel.Positive) tp++;
            double recall = (double)tp / positiveCount;
            double precision = tp / (j + 1.0);
            ap += (recall - oldRecall) * ((oldPrecision + precision) / 2.0);
            oldRecall = recall;
            oldPrecision = precision;
            j++;
        }
        if (tp > positiveCount) throw new ArgumentException($"the list holds {tp} positives but positiveCount is {positiveCount}", nameof(positiveCount));
        return ap;
    }

    /// <summary>
    /// The same AP written as the revisited benchmark's Python <c>compute_ap(ranks, nres)</c>: from the 0-based
    /// positions of retrieved positives after removing ignored items, ap = Σ_j (p0 + p1)/2 / nres with
    /// p0 = j / rank (1 when rank = 0) and p1 = (j + 1) / (rank + 1). Kept as a second, independent form so that
    /// notebooks and tests can show both agree.
    /// </summary>
    public static double ComputeFromPositions(IReadOnlyList<int> positivePositions, int positiveCount)
    {
        if (positiveCount == 0) return double.NaN;
        double ap = 0, step = 1.0 / positiveCount;
        for (int j = 0; j < positivePositions.Count; j++)
        {
            int rank = positivePositions[j];
            double p0 = rank == 0 ? 1.0 : (double)j / rank;
            double p1 = (j + 1.0) / (rank + 1.0);
            ap += (p0 + p1) * step / 2.0;
        }
        return ap;
    }

    /// <summary>0-based positions of the positives among the non-ignored items (the input of <see cref="ComputeFromPositions"/>).</summary>
    public static int[] PositivePositions(ReadOnlySpan<RankLabel> ranked)
    {
        var result = new List<int>();
        int kept = 0;
        foreach (var l in ranked)
        {
            if (l == RankLabel.Ignored) continue;
            if (l == RankLabel.Positive) result.Add(kept);
            kept++;
        }
        return [.. result];
    }

    /// <summary>One step of <see cref="Trace"/>: what compute_ap does at one rank.</summary>
    /// <param name="Rank">0-based rank in the submitted list.</param>
    /// <param name="Label">The item's label.</param>
    /// <param name="Kept">0-based count j among non-ignored items, or -1 for an ignored item.</param>
    /// <param name="Recall">Recall after the item (unchanged for an ignored one).</param>
    /// <param name="Precision">Precision after the item.</param>
    /// <param name="Increment">Area added: (recall − old_recall)·(old_precision + precision)/2.</param>
    /// <param name="Ap">AP so far.</param>
    public readonly record struct ApStep(int Rank, RankLabel Label, int Kept, double Recall, double Precision, double Increment, double Ap);

    /// <summary>The steps of <see cref="Compute"/> over a list, for worked examples; the last step's Ap equals Compute.</summary>
    public static ApStep[] Trace(ReadOnlySpan<RankLabel> ranked, int positiveCount)
    {
        var steps = new ApStep[ranked.Length];
        double oldRecall = 0, oldPrecision = 1, ap = 0;
        int tp = 0, j = 0;
        for (int r = 0; r < ranked.Length; r++)
        {
            if (ranked[r] == RankLabel.Ignored) { steps[r] = new ApStep(r, RankLabel.Ignored, -1, oldRecall, oldPrecision, 0, ap); continue; }
            if (ranked[r] == RankLabel.Positive) tp++;
            double recall = positiveCount == 0 ? 0 : (double)tp / positiveCount;
            double precision = tp / (j + 1.0);
            double inc = (recall - oldRecall) * ((oldPrecision + precision) / 2.0);
            ap += inc;
            steps[r] = new ApStep(r, ranked[r], j, recall, precision, inc, ap);
            oldRecall = recall; oldPrecision = precision; j++;
        }
        return steps;
    }

    /// <summary>
    /// Labels a ranked list of database indices: <paramref name="positives"/> and <paramref name="ignored"/> are
    /// database indices (ignored wins where both hold an index, as in the official code). A negative index in
    /// <paramref name="ranking"/> stands for an image outside the ground truth's database list: a negative.
    /// </summary>
    /// <exception cref="ArgumentException">An index appears twice in <paramref name="ranking"/> or is past <paramref name="databaseSize"/>.</exception>
    public static RankLabel[] Label(IReadOnlyList<int> ranking, IReadOnlyCollection<int> positives, IReadOnlyCollection<int> ignored, int databaseSize)
    {
        var kind = new byte[databaseSize];
        foreach (int p in positives) kind[p] = (byte)RankLabel.Positive;
        foreach (int i in ignored) kind[i] = (byte)RankLabel.Ignored;
        var seen = new bool[databaseSize];
        var labels = new RankLabel[ranking.Count];
        for (int r = 0; r < ranking.Count; r++)
        {
            int idx = ranking[r];
            if (idx < 0) { labels[r] = RankLabel.Negative; continue; }
            if (idx >= databaseSize) throw new ArgumentException($"rank {r}: database index {idx} is outside 0..{databaseSize - 1}", nameof(ranking));
            if (seen[idx]) throw new ArgumentException($"rank {r}: database index {idx} was already ranked higher", nameof(ranking));
            seen[idx] = true;
            labels[r] = (RankLabel)kind[idx];
        }
        return labels;
    }

    /// <summary>
    /// The precision-recall curve of a labelled list: the point (0, 1) and then (recall, precision) after each
    /// non-ignored item. The area under it by the trapezoid rule is <see cref="Compute"/>.
    /// </summary>
    public static PrecisionRecallPoint[] Curve(ReadOnlySpan<RankLabel> ranked, int positiveCount)
    {
        var points = new List<PrecisionRecallPoint> { new(0, 1) };
        if (positiveCount == 0) return [.. points];
        int tp = 0, j = 0;
        foreach (var label in ranked)
        {
            if (label == RankLabel.Ignored) continue;
            if (label == RankLabel.Positive) tp++;
            j++;
            points.Add(new((double)tp / positiveCount, (double)tp / j));
        }
        return [.. points];
    }

    /// <summary>
    /// Precision at k as the revisited benchmark computes it (its <c>compute_map</c>): with pos the 1-based
    /// positions of retrieved positives after removing ignored items, k' = min(max(pos), k) and
    /// P@k = |{p in pos : p ≤ k'}| / k'. So when the last positive sits above rank k the precision is measured at that
    /// rank instead. A query with no retrieved positive gets 0; with no positives at all, NaN.
    /// </summary>
    public static double PrecisionAt(ReadOnlySpan<RankLabel> ranked, int positiveCount, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (positiveCount == 0) return double.NaN;
        int position = 0, last = 0;
        var positions = new List<int>();
        foreach (var label in ranked)
        {
            if (label == RankLabel.Ignored) continue;
            position++;
            if (label == RankLabel.Positive) { positions.Add(position); last = position; }
        }
        if (positions.Count == 0) return 0;
        int kq = Math.Min(last, k);
        int hits = 0;
        foreach (int p in positions) if (p <= kq) hits++;
        return (double)hits / kq;
    }
}
