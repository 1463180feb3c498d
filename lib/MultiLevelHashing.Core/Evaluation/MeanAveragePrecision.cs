using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Evaluation;

/// <summary>Scores of one query under one protocol.</summary>
/// <param name="Query">Index in <see cref="GroundTruth.Queries"/>.</param>
/// <param name="Id">The query's id.</param>
/// <param name="AveragePrecision">Official AP in [0, 1]; NaN when skipped.</param>
/// <param name="PrecisionAtK">Revisited-style P@k for each k of <see cref="EvaluationResult.Ks"/>; NaN when skipped.</param>
/// <param name="Positives">Positives under the protocol.</param>
/// <param name="RetrievedPositives">Positives that appear in the ranked list.</param>
/// <param name="Skipped">True when the query has no positives under the protocol (it is left out of the means).</param>
public sealed record QueryEvaluation(int Query, string Id, double AveragePrecision, double[] PrecisionAtK,
                                     int Positives, int RetrievedPositives, bool Skipped);

/// <summary>mAP, mP@k and per-query scores of a set of ranked lists under one protocol.</summary>
/// <param name="Protocol">The protocol scored.</param>
/// <param name="MeanAveragePrecision">Mean AP over evaluated queries, in [0, 1] (NaN when every query was skipped).</param>
/// <param name="Ks">The k of each mP@k (1, 5, 10 by default).</param>
/// <param name="MeanPrecisionAtK">mP@k over evaluated queries, in [0, 1].</param>
/// <param name="Queries">Per-query scores in ground-truth order.</param>
public sealed record EvaluationResult(EvaluationProtocol Protocol, double MeanAveragePrecision, int[] Ks,
                                      double[] MeanPrecisionAtK, IReadOnlyList<QueryEvaluation> Queries)
{
    /// <summary>Queries that were scored.</summary>
    public int Evaluated => Queries.Count(q => !q.Skipped);

    /// <summary>Queries left out because they have no positives under the protocol.</summary>
    public int Skipped => Queries.Count(q => q.Skipped);

    /// <summary>mAP in percent, as papers report it.</summary>
    public double MapPercent => 100 * MeanAveragePrecision;
}

/// <summary>
/// Mean average precision over the queries of a benchmark (lib/MultiLevelHashing/README.md section 3; the paper's Oxford5k/105k and Paris6k
/// tables). One ranked list per query, in <see cref="GroundTruth.Queries"/> order.
/// </summary>
/// <remarks>
/// AP per query as <see cref="AveragePrecision.Compute"/> (junk removed, trapezoid, old_precision starts at 1).
/// Lists may be shorter than the database: unlisted images are never retrieved. Queries without positives under the
/// protocol are skipped and the means divide by the number of remaining queries (revisited <c>compute_map</c>);
/// classic Oxford5k and Paris6k have no such query. mP@k follows <see cref="AveragePrecision.PrecisionAt"/>.
/// </remarks>
public static class MeanAveragePrecision
{
    /// <summary>The revisited benchmark's precision cut-offs.</summary>
    public static readonly int[] DefaultKs = [1, 5, 10];

    /// <summary>
    /// Scores ranked lists of database indices (<see cref="GroundTruth.DatabaseImages"/>); a negative index is an image
    /// outside that list and counts as a negative.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong number of lists, a repeated index, or an index past the database.</exception>
    public static EvaluationResult Evaluate(GroundTruth truth, IReadOnlyList<IReadOnlyList<int>> rankings,
                                            EvaluationProtocol protocol, IReadOnlyList<int>? ks = null)
    {
        if (rankings.Count != truth.Queries.Count)
            throw new ArgumentException($"{rankings.Count} ranked lists for {truth.Queries.Count} queries", nameof(rankings));
        int[] kArr = [.. ks ?? DefaultKs];
        var per = new List<QueryEvaluation>(rankings.Count);
        for (int q = 0; q < rankings.Count; q++) per.Add(EvaluateQuery(truth, q, rankings[q], protocol, kArr));
        return Summarize(protocol, kArr, per);
    }

    /// <summary>
    /// Scores the ranked list of one query (database indices, best first), so that a benchmark over a large database can
    /// rank and score a few queries at a time instead of holding every ranked list; <see cref="Summarize"/> then
    /// combines them exactly as <see cref="Evaluate"/> does. A query without positives under the protocol is skipped.
    /// </summary>
    /// <exception cref="ArgumentException">A repeated index, or an index past the database.</exception>
    public static QueryEvaluation EvaluateQuery(GroundTruth truth, int query, IReadOnlyList<int> ranking, EvaluationProtocol protocol, IReadOnlyList<int> ks)
    {
        var rel = truth.Relevance(query, protocol);
        var id = truth.Queries[query].Id;
        if (rel.Positives.Length == 0)
            return new QueryEvaluation(query, id, double.NaN, [.. ks.Select(_ => double.NaN)], 0, 0, true);
        RankLabel[] labels;
        try
        {
            labels = AveragePrecision.Label(ranking, rel.Positives, rel.Ignored, truth.DatabaseImages.Count);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"query {query} ({id}): {e.Message}", nameof(ranking), e);
        }
        double ap = AveragePrecision.Compute(labels, rel.Positives.Length);
        var p = new double[ks.Count];
        for (int i = 0; i < ks.Count; i++) p[i] = AveragePrecision.PrecisionAt(labels, rel.Positives.Length, ks[i]);
        int retrieved = labels.Count(l => l == RankLabel.Positive);
        return new QueryEvaluation(query, id, ap, p, rel.Positives.Length, retrieved, false);
    }

    /// <summary>mAP and mP@k over the evaluated (not skipped) queries of <paramref name="queries"/>, in ground-truth order.</summary>
    public static EvaluationResult Summarize(EvaluationProtocol protocol, IReadOnlyList<int> ks, IReadOnlyList<QueryEvaluation> queries)
    {
        double sumAp = 0;
        var sumP = new double[ks.Count];
        int evaluated = 0;
        foreach (var q in queries)
        {
            if (q.Skipped) continue;
            sumAp += q.AveragePrecision;
            for (int i = 0; i < ks.Count; i++) sumP[i] += q.PrecisionAtK[i];
            evaluated++;
        }
        double map = evaluated == 0 ? double.NaN : sumAp / evaluated;
        return new EvaluationResult(protocol, map, [.. ks], [.. sumP.Select(s => evaluated == 0 ? double.NaN : s / evaluated)], queries);
    }

    /// <summary>
    /// Scores ranked lists of image names (as in <see cref="GroundTruth.DatabaseImages"/>, no extension).
    /// A name outside the database list is an error when the list is complete, and a negative otherwise
    /// (text lists read without their image folder name only labelled images).
    /// </summary>
    /// <exception cref="UserInputException">An unknown or repeated name; the message names <paramref name="source"/> and the line (query + 1).</exception>
    public static EvaluationResult EvaluateNames(GroundTruth truth, IReadOnlyList<IReadOnlyList<string>> rankedNames,
                                            EvaluationProtocol protocol, IReadOnlyList<int>? ks = null, string source = "ranked lists")
    {
        if (rankedNames.Count != truth.Queries.Count)
            throw UserInputException.InFile(source, $"has {rankedNames.Count} ranked lists but the ground truth ({truth.Source}) has {truth.Queries.Count} queries; write one line per query, in the ground truth's query order");
        var rankings = new List<IReadOnlyList<int>>(rankedNames.Count);
        for (int q = 0; q < rankedNames.Count; q++)
        {
            var names = rankedNames[q];
            var idx = new int[names.Count];
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (int r = 0; r < names.Count; r++)
            {
                if (!seen.Add(names[r]))
                    throw UserInputException.InFile(source, $"image '{names[r]}' is ranked twice for query {truth.Queries[q].Id}", q + 1);
                idx[r] = truth.IndexOf(names[r]);
                if (idx[r] < 0 && truth.DatabaseIsComplete)
                    throw UserInputException.InFile(source, $"image '{names[r]}' (rank {r + 1}) is not in the ground truth's image list", q + 1);
            }
            rankings.Add(idx);
        }
        return Evaluate(truth, rankings, protocol, ks);
    }
}
