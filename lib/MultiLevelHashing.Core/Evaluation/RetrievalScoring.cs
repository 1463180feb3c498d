using MultiLevelHashing.Data;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Evaluation;

/// <summary>
/// Retrieval mAP of codes and descriptors on a <see cref="LandmarkDataset"/> under the official protocol
/// (<see cref="MeanAveragePrecision"/>; the dataset's default protocol: classic for Oxford-style ground truth).
/// </summary>
public static class RetrievalScoring
{
    /// <summary>
    /// Hamming ranking of the whole database for each query (ascending distance, ties by database index) with the
    /// search layer's exhaustive scan (<see cref="LinearScan"/>): stage 1 of the paper's multi-level search, used
    /// here on one code level.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<int>> HammingRankings(PackedCodes database, PackedCodes queries)
    {
        if (database.Bits != queries.Bits) throw new ArgumentException($"{queries.Bits}-bit queries against {database.Bits}-bit database");
        var knn = LinearScan.Search(database, queries, Math.Max(1, database.Count));
        var result = new IReadOnlyList<int>[queries.Count];
        for (int q = 0; q < queries.Count; q++)
            result[q] = knn.Ids.Row(q).ToArray().Where(id => id >= 0).ToArray();
        return result;
    }

    /// <summary>Rankings by descending cosine similarity of L2-normalised float descriptors (ties by index).</summary>
    public static IReadOnlyList<IReadOnlyList<int>> CosineRankings(float[] database, float[] queries, int dimension)
    {
        int n = database.Length / dimension, m = queries.Length / dimension;
        var result = new IReadOnlyList<int>[m];
        Parallel.For(0, m, q =>
        {
            var s = new double[n];
            var qv = queries.AsSpan(q * dimension, dimension);
            for (int i = 0; i < n; i++)
            {
                var dv = database.AsSpan(i * dimension, dimension);
                double dot = 0;
                for (int k = 0; k < dimension; k++) dot += qv[k] * dv[k];
                s[i] = dot;
            }
            result[q] = Enumerable.Range(0, n).OrderByDescending(i => s[i]).ToArray();
        });
        return result;
    }

    /// <summary>mAP (0-1) of rankings on <paramref name="dataset"/> under its default protocol.</summary>
    public static double Map(LandmarkDataset dataset, IReadOnlyList<IReadOnlyList<int>> rankings) =>
        MeanAveragePrecision.Evaluate(dataset.GroundTruth, rankings, dataset.GroundTruth.DefaultProtocol).MeanAveragePrecision;

    /// <summary>mAP of packed codes (database and queries encoded by the same hash function).</summary>
    public static double Map(LandmarkDataset dataset, PackedCodes database, PackedCodes queries) =>
        Map(dataset, HammingRankings(database, queries));
}
