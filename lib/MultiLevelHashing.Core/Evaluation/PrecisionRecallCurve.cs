using MultiLevelHashing.Data;

namespace MultiLevelHashing.Evaluation;

/// <summary>
/// The mean interpolated precision-recall curve of a set of ranked lists (lib/MultiLevelHashing/README.md section 3.1):
/// per query, the precision at recall level r is the highest precision at any recall ≥ r along its list
/// (<see cref="AveragePrecision.Curve"/>, ignored images removed; 0 where recall r is never reached); the curve is the
/// mean over the queries the protocol evaluates. It is the standard 11-point curve with <c>levels = 11</c>.
/// </summary>
public static class PrecisionRecallCurve
{
    /// <summary>Recall levels 0, 1/(levels-1), ..., 1 and the mean interpolated precision at each.</summary>
    public static PrecisionRecallPoint[] Mean(GroundTruth truth, IReadOnlyList<IReadOnlyList<int>> rankings, EvaluationProtocol protocol, int levels = 21)
    {
        if (levels < 2) throw new ArgumentOutOfRangeException(nameof(levels), "at least 2 recall levels");
        if (rankings.Count != truth.Queries.Count)
            throw new ArgumentException($"{rankings.Count} ranked lists for {truth.Queries.Count} queries", nameof(rankings));
        var sum = new double[levels];
        int evaluated = 0;
        for (int q = 0; q < rankings.Count; q++)
        {
            var rel = truth.Relevance(q, protocol);
            if (rel.Positives.Length == 0) continue;
            var labels = AveragePrecision.Label(rankings[q], rel.Positives, rel.Ignored, truth.DatabaseImages.Count);
            // The curve's first point (0, 1) is its start, not a measured rank; interpolation uses the measured ones.
            var interpolated = Interpolated(AveragePrecision.Curve(labels, rel.Positives.Length)[1..], levels);
            for (int i = 0; i < levels; i++) sum[i] += interpolated[i];
            evaluated++;
        }
        return [.. Enumerable.Range(0, levels).Select(i => new PrecisionRecallPoint(i / (levels - 1.0), evaluated == 0 ? double.NaN : sum[i] / evaluated))];
    }

    /// <summary>Interpolated precision at <paramref name="levels"/> evenly spaced recall levels of the (recall, precision) points measured after each rank of one list.</summary>
    public static double[] Interpolated(IReadOnlyList<PrecisionRecallPoint> curve, int levels)
    {
        var result = new double[levels];
        for (int i = 0; i < levels; i++)
        {
            double r = i / (levels - 1.0), best = 0;
            foreach (var p in curve)
                if (p.Recall >= r - 1e-12 && p.Precision > best) best = p.Precision;
            result[i] = best;
        }
        return result;
    }
}
