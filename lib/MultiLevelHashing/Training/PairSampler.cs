namespace MultiLevelHashing.Training;

/// <summary>One training pair of the siamese network: two image indices and whether they show the same landmark.</summary>
public readonly record struct ImagePair(int First, int Second, bool Similar);

/// <summary>
/// Draws the siamese pairs (x1, x2, s) of the DSCNN (lib/MultiLevelHashing/README.md section 2.5) from dataset labels: positives are two
/// different images (views) of one landmark, negatives are images of different landmarks. Images with a negative
/// label (distractors, no landmark) only ever appear in negatives, paired with a labelled image.
/// Deterministic: the pairs of an epoch depend only on the seed, the epoch and the distances given for mining.
/// </summary>
public sealed class PairSampler
{
    private readonly int[] _labels;
    private readonly int[][] _positiveGroups;     // labels with at least two images
    private readonly int[] _labelled;
    private readonly Dictionary<int, int[]> _byLabel;
    private readonly int _seed;

    /// <summary>Fraction of positive pairs in each epoch, in [0, 1].</summary>
    public double PositiveFraction { get; }

    /// <summary>
    /// Hard-negative mining: each negative is the closest of this many random candidates under the distance given
    /// to <see cref="Sample"/>; 1 (or no distance) means plain random negatives.
    /// </summary>
    public int NegativeCandidates { get; }

    /// <summary>A sampler over <paramref name="labels"/> (landmark id per image, negative for none).</summary>
    public PairSampler(IReadOnlyList<int> labels, int seed, double positiveFraction = 0.5, int negativeCandidates = 1)
    {
        if (positiveFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(positiveFraction), "must be in [0, 1]");
        if (negativeCandidates < 1) throw new ArgumentOutOfRangeException(nameof(negativeCandidates), "must be at least 1");
        _labels = labels.ToArray();
        _seed = seed;
        PositiveFraction = positiveFraction;
        NegativeCandidates = negativeCandidates;
        _byLabel = Enumerable.Range(0, _labels.Length).Where(i => _labels[i] >= 0)
            .GroupBy(i => _labels[i]).ToDictionary(g => g.Key, g => g.ToArray());
        _positiveGroups = _byLabel.OrderBy(kv => kv.Key).Select(kv => kv.Value).Where(g => g.Length >= 2).ToArray();
        _labelled = Enumerable.Range(0, _labels.Length).Where(i => _labels[i] >= 0).ToArray();
        if (positiveFraction > 0 && _positiveGroups.Length == 0)
            throw new ArgumentException("no landmark has two images, so no positive pair exists");
        if (positiveFraction < 1 && (_byLabel.Count < 2 && _labels.All(l => l >= 0)))
            throw new ArgumentException("negative pairs need at least two landmarks (or distractor images)");
    }

    /// <summary>Number of images.</summary>
    public int Count => _labels.Length;

    /// <summary>
    /// The <paramref name="count"/> pairs of epoch <paramref name="epoch"/>, shuffled. With <paramref name="distance"/>
    /// (e.g. Hamming or Euclidean distance between the current codes) and more than one candidate, negatives are mined.
    /// </summary>
    public ImagePair[] Sample(int epoch, int count, Func<int, int, float>? distance = null)
    {
        // Not HashCode.Combine: it is randomised per process.
        var rng = new Random(unchecked(_seed * 1_000_003 + epoch * 7_919 + 0x5A17));
        int positives = (int)Math.Round(count * PositiveFraction);
        var pairs = new ImagePair[count];
        for (int p = 0; p < count; p++)
            pairs[p] = p < positives ? Positive(rng) : Negative(rng, distance);
        rng.Shuffle(pairs);
        return pairs;
    }

    private ImagePair Positive(Random rng)
    {
        // Groups weighted by size so that every image is equally likely to be an anchor.
        int total = _positiveGroups.Sum(g => g.Length);
        int pick = rng.Next(total);
        int[] group = _positiveGroups[0];
        foreach (var g in _positiveGroups)
        {
            if (pick < g.Length) { group = g; break; }
            pick -= g.Length;
        }
        int a = rng.Next(group.Length);
        int b = rng.Next(group.Length - 1);
        if (b >= a) b++;
        return new ImagePair(group[a], group[b], true);
    }

    private ImagePair Negative(Random rng, Func<int, int, float>? distance)
    {
        int anchor = _labelled[rng.Next(_labelled.Length)];
        int candidates = distance is null ? 1 : NegativeCandidates;
        int best = -1;
        float bestDistance = float.PositiveInfinity;
        for (int c = 0; c < candidates; c++)
        {
            int other;
            do other = rng.Next(_labels.Length);
            while (_labels[other] == _labels[anchor]);
            if (distance is null) return new ImagePair(anchor, other, false);
            float d = distance(anchor, other);
            if (d < bestDistance || best < 0) { best = other; bestDistance = d; }
        }
        return new ImagePair(anchor, best, false);
    }
}
