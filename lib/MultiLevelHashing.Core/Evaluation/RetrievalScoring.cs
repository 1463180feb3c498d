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

    /// <summary>
    /// Ranking of the whole database by Hamming distance over the bits of a mask (the selected local bits alone,
    /// lib/MultiLevelHashing/README.md section 2.7): one mask for every query, or one per query; ties by database index.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<int>> MaskedHammingRankings(PackedCodes database, PackedCodes queries, IReadOnlyList<BitMask> masks)
    {
        if (database.Bits != queries.Bits) throw new ArgumentException($"{queries.Bits}-bit queries against {database.Bits}-bit database");
        if (masks.Count != 1 && masks.Count != queries.Count) throw new ArgumentException($"give one mask or one per query ({queries.Count}); got {masks.Count}");
        foreach (var mask in masks)
            if (mask.Bits != database.Bits) throw new ArgumentException($"a mask over {mask.Bits} bits for {database.Bits}-bit codes");
        int n = database.Count, words = database.WordsPerCode;
        var result = new IReadOnlyList<int>[queries.Count];
        Parallel.For(0, queries.Count, q =>
        {
            var mask = (masks.Count == 1 ? masks[0] : masks[q]).Words;
            var code = queries.Code(q);
            var distance = new int[n];
            for (int i = 0; i < n; i++)
            {
                var row = database.Code(i);
                int d = 0;
                for (int w = 0; w < words; w++) d += System.Numerics.BitOperations.PopCount((code[w] ^ row[w]) & mask[w]);
                distance[i] = d;
            }
            var ids = Enumerable.Range(0, n).ToArray();
            Array.Sort(ids, (a, b) => distance[a] != distance[b] ? distance[a].CompareTo(distance[b]) : a.CompareTo(b));
            result[q] = ids;
        });
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
