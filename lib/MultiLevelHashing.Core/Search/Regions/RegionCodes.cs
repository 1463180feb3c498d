using System.Numerics;

namespace MultiLevelHashing.Search.Regions;

/// <summary>One region code's place on the feature grid: row, column and strength (the L2 norm of the feature it codes).</summary>
/// <param name="Row">Grid row (0 at the top).</param>
/// <param name="Column">Grid column (0 at the left).</param>
/// <param name="Strength">Norm of the backbone feature at that location: how strongly the network responds there.</param>
public readonly record struct RegionPosition(int Row, int Column, float Strength);

/// <summary>
/// Region-level codes (lib/MultiLevelHashing/README.md section 2.3): per image a variable number of B-bit binary codes,
/// one per feature-map location kept, each with its grid position and strength, so that codes can be matched region to
/// region (<see cref="RegionMatcher"/>), drawn and verified. Stored flat: image i owns regions
/// <c>Offsets[i] .. Offsets[i+1]-1</c>; codes are packed as <see cref="BitPacking"/> (LSB first), one
/// <see cref="WordsPerCode"/>-word row per region.
/// </summary>
public sealed class RegionCodes
{
    private readonly ulong[] _words;
    private readonly int[] _offsets;
    private readonly RegionPosition[] _positions;

    /// <summary>Codes of <c>offsets.Length - 1</c> images; <paramref name="words"/> holds one packed row per region.</summary>
    public RegionCodes(int bits, int gridHeight, int gridWidth, ulong[] words, int[] offsets, RegionPosition[] positions)
    {
        BitPacking.ValidateBits(bits);
        if (offsets.Length < 1 || offsets[0] != 0) throw new ArgumentException("offsets must start at 0 and have one entry per image plus one", nameof(offsets));
        for (int i = 1; i < offsets.Length; i++)
            if (offsets[i] < offsets[i - 1]) throw new ArgumentException($"offsets must not decrease (image {i - 1})", nameof(offsets));
        int regions = offsets[^1], wordsPer = (bits + 63) / 64;
        if (positions.Length != regions) throw new ArgumentException($"{regions} regions but {positions.Length} positions", nameof(positions));
        if (words.Length != (long)regions * wordsPer) throw new ArgumentException($"{regions} regions of {bits} bits need {regions * wordsPer} words, got {words.Length}", nameof(words));
        foreach (var p in positions)
            if (p.Row < 0 || p.Row >= gridHeight || p.Column < 0 || p.Column >= gridWidth)
                throw new ArgumentException($"region at ({p.Row}, {p.Column}) lies outside the {gridHeight} x {gridWidth} grid", nameof(positions));
        Bits = bits;
        WordsPerCode = wordsPer;
        GridHeight = gridHeight;
        GridWidth = gridWidth;
        _words = words;
        _offsets = offsets;
        _positions = positions;
    }

    /// <summary>Bits per region code (B).</summary>
    public int Bits { get; }

    /// <summary>64-bit words per region code.</summary>
    public int WordsPerCode { get; }

    /// <summary>Rows of the feature grid the positions refer to.</summary>
    public int GridHeight { get; }

    /// <summary>Columns of the feature grid.</summary>
    public int GridWidth { get; }

    /// <summary>Number of images.</summary>
    public int Count => _offsets.Length - 1;

    /// <summary>Regions over all images.</summary>
    public int TotalRegions => _offsets[^1];

    /// <summary>Number of regions of image <paramref name="image"/>.</summary>
    public int RegionCount(int image) => _offsets[image + 1] - _offsets[image];

    /// <summary>First region of image <paramref name="image"/> in the flat arrays.</summary>
    public int FirstRegion(int image) => _offsets[image];

    /// <summary>The packed codes of image <paramref name="image"/>'s regions, one <see cref="WordsPerCode"/> row each.</summary>
    public ReadOnlySpan<ulong> Codes(int image) =>
        _words.AsSpan(_offsets[image] * WordsPerCode, (_offsets[image + 1] - _offsets[image]) * WordsPerCode);

    /// <summary>The positions of image <paramref name="image"/>'s regions.</summary>
    public ReadOnlySpan<RegionPosition> Positions(int image) => _positions.AsSpan(_offsets[image], RegionCount(image));

    /// <summary>Mean regions per image.</summary>
    public double MeanRegions => Count == 0 ? 0 : (double)TotalRegions / Count;

    /// <summary>
    /// Bytes a stored image needs on average: its codes (B/8 each) plus one byte per region for the grid cell (row and
    /// column of a grid of at most 16 x 16 fit one byte); strengths are not needed to search.
    /// </summary>
    public double BytesPerImage => MeanRegions * (Bits / 8 + 1);

    /// <summary>
    /// Codes from relaxed values: row r of <paramref name="real"/> (B floats) gives region r's bits (1 where the value is
    /// positive, as every level of the toolkit).
    /// </summary>
    public static RegionCodes FromReal(ReadOnlySpan<float> real, int bits, int gridHeight, int gridWidth, int[] offsets, RegionPosition[] positions)
    {
        int regions = offsets[^1];
        if (real.Length != (long)regions * bits) throw new ArgumentException($"{regions} regions of {bits} bits need {regions * bits} values, got {real.Length}");
        int wordsPer = (bits + 63) / 64;
        var words = new ulong[regions * wordsPer];
        for (int r = 0; r < regions; r++)
            for (int b = 0; b < bits; b++)
                if (real[r * bits + b] > 0) words[r * wordsPer + (b >> 6)] |= 1UL << (b & 63);
        return new RegionCodes(bits, gridHeight, gridWidth, words, offsets, positions);
    }

    /// <summary>
    /// The same images with only the regions <paramref name="keep"/> chooses (indices into the image's own regions, in
    /// the order given): the strongest T, those inside a box, a random budget.
    /// </summary>
    public RegionCodes Select(Func<int, ReadOnlySpan<RegionPosition>, IReadOnlyList<int>> keep)
    {
        var offsets = new int[Count + 1];
        var words = new List<ulong>(_words.Length);
        var positions = new List<RegionPosition>(_positions.Length);
        for (int i = 0; i < Count; i++)
        {
            var own = Positions(i);
            var codes = Codes(i);
            var chosen = keep(i, own);
            foreach (int r in chosen)
            {
                if ((uint)r >= (uint)own.Length) throw new ArgumentOutOfRangeException(nameof(keep), $"image {i} has {own.Length} regions; region {r} chosen");
                positions.Add(own[r]);
                for (int w = 0; w < WordsPerCode; w++) words.Add(codes[r * WordsPerCode + w]);
            }
            offsets[i + 1] = positions.Count;
        }
        return new RegionCodes(Bits, GridHeight, GridWidth, [.. words], offsets, [.. positions]);
    }

    /// <summary>The <paramref name="count"/> strongest regions of every image (all when it has fewer), strongest first; ties by grid order.</summary>
    public RegionCodes Strongest(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return Select((_, own) =>
        {
            var regions = own.ToArray();
            return [.. Enumerable.Range(0, regions.Length).OrderByDescending(r => regions[r].Strength).ThenBy(r => r).Take(count)];
        });
    }

    /// <summary><paramref name="count"/> regions of every image drawn at random (seeded, per image), the control for <see cref="Strongest"/>.</summary>
    public RegionCodes Random(int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return Select((image, own) =>
        {
            var rng = new System.Random(HashCode.Combine(seed, image) & int.MaxValue);
            var order = Enumerable.Range(0, own.Length).ToArray();
            rng.Shuffle(order);
            return [.. order.Take(count).Order()];
        });
    }

    /// <summary>Share of 1 bits over all region codes (0.5 is balanced).</summary>
    public double OnesFraction()
    {
        if (TotalRegions == 0) return double.NaN;
        long ones = 0;
        foreach (ulong w in _words) ones += BitOperations.PopCount(w);
        return (double)ones / ((long)TotalRegions * Bits);
    }
}
