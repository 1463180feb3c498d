namespace MultiLevelHashing.Search.Regions;

/// <summary>The settings a <see cref="RegionVocabulary"/> was fitted with (<see cref="RegionVocabulary.Fit"/>), kept beside it in index files.</summary>
/// <param name="Words">Words asked for (fewer distinct codes give fewer).</param>
/// <param name="Iterations">Most rounds of assignment and majority.</param>
/// <param name="Seed">Seed of the sample and of the initial centroids.</param>
/// <param name="SampleSize">Most codes fitted on.</param>
public sealed record RegionVocabularyFit(int Words, int Iterations, int Seed, int SampleSize);

/// <summary>
/// A visual vocabulary over binary region codes (lib/MultiLevelHashing/README.md section 2.8): K centroid codes of B bits
/// fitted by k-majority, the Hamming-space k-means of Grana et al. (2013): assign every code to its nearest centroid,
/// then set each centroid bit to the majority of its members' bits; repeat. The words of <see cref="RegionInvertedFile"/>,
/// as ASMK's codebook is the coarse quantiser of its inverted file (Tolias, Avrithis and Jégou, 2013). Fitting uses no
/// labels. Deterministic: the same codes and seed give the same centroids on every machine.
/// </summary>
public sealed class RegionVocabulary
{
    private readonly ulong[] _centroids;

    private RegionVocabulary(int bits, ulong[] centroids, RegionVocabularyFit? fitting)
    {
        Bits = bits;
        WordsPerCode = (bits + 63) / 64;
        _centroids = centroids;
        Fitting = fitting;
    }

    /// <summary>Rounds of k-majority <see cref="Fit"/> runs at most by default.</summary>
    public const int DefaultIterations = 10;

    /// <summary>Codes <see cref="Fit"/> samples at most by default.</summary>
    public const int DefaultSampleSize = 200_000;

    /// <summary>The settings this vocabulary was fitted with; null when it was given as centroids without them.</summary>
    public RegionVocabularyFit? Fitting { get; }

    /// <summary>Every centroid, one packed row of <see cref="WordsPerCode"/> words per word, word after word.</summary>
    public ReadOnlySpan<ulong> AllCentroids => _centroids;

    /// <summary>
    /// The vocabulary size used when none is given: about 100 database regions per word, at least 16 words and at most
    /// 8,192. The cap keeps the exhaustive nearest-word search cheap: fitting compares every sampled code with every word
    /// in each round, and every query region compares itself with every word (ASMK's 65k words need an approximate
    /// assignment, which this vocabulary does not have).
    /// </summary>
    public static int DefaultSize(long totalRegions) => (int)Math.Clamp(totalRegions / 100, 16, 8_192);

    /// <summary>Bits per code.</summary>
    public int Bits { get; }

    /// <summary>64-bit words per code.</summary>
    public int WordsPerCode { get; }

    /// <summary>Number of words K.</summary>
    public int Count => _centroids.Length / WordsPerCode;

    /// <summary>Centroid code of word <paramref name="word"/>.</summary>
    public ReadOnlySpan<ulong> Centroid(int word) => _centroids.AsSpan(word * WordsPerCode, WordsPerCode);

    /// <summary>
    /// A vocabulary whose centroids are exactly <paramref name="centroids"/> (one packed row per word), e.g. to test or to
    /// reload one; <paramref name="fitting"/>, when known, the settings it was fitted with.
    /// </summary>
    public static RegionVocabulary FromCentroids(int bits, ulong[] centroids, RegionVocabularyFit? fitting = null)
    {
        BitPacking.ValidateBits(bits);
        int words = (bits + 63) / 64;
        if (centroids.Length == 0 || centroids.Length % words != 0)
            throw new ArgumentException($"{centroids.Length} words do not make whole {bits}-bit centroids (at least one)", nameof(centroids));
        return new RegionVocabulary(bits, (ulong[])centroids.Clone(), fitting);
    }

    /// <summary>
    /// Fits <paramref name="words"/> centroids to the region codes of <paramref name="codes"/> by k-majority:
    /// initial centroids are distinct codes drawn with <paramref name="seed"/> from a sample of at most
    /// <paramref name="sampleSize"/> codes (also drawn with the seed), then <paramref name="iterations"/> rounds of
    /// assignment (ties to the lower word) and bitwise majority (a tied bit, or a word no code chose, keeps its value),
    /// stopping early when no assignment changes. Fewer distinct codes than <paramref name="words"/> give fewer words.
    /// </summary>
    public static RegionVocabulary Fit(RegionCodes codes, int words, int iterations = DefaultIterations, int seed = 0, int sampleSize = DefaultSampleSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(words, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleSize, 1);
        int total = codes.TotalRegions, wpc = codes.WordsPerCode, bits = codes.Bits;
        if (total == 0) throw new ArgumentException("no region codes to fit a vocabulary on", nameof(codes));
        var all = codes.AllCodes;

        // A fixed-seed sample (System.Random with a seed is the same sequence on every platform and version).
        var random = new Random(seed);
        int[] sample = total <= sampleSize ? [.. Enumerable.Range(0, total)] : Shuffled(total, random)[..sampleSize];
        int n = sample.Length;
        var data = new ulong[(long)n * wpc];
        for (int i = 0; i < n; i++) all.Slice(sample[i] * wpc, wpc).CopyTo(data.AsSpan(i * wpc, wpc));

        // Initial centroids: the first distinct codes of a shuffled order.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var centroids = new List<ulong>(words * wpc);
        foreach (int i in Shuffled(n, random))
        {
            var code = data.AsSpan(i * wpc, wpc);
            if (!seen.Add(string.Join(',', code.ToArray()))) continue;
            centroids.AddRange(code);
            if (centroids.Count == words * wpc) break;
        }
        var vocabulary = new RegionVocabulary(bits, [.. centroids], new RegionVocabularyFit(words, iterations, seed, sampleSize));
        int k = vocabulary.Count;
        var assignment = new int[n];
        Array.Fill(assignment, -1);
        var votes = new int[k * bits];
        var members = new int[k];
        for (int round = 0; round < iterations; round++)
        {
            int changed = 0;
            Parallel.For(0, n, () => 0, (i, _, local) =>
            {
                int word = vocabulary.Nearest(data.AsSpan(i * wpc, wpc));
                if (word != assignment[i]) { assignment[i] = word; local++; }
                return local;
            }, local => Interlocked.Add(ref changed, local));
            if (changed == 0) break;
            Array.Clear(votes);
            Array.Clear(members);
            for (int i = 0; i < n; i++)
            {
                int word = assignment[i];
                members[word]++;
                var code = data.AsSpan(i * wpc, wpc);
                var v = votes.AsSpan(word * bits, bits);
                for (int b = 0; b < bits; b++) v[b] += (int)((code[b >> 6] >> (b & 63)) & 1);
            }
            for (int word = 0; word < k; word++)
            {
                if (members[word] == 0) continue;
                var centroid = vocabulary._centroids.AsSpan(word * wpc, wpc);
                var v = votes.AsSpan(word * bits, bits);
                for (int b = 0; b < bits; b++)
                {
                    int twice = 2 * v[b];
                    if (twice > members[word]) centroid[b >> 6] |= 1UL << (b & 63);
                    else if (twice < members[word]) centroid[b >> 6] &= ~(1UL << (b & 63));
                }
            }
        }
        return vocabulary;
    }

    /// <summary>
    /// The vocabulary <c>mlh index --regions</c> stores and <c>mlh benchmark --inverted</c> fits: <see cref="DefaultSize"/>
    /// words, seed 0, the default rounds and sample.
    /// </summary>
    public static RegionVocabulary FitDefault(RegionCodes codes) => Fit(codes, DefaultSize(codes.TotalRegions));

    /// <summary>The word whose centroid is nearest in Hamming distance to <paramref name="code"/> (the lowest such word on ties).</summary>
    public int Nearest(ReadOnlySpan<ulong> code)
    {
        CheckLength(code);
        int best = 0, bestDistance = int.MaxValue, wpc = WordsPerCode;
        var centroids = _centroids.AsSpan();
        for (int word = 0, o = 0; word < Count; word++, o += wpc)
        {
            int d = BitPacking.Hamming(code, centroids.Slice(o, wpc));
            if (d < bestDistance) (best, bestDistance) = (word, d);
        }
        return best;
    }

    /// <summary>
    /// The <paramref name="nearest"/>.Length words nearest to <paramref name="code"/> (at most <see cref="Count"/>),
    /// nearest first, ties by word; returns how many were written. Multiple assignment of query regions, as ASMK does.
    /// </summary>
    public int Nearest(ReadOnlySpan<ulong> code, Span<int> nearest)
    {
        CheckLength(code);
        int want = Math.Min(nearest.Length, Count), wpc = WordsPerCode;
        if (want == 0) return 0;
        Span<int> distances = want <= 64 ? stackalloc int[want] : new int[want];
        int found = 0;
        var centroids = _centroids.AsSpan();
        for (int word = 0, o = 0; word < Count; word++, o += wpc)
        {
            int d = BitPacking.Hamming(code, centroids.Slice(o, wpc));
            if (found == want && d >= distances[want - 1]) continue;
            // Insertion into the sorted head; a later word with an equal distance goes after the earlier ones.
            int at = found == want ? want - 1 : found++;
            while (at > 0 && distances[at - 1] > d)
            {
                distances[at] = distances[at - 1];
                nearest[at] = nearest[at - 1];
                at--;
            }
            distances[at] = d;
            nearest[at] = word;
        }
        return found;
    }

    private void CheckLength(ReadOnlySpan<ulong> code)
    {
        if (code.Length != WordsPerCode) throw new ArgumentException($"a code of {code.Length} words for a vocabulary of {Bits}-bit codes");
    }

    private static int[] Shuffled(int count, Random random)
    {
        var order = Enumerable.Range(0, count).ToArray();
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
