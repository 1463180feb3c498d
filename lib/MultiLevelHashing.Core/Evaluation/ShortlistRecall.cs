using MultiLevelHashing.Data;

namespace MultiLevelHashing.Evaluation;

/// <summary>
/// How much of the answer a stage-1 shortlist holds (lib/MultiLevelHashing/README.md section 2.8): the share of a
/// query's positives among the first N of a ranking, averaged over the queries with positives. Stage 2 can only
/// re-order the shortlist, so this is the ceiling of a two-stage search's recall.
/// </summary>
public static class ShortlistRecall
{
    /// <summary>Mean recall at <paramref name="length"/> (0-1) of <paramref name="rankings"/> under <paramref name="protocol"/>.</summary>
    public static double Mean(GroundTruth truth, IReadOnlyList<IReadOnlyList<int>> rankings, int length, EvaluationProtocol protocol)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (rankings.Count != truth.Queries.Count)
            throw new ArgumentException($"{rankings.Count} ranked lists for {truth.Queries.Count} queries", nameof(rankings));
        double sum = 0;
        int counted = 0;
        for (int q = 0; q < rankings.Count; q++)
        {
            var positives = truth.Relevance(q, protocol).Positives;
            if (positives.Length == 0) continue;
            var set = new HashSet<int>(positives);
            int found = rankings[q].Take(length).Count(set.Contains);
            sum += (double)found / positives.Length;
            counted++;
        }
        return counted == 0 ? double.NaN : sum / counted;
    }
}
