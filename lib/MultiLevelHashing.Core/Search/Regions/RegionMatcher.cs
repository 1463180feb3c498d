using System.Numerics;

namespace MultiLevelHashing.Search.Regions;

/// <summary>How the kernel values of region pairs add up to an image similarity.</summary>
public enum RegionAggregation
{
    /// <summary>For each query region, its best database region only: sum_r max_s sigma(u_rs) (one match per query region).</summary>
    BestMatch,

    /// <summary>Every pair counts: sum_r sum_s sigma(u_rs), as ASMK's selective match kernel.</summary>
    AllPairs,
}

/// <summary>A tentative correspondence: region <paramref name="QueryRegion"/> of a query image matched to region <paramref name="ImageRegion"/> of a database image.</summary>
/// <param name="QueryRegion">Index among the query image's regions.</param>
/// <param name="ImageRegion">Index among the database image's regions.</param>
/// <param name="Value">The kernel value sigma(u) of the pair, positive.</param>
public readonly record struct RegionMatch(int QueryRegion, int ImageRegion, float Value);

/// <summary>
/// The selective match kernel of ASMK (Tolias, Avrithis and Jégou, 2013/2016) on binary codes
/// (lib/MultiLevelHashing/README.md section 2.8): for two B-bit codes at Hamming distance h, u = 1 - 2h/B (the cosine of
/// their sign vectors) and sigma(u) = u^alpha where u &gt; tau, 0 otherwise. alpha &gt; 1 lets close pairs dominate; the
/// threshold drops pairs no closer than chance.
/// </summary>
/// <param name="Exponent">alpha.</param>
/// <param name="Threshold">tau, in [-1, 1).</param>
/// <param name="Aggregation">How pair values add up.</param>
public sealed record SelectiveKernel(double Exponent = 3, double Threshold = 0, RegionAggregation Aggregation = RegionAggregation.BestMatch)
{
    /// <summary>alpha = 3, tau = 0, best match per query region: the setting of the tables.</summary>
    public static SelectiveKernel Default { get; } = new();

    /// <summary>sigma at every Hamming distance 0..bits, so that matching needs one popcount and one load per pair.</summary>
    public float[] Table(int bits)
    {
        if (!(Exponent > 0) || !double.IsFinite(Exponent)) throw new ArgumentOutOfRangeException(nameof(Exponent), Exponent, "the exponent must be positive");
        if (!(Threshold >= -1 && Threshold < 1)) throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "the threshold must lie in [-1, 1)");
        var table = new float[bits + 1];
        for (int h = 0; h <= bits; h++)
        {
            double u = 1 - 2.0 * h / bits;
            table[h] = u > Threshold ? (float)(Math.Sign(u) * Math.Pow(Math.Abs(u), Exponent)) : 0f;
        }
        return table;
    }

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant(
        $"{(Aggregation == RegionAggregation.BestMatch ? "best match" : "all pairs")}, alpha={Exponent:0.##}, tau={Threshold:0.##}");
}

/// <summary>
/// Scores images against a query by their region codes under a <see cref="SelectiveKernel"/>
/// (lib/MultiLevelHashing/README.md section 2.8): K(Q, D) = agg over query regions r and database regions s of
/// sigma(u_rs), normalised by sqrt(K(Q, Q) K(D, D)) so that an image with many regions gains nothing by having them.
/// Exact: every pair is compared, one popcount per word. The self-similarities of the database are computed once.
/// </summary>
public sealed class RegionMatcher
{
    private readonly float[] _table;
    private readonly double[] _self;

    /// <summary>A matcher over <paramref name="database"/>'s images.</summary>
    public RegionMatcher(RegionCodes database, SelectiveKernel? kernel = null)
    {
        Database = database;
        Kernel = kernel ?? SelectiveKernel.Default;
        _table = Kernel.Table(database.Bits);
        _self = new double[database.Count];
        Parallel.For(0, database.Count, i => _self[i] = Raw(database, i, database, i));
    }

    /// <summary>The database's region codes.</summary>
    public RegionCodes Database { get; }

    /// <summary>The kernel.</summary>
    public SelectiveKernel Kernel { get; }

    /// <summary>K(Q, D) of query image <paramref name="query"/> of <paramref name="queries"/> and database image <paramref name="image"/>, normalised; 0 when either has no regions.</summary>
    public double Similarity(RegionCodes queries, int query, int image)
    {
        Check(queries);
        double self = Raw(queries, query, queries, query);
        return Normalised(Raw(queries, query, Database, image), self, _self[image]);
    }

    /// <summary>Unnormalised K(Q, Q) of query image <paramref name="query"/> of <paramref name="queries"/>: what its similarities are normalised by.</summary>
    public double SelfSimilarity(RegionCodes queries, int query)
    {
        Check(queries);
        return Raw(queries, query, queries, query);
    }

    /// <summary>Unnormalised K(D, D) of database image <paramref name="image"/>, computed once at construction.</summary>
    public double DatabaseSelfSimilarity(int image) => _self[image];

    /// <summary>Similarities of one query to the database images <paramref name="images"/>.</summary>
    public double[] Similarities(RegionCodes queries, int query, ReadOnlySpan<int> images)
    {
        Check(queries);
        double self = Raw(queries, query, queries, query);
        var scores = new double[images.Length];
        for (int j = 0; j < images.Length; j++) scores[j] = Normalised(Raw(queries, query, Database, images[j]), self, _self[images[j]]);
        return scores;
    }

    /// <summary>
    /// The tentative correspondences of query image <paramref name="query"/> with database image <paramref name="image"/>:
    /// each query region with its best database region (the largest kernel value; the first such region on ties),
    /// kept where that value is positive, i.e. the pair is closer than the kernel's threshold. What
    /// <see cref="SpatialVerifier"/> checks for one consistent placement, and what a figure draws as lines.
    /// </summary>
    public RegionMatch[] Matches(RegionCodes queries, int query, int image)
    {
        Check(queries);
        var qa = queries.Codes(query);
        var db = Database.Codes(image);
        int words = Database.WordsPerCode, nq = queries.RegionCount(query), nd = Database.RegionCount(image);
        var matches = new List<RegionMatch>(nq);
        for (int r = 0; r < nq; r++)
        {
            var q = qa.Slice(r * words, words);
            float bestValue = 0;
            int bestRegion = -1;
            for (int s = 0; s < nd; s++)
            {
                var d = db.Slice(s * words, words);
                int h = 0;
                for (int w = 0; w < words; w++) h += BitOperations.PopCount(q[w] ^ d[w]);
                if (_table[h] > bestValue) (bestValue, bestRegion) = (_table[h], s);
            }
            if (bestRegion >= 0) matches.Add(new RegionMatch(r, bestRegion, bestValue));
        }
        return [.. matches];
    }

    /// <summary>
    /// Every query against the whole database (the region codes alone as a search): database ids by descending
    /// similarity, ties by id. Parallel over queries.
    /// </summary>
    public int[][] RankAll(RegionCodes queries, int threads = 0)
    {
        Check(queries);
        var all = Enumerable.Range(0, Database.Count).ToArray();
        var result = new int[queries.Count][];
        Parallel.For(0, queries.Count, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount },
            q => result[q] = Order(all, Similarities(queries, q, all)));
        return result;
    }

    /// <summary><paramref name="ids"/> ordered by descending <paramref name="scores"/>, ties by id (stable and deterministic).</summary>
    public static int[] Order(int[] ids, double[] scores)
    {
        var order = Enumerable.Range(0, ids.Length).ToArray();
        Array.Sort(order, (a, b) => scores[a] != scores[b] ? scores[b].CompareTo(scores[a]) : ids[a].CompareTo(ids[b]));
        return [.. order.Select(i => ids[i])];
    }

    private void Check(RegionCodes queries)
    {
        if (queries.Bits != Database.Bits)
            throw new ArgumentException($"query region codes have {queries.Bits} bits, the database's {Database.Bits}; both must come from the same coder");
    }

    internal static double Normalised(double raw, double selfQuery, double selfImage) =>
        selfQuery > 0 && selfImage > 0 ? raw / Math.Sqrt(selfQuery * selfImage) : 0;

    /// <summary>Unnormalised kernel sum of image <paramref name="a"/> of <paramref name="first"/> against image <paramref name="b"/> of <paramref name="second"/>.</summary>
    private double Raw(RegionCodes first, int a, RegionCodes second, int b)
    {
        var qa = first.Codes(a);
        var db = second.Codes(b);
        int words = first.WordsPerCode, nq = first.RegionCount(a), nd = second.RegionCount(b);
        var table = _table;
        bool best = Kernel.Aggregation == RegionAggregation.BestMatch;
        if (words == 4) return Raw256(qa, db, nq, nd, table, best);
        double sum = 0;
        for (int r = 0; r < nq; r++)
        {
            var q = qa.Slice(r * words, words);
            // The best match is the largest kernel value, not the smallest distance: below a negative threshold the
            // kernel is 0, above it negative, so it need not fall with distance.
            float bestValue = float.NegativeInfinity, pairs = 0;
            for (int s = 0; s < nd; s++)
            {
                var d = db.Slice(s * words, words);
                int h = 0;
                for (int w = 0; w < words; w++) h += BitOperations.PopCount(q[w] ^ d[w]);
                float value = table[h];
                if (value > bestValue) bestValue = value;
                pairs += value;
            }
            if (nd > 0) sum += best ? bestValue : pairs;
        }
        return sum;
    }

    /// <summary>
    /// <see cref="Raw"/> for 256-bit codes (the tables' length), with the query region's four words in registers and no
    /// inner loop over words: the same sums, in the same order, about twice as fast.
    /// </summary>
    private static double Raw256(ReadOnlySpan<ulong> qa, ReadOnlySpan<ulong> db, int nq, int nd, float[] table, bool best)
    {
        double sum = 0;
        for (int r = 0; r < nq; r++)
        {
            ulong q0 = qa[4 * r], q1 = qa[4 * r + 1], q2 = qa[4 * r + 2], q3 = qa[4 * r + 3];
            float bestValue = float.NegativeInfinity, pairs = 0;
            for (int s = 0, o = 0; s < nd; s++, o += 4)
            {
                int h = BitOperations.PopCount(q0 ^ db[o]) + BitOperations.PopCount(q1 ^ db[o + 1]) +
                        BitOperations.PopCount(q2 ^ db[o + 2]) + BitOperations.PopCount(q3 ^ db[o + 3]);
                float value = table[h];
                if (value > bestValue) bestValue = value;
                pairs += value;
            }
            if (nd > 0) sum += best ? bestValue : pairs;
        }
        return sum;
    }
}
