namespace MultiLevelHashing.Search.Regions;

/// <summary>
/// A region-level inverted file (lib/MultiLevelHashing/README.md section 2.8), the second stage-1 source of the search
/// with region codes: every database region is filed under its nearest word of a <see cref="RegionVocabulary"/>; a query
/// region visits the lists of its <c>probes</c> nearest words (multiple assignment) and compares its code with every
/// region filed there under the matcher's <see cref="SelectiveKernel"/>, so that an image is found by its regions even
/// when its global code ranks it far down, as ASMK finds images (Tolias, Avrithis and Jégou, 2013). The score of an image
/// is the matcher's similarity restricted to the pairs visited (positive kernel values only), normalised by the same
/// exact self-similarities; with one word, or every word probed, it is exactly <see cref="RegionMatcher.Similarity"/>
/// for every image that has a positive one (best-match aggregation; summing all pairs, equal up to float rounding).
/// </summary>
public sealed class RegionInvertedFile
{
    private readonly int[] _listStart;   // K + 1 offsets into the two arrays below, by word
    private readonly int[] _listRegion;  // the database region filed there (index into Database.AllCodes rows)
    private readonly int[] _listImage;   // the image that region belongs to
    private readonly float[] _table;

    /// <summary>Files every region of <paramref name="matcher"/>'s database under its nearest word of <paramref name="vocabulary"/>.</summary>
    public RegionInvertedFile(RegionMatcher matcher, RegionVocabulary vocabulary)
    {
        var database = matcher.Database;
        if (vocabulary.Bits != database.Bits)
            throw new ArgumentException($"a vocabulary of {vocabulary.Bits}-bit codes for {database.Bits}-bit region codes");
        Matcher = matcher;
        Vocabulary = vocabulary;
        _table = matcher.Kernel.Table(database.Bits);
        int total = database.TotalRegions, wpc = database.WordsPerCode, k = vocabulary.Count;
        var word = new int[total];
        Parallel.For(0, database.Count, image =>
        {
            var codes = database.Codes(image);
            int first = database.FirstRegion(image);
            for (int r = 0; r < database.RegionCount(image); r++) word[first + r] = vocabulary.Nearest(codes.Slice(r * wpc, wpc));
        });
        _listStart = new int[k + 1];
        foreach (int w in word) _listStart[w + 1]++;
        for (int w = 0; w < k; w++) _listStart[w + 1] += _listStart[w];
        _listRegion = new int[total];
        _listImage = new int[total];
        var fill = _listStart[..k];
        var offsets = database.Offsets;
        for (int image = 0; image < database.Count; image++)
            for (int r = offsets[image]; r < offsets[image + 1]; r++)
            {
                int at = fill[word[r]]++;
                (_listRegion[at], _listImage[at]) = (r, image);
            }
    }

    /// <summary>The matcher whose database is filed and whose kernel scores the visited pairs.</summary>
    public RegionMatcher Matcher { get; }

    /// <summary>The words.</summary>
    public RegionVocabulary Vocabulary { get; }

    /// <summary>Regions filed under word <paramref name="word"/>.</summary>
    public int ListLength(int word) => _listStart[word + 1] - _listStart[word];

    /// <summary>
    /// The <paramref name="count"/> database images with the highest inverted-file score for query image
    /// <paramref name="query"/> of <paramref name="queries"/>, best first (ties by id), with their scores; images no
    /// visited pair matched are not returned, so fewer may come back.
    /// </summary>
    public (int[] Ids, double[] Scores) Search(RegionCodes queries, int query, int count, int probes = 4)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(probes, 1);
        var database = Matcher.Database;
        if (queries.Bits != database.Bits)
            throw new ArgumentException($"query region codes have {queries.Bits} bits, the database's {database.Bits}; both must come from the same coder");
        int wpc = database.WordsPerCode, nq = queries.RegionCount(query);
        // Per-image accumulators indexed by id, reused by the thread's later queries: no hashing per visited pair, and
        // only the images touched are reset.
        var scratch = _scratch.Value!;
        scratch.EnsureSize(database.Count);
        var (raw, best, stamp) = (scratch.Raw, scratch.Best, scratch.Stamp);
        var scored = new List<int>();
        var touched = new List<int>();
        bool bestMatch = Matcher.Kernel.Aggregation == RegionAggregation.BestMatch;
        var qa = queries.Codes(query);
        var all = database.AllCodes;
        int probeCount = Math.Min(probes, Vocabulary.Count);
        Span<int> words = probeCount <= 64 ? stackalloc int[probeCount] : new int[probeCount];
        try
        {
            for (int r = 0; r < nq; r++)
            {
                var q = qa.Slice(r * wpc, wpc);
                int probed = Vocabulary.Nearest(q, words);
                for (int p = 0; p < probed; p++)
                {
                    int w = words[p];
                    for (int e = _listStart[w]; e < _listStart[w + 1]; e++)
                    {
                        float value = _table[BitPacking.Hamming(q, all.Slice(_listRegion[e] * wpc, wpc))];
                        if (value <= 0) continue;
                        int image = _listImage[e];
                        if (stamp[image] != r + 1)
                        {
                            stamp[image] = r + 1;
                            best[image] = value;
                            touched.Add(image);
                        }
                        else best[image] = bestMatch ? Math.Max(best[image], value) : best[image] + value;
                    }
                }
                // Each image's sum grows query region by query region, the order RegionMatcher sums in.
                foreach (int image in touched)
                {
                    if (raw[image] == 0) scored.Add(image);
                    raw[image] += best[image];
                }
                touched.Clear();
            }
            double self = Matcher.SelfSimilarity(queries, query);
            var ids = scored.ToArray();
            var scores = ids.Select(i => RegionMatcher.Normalised(raw[i], self, Matcher.DatabaseSelfSimilarity(i))).ToArray();
            var order = Enumerable.Range(0, ids.Length).ToArray();
            Array.Sort(order, (a, b) => scores[a] != scores[b] ? scores[b].CompareTo(scores[a]) : ids[a].CompareTo(ids[b]));
            int keep = Math.Min(count, order.Length);
            return ([.. order[..keep].Select(i => ids[i])], [.. order[..keep].Select(i => scores[i])]);
        }
        finally
        {
            foreach (int image in scored) raw[image] = 0;
            foreach (int image in scored) stamp[image] = 0;
            foreach (int image in touched) stamp[image] = 0;
        }
    }

    private readonly ThreadLocal<Scratch> _scratch = new(() => new Scratch());

    /// <summary>A thread's accumulators: raw sums, the current query region's best value, and which query region last touched each image.</summary>
    private sealed class Scratch
    {
        public double[] Raw = [];
        public float[] Best = [];
        public int[] Stamp = [];

        public void EnsureSize(int images)
        {
            if (Raw.Length >= images) return;
            (Raw, Best, Stamp) = (new double[images], new float[images], new int[images]);
        }
    }
}
