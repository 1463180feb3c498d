using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;

namespace MultiLevelHashing.Benchmarks;

/// <summary>What <see cref="RegionStageTiming"/> measures: database size, code lengths, regions per image, shortlists and queries.</summary>
/// <param name="DatabaseSize">Database images.</param>
/// <param name="GlobalBits">Bits of the global code (stage 1).</param>
/// <param name="RegionBits">Bits per region code (stage 2).</param>
/// <param name="RegionsPerImage">Region codes per image (49: every location of a 7 x 7 map; 16: the compact rows).</param>
/// <param name="Candidates">Shortlist lengths N re-ranked by stage 2.</param>
/// <param name="Queries">Queries timed.</param>
/// <param name="Threads">Threads of both stages.</param>
/// <param name="Seed">Seed of the synthetic codes.</param>
public sealed record RegionTimingConfig(int DatabaseSize, int GlobalBits, int RegionBits, IReadOnlyList<int> RegionsPerImage, IReadOnlyList<int> Candidates,
    int Queries, int Threads = 2, int Seed = 3)
{
    /// <summary>1M images, 64-bit global codes, 256-bit region codes (49 and 16 per image), N = 100 and 500, 100 queries, 2 threads.</summary>
    public static RegionTimingConfig Full { get; } = new(1_000_000, 64, 256, [49, 16], [100, 500], 100);

    /// <summary>The same at 20k images and 20 queries (seconds).</summary>
    public static RegionTimingConfig Smoke { get; } = new(20_000, 64, 256, [49, 16], [100, 500], 20);

    /// <summary>The preset of a run mode.</summary>
    public static RegionTimingConfig ForMode(RunMode mode) => mode == RunMode.Full ? Full : Smoke;
}

/// <summary>Milliseconds per query of the multi-level search with region codes at one shortlist length, and of its stage 1 alone.</summary>
/// <param name="DatabaseSize">Database images.</param>
/// <param name="RegionsPerImage">Region codes per image.</param>
/// <param name="RegionBits">Bits per region code.</param>
/// <param name="Candidates">N, the shortlist stage 2 re-ranks.</param>
/// <param name="Stage1Ms">Stage 1 alone: the global code's top max(N, 100) by the linear scan.</param>
/// <param name="TotalMs">Both stages, the top 100 returned.</param>
public sealed record RegionTiming(int DatabaseSize, int RegionsPerImage, int RegionBits, int Candidates, double Stage1Ms, double TotalMs)
{
    /// <summary>Stage 2, the region re-ranking: the difference of the two medians.</summary>
    public double Stage2Ms => TotalMs - Stage1Ms;
}

/// <summary>
/// The cost of the region re-ranking at scale (lib/MultiLevelHashing/README.md section 2.8): synthetic global codes
/// (clustered, as learned codes are; <see cref="SyntheticCodes"/>) and uniform random region codes, whose content does
/// not change the cost (every pair is compared), timed per query with <see cref="QueryTiming"/> on the real engines.
/// </summary>
public static class RegionStageTiming
{
    /// <summary>Every (regions per image, N) point of <paramref name="config"/>.</summary>
    public static IReadOnlyList<RegionTiming> Measure(RegionTimingConfig config, IProgress<ProgressReport>? progress = null)
    {
        int n = config.DatabaseSize, q = config.Queries;
        using var global = SyntheticCodes.Clustered(n, config.GlobalBits, Math.Max(1, n / 100), 5, config.Seed, config.Seed + 100);
        using var queries = SyntheticCodes.Clustered(q, config.GlobalBits, Math.Max(1, n / 100), 5, config.Seed + 1, config.Seed + 100);
        var options = new SearchOptions(config.Threads);
        var index = new HammingIndex(global, SearchMethod.Scan);
        var points = new List<RegionTiming>();
        int step = 0, steps = config.RegionsPerImage.Count * config.Candidates.Count;
        foreach (int regions in config.RegionsPerImage)
        {
            var database = Uniform(n, config.RegionBits, regions, config.Seed + 2);
            var queryRegions = Uniform(q, config.RegionBits, regions, config.Seed + 3);
            var search = new RegionSearch(global, database);
            foreach (int candidates in config.Candidates)
            {
                progress?.Report(new ProgressReport("region re-ranking", step++, steps, "points", $"{regions} regions, N = {candidates}"));
                double stage1 = QueryTiming.MillisecondsPerQuery(() => index.Search(queries, Math.Max(candidates, 100), options), q, 3);
                double total = QueryTiming.MillisecondsPerQuery(() => search.Search(queries, queryRegions, candidates, 100, config.Threads), q, 3);
                points.Add(new RegionTiming(n, regions, config.RegionBits, candidates, stage1, total));
            }
        }
        progress?.Report(new ProgressReport("region re-ranking", steps, steps, "points"));
        return points;
    }

    /// <summary><paramref name="images"/> images of <paramref name="regions"/> uniform random codes each, on a grid just large enough for them.</summary>
    public static RegionCodes Uniform(int images, int bits, int regions, int seed)
    {
        BitPacking.ValidateBits(bits);
        int side = (int)Math.Ceiling(Math.Sqrt(regions)), words = BitPacking.WordsPerCode(bits);
        var rng = new Random(seed);
        var packed = new ulong[(long)images * regions * words];
        for (long i = 0; i < packed.LongLength; i++) packed[i] = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
        if (bits % 64 != 0)
            for (long i = words - 1; i < packed.LongLength; i += words) packed[i] &= (1UL << (bits % 64)) - 1;
        var offsets = new int[images + 1];
        for (int i = 0; i < images; i++) offsets[i + 1] = offsets[i] + regions;
        var positions = new RegionPosition[images * regions];
        for (int i = 0; i < positions.Length; i++) positions[i] = new RegionPosition(i % regions / side, i % regions % side, 1);
        return new RegionCodes(bits, side, side, packed, offsets, positions);
    }
}
