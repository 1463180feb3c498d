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
    // Memory rather than arrays, so that an index file's region section is searched in place through its mapping
    // (CodeIndexFile); codes built in memory pass their arrays.
    private readonly ReadOnlyMemory<ulong> _words;
    private readonly ReadOnlyMemory<int> _offsets;
    private readonly ReadOnlyMemory<RegionPosition> _positions;

    /// <summary>Codes of <c>offsets.Length - 1</c> images; <paramref name="words"/> holds one packed row per region.</summary>
    public RegionCodes(int bits, int gridHeight, int gridWidth, ulong[] words, int[] offsets, RegionPosition[] positions)
        : this(bits, gridHeight, gridWidth, (ReadOnlyMemory<ulong>)words, offsets, positions)
    {
    }

    /// <summary>
    /// Codes over memory the caller keeps alive and unchanged while they are used (e.g. the memory mapping of an index
    /// file, lib/MultiLevelHashing/README.md section 1.1); checked as the array constructor checks.
    /// </summary>
    public RegionCodes(int bits, int gridHeight, int gridWidth, ReadOnlyMemory<ulong> words, ReadOnlyMemory<int> offsets, ReadOnlyMemory<RegionPosition> positions)
    {
        BitPacking.ValidateBits(bits);
        var offsetSpan = offsets.Span;
        if (offsetSpan.Length < 1 || offsetSpan[0] != 0) throw new ArgumentException("offsets must start at 0 and have one entry per image plus one", nameof(offsets));
        for (int i = 1; i < offsetSpan.Length; i++)
            if (offsetSpan[i] < offsetSpan[i - 1]) throw new ArgumentException($"offsets must not decrease (image {i - 1})", nameof(offsets));
        int regions = offsetSpan[^1], wordsPer = (bits + 63) / 64;
        if (positions.Length != regions) throw new ArgumentException($"{regions} regions but {positions.Length} positions", nameof(positions));
        if (words.Length != (long)regions * wordsPer) throw new ArgumentException($"{regions} regions of {bits} bits need {(long)regions * wordsPer} words, got {words.Length}", nameof(words));
        foreach (var p in positions.Span)
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
    public int TotalRegions => _offsets.Span[^1];

    /// <summary>Number of regions of image <paramref name="image"/>.</summary>
    public int RegionCount(int image)
    {
        var offsets = _offsets.Span;
        return offsets[image + 1] - offsets[image];
    }

    /// <summary>First region of image <paramref name="image"/> in the flat arrays.</summary>
    public int FirstRegion(int image) => _offsets.Span[image];

    /// <summary>The packed codes of image <paramref name="image"/>'s regions, one <see cref="WordsPerCode"/> row each.</summary>
    public ReadOnlySpan<ulong> Codes(int image)
    {
        var offsets = _offsets.Span;
        return _words.Span.Slice(offsets[image] * WordsPerCode, (offsets[image + 1] - offsets[image]) * WordsPerCode);
    }

    /// <summary>The positions of image <paramref name="image"/>'s regions.</summary>
    public ReadOnlySpan<RegionPosition> Positions(int image)
    {
        var offsets = _offsets.Span;
        return _positions.Span.Slice(offsets[image], offsets[image + 1] - offsets[image]);
    }

    /// <summary>Every region's packed code, <see cref="WordsPerCode"/> words each, image after image (what an index file stores).</summary>
    public ReadOnlySpan<ulong> AllCodes => _words.Span;

    /// <summary>The <see cref="Count"/> + 1 offsets: image i owns regions <c>Offsets[i] .. Offsets[i+1]-1</c>.</summary>
    public ReadOnlySpan<int> Offsets => _offsets.Span;

    /// <summary>Every region's position, image after image.</summary>
    public ReadOnlySpan<RegionPosition> AllPositions => _positions.Span;

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

    /// <summary>A copy of images <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> - 1 (a batch of queries).</summary>
    public RegionCodes Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count) throw new ArgumentOutOfRangeException(nameof(count), $"images {start} .. {start + count - 1} of {Count}");
        var all = _offsets.Span;
        int first = all[start], last = all[start + count];
        var offsets = new int[count + 1];
        for (int i = 1; i <= count; i++) offsets[i] = all[start + i] - first;
        return new RegionCodes(Bits, GridHeight, GridWidth, _words.Span.Slice(first * WordsPerCode, (last - first) * WordsPerCode).ToArray(), offsets,
            _positions.Span[first..last].ToArray());
    }

    /// <summary>
    /// The images of <paramref name="parts"/> one after the other (codes encoded a batch at a time joined into one
    /// database); every part must have the same code length and grid.
    /// </summary>
    public static RegionCodes Concat(IReadOnlyList<RegionCodes> parts, int bits, int gridHeight, int gridWidth)
    {
        long regions = 0, images = 0;
        foreach (var part in parts)
        {
            if (part.Bits != bits || part.GridHeight != gridHeight || part.GridWidth != gridWidth)
                throw new ArgumentException($"a part has {part.Bits}-bit codes on a {part.GridHeight} x {part.GridWidth} grid, expected {bits} bits on {gridHeight} x {gridWidth}", nameof(parts));
            regions += part.TotalRegions;
            images += part.Count;
        }
        int wordsPer = (bits + 63) / 64;
        if (regions * wordsPer > Array.MaxLength) throw new ArgumentException($"{regions} regions of {bits} bits do not fit one array", nameof(parts));
        var words = new ulong[regions * wordsPer];
        var offsets = new int[images + 1];
        var positions = new RegionPosition[regions];
        int image = 0, region = 0;
        foreach (var part in parts)
        {
            part.AllCodes.CopyTo(words.AsSpan(region * wordsPer));
            part.AllPositions.CopyTo(positions.AsSpan(region));
            var own = part.Offsets;
            for (int i = 1; i < own.Length; i++) offsets[image + i] = region + own[i];
            image += part.Count;
            region += part.TotalRegions;
        }
        return new RegionCodes(bits, gridHeight, gridWidth, words, offsets, positions);
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
            // A fixed mix of seed and image: HashCode.Combine is seeded per process, so it drew other regions in every run.
            var rng = new System.Random((int)(((uint)seed * 2654435761u) ^ ((uint)image * 40503u + 0x9E3779B9u)) & int.MaxValue);
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
        foreach (ulong w in _words.Span) ones += BitOperations.PopCount(w);
        return (double)ones / ((long)TotalRegions * Bits);
    }
}
