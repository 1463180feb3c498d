using System.Diagnostics;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Regions;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;
using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Experiments;

/// <summary>Settings of <see cref="DatasetBenchmark.Run"/>.</summary>
/// <param name="CacheDirectory">Where the encoded database and queries are kept (one index file per checkpoint and image list).</param>
/// <param name="BatchSize">Images per forward batch.</param>
/// <param name="ChunkSize">Images per stored chunk: at most this many decoded images are in memory, and an interruption loses at most one chunk.</param>
/// <param name="Search">Which searches, and their settings.</param>
/// <param name="Device">LibTorch device for encoding (default: the CPU).</param>
public sealed record DatasetBenchmarkOptions(string CacheDirectory, int BatchSize = 16, int ChunkSize = 512,
                                             CodeBenchmarkOptions? Search = null, Device? Device = null);

/// <summary>
/// <c>mlh benchmark</c> (lib/MultiLevelHashing/README.md section 3.5): a trained DSCNN on a whole benchmark. The database
/// and the queries cropped to their box are encoded (<see cref="CachedEncoding"/>) a chunk at a time into index files
/// that are cached by checkpoint, image list, chunk size and batch, resumed after an interruption, and optionally split
/// over machines by <see cref="EncodeShard"/> (<see cref="ChunkedCodeCache"/>); the codes are then searched in place
/// through a memory mapping and scored under every protocol the ground truth carries (<see cref="CodeBenchmark"/>).
/// With <see cref="CodeBenchmarkOptions.Regions"/> the region codes of the database and the queries come from the region
/// coder stored in the checkpoint (<c>mlh regions</c>; section 2.3), coded chunk by chunk into the cache beside the codes
/// (<see cref="RegionCodeCache"/>): resumed like them, and split over machines by <see cref="EncodeShard"/> as well.
/// </summary>
public static class DatasetBenchmark
{
    /// <summary>Encodes (or reuses the cached codes), searches and scores; returns the report.</summary>
    /// <exception cref="UserInputException">A damaged checkpoint, unreadable images, or a dataset without queries.</exception>
    public static BenchmarkReport Run(LandmarkDataset dataset, string specification, string checkpointPath, DatasetBenchmarkOptions options,
                                      IProgress<ProgressReport>? progress = null)
    {
        var parts = Parts(dataset);
        // A checkpoint without a region coder is refused before anything is encoded.
        var stored = options.Search?.Regions is null ? ((RegionHashHead Coder, RegionCoderInfo Info)?)null : Checkpoint.RequireRegionCoder(checkpointPath);
        using var coder = stored?.Coder;
        using var encoding = new CachedEncoding(checkpointPath, options.BatchSize, options.ChunkSize, options.Device);
        var info = encoding.Info;
        Directory.CreateDirectory(options.CacheDirectory);
        var clock = Stopwatch.StartNew();
        CodeIndex Ensure(Part part) => ChunkedCodeCache.Ensure(encoding.IndexPath(options.CacheDirectory, dataset.Name, part.Name, part.Images), part.Ids,
            encoding.Bits, options.ChunkSize, (start, count, inner) => encoding.Encoder(part.Images, dataset.Root)(start, count, inner).Levels,
            $"encode {part.Name}", progress);
        using var db = Ensure(parts[0]);
        using var qs = Ensure(parts[1]);
        double encodeSeconds = encoding.Encoded ? clock.Elapsed.TotalSeconds : 0;
        encoding.Dispose();

        CodeIndex? databaseRegions = null, queryRegions = null;
        if (stored is { } regionCoder)
        {
            clock.Restart();
            var device = options.Device ?? CPU;
            string key = RegionCodeCache.CoderKey(regionCoder.Coder, regionCoder.Info);
            var encoders = new List<RegionChunkEncoder>();
            // Coded chunk by chunk, only where the cache does not hold them yet; a model is loaded only then.
            CodeIndex Regions(Part part, CodeIndex codes)
            {
                var encoder = new RegionChunkEncoder(checkpointPath, regionCoder.Coder, regionCoder.Info, part.Images, dataset.Root, options.BatchSize, device,
                    $"region codes ({part.Name})");
                encoders.Add(encoder);
                return RegionCodeCache.GetOrEncode(codes, part.Ids, options.ChunkSize, key, regionCoder.Info.Bits, encoder.Encode, $"region codes ({part.Name})", progress);
            }
            bool encoded;
            try
            {
                databaseRegions = Regions(parts[0], db);
                queryRegions = Regions(parts[1], qs);
            }
            catch
            {
                databaseRegions?.Dispose();
                throw;
            }
            finally
            {
                encoded = encoders.Any(e => e.Encoded);
                foreach (var e in encoders) e.Dispose();
            }
            if (encoded) encodeSeconds += clock.Elapsed.TotalSeconds;
        }
        using var databaseRegionIndex = databaseRegions;
        using var queryRegionIndex = queryRegions;

        clock.Restart();
        var results = CodeBenchmark.Run(dataset.GroundTruth, db.Levels[0], db.Levels[1], qs.Levels[0], qs.Levels[1], options.Search, progress,
            databaseRegions?.Regions, queryRegions?.Regions);
        return new BenchmarkReport(dataset.Name, specification, Path.GetFullPath(checkpointPath), info.Config.Hash(), info.Config.GlobalBits,
            info.Config.LocalBits, dataset.Database.Count, dataset.Queries.Count, encodeSeconds, clock.Elapsed.TotalSeconds, BenchmarkReport.Scores(results))
        {
            RegionBits = databaseRegions?.Regions?.Bits,
        };
    }

    /// <summary>
    /// Encodes only the chunks of the database and of the queries that <paramref name="shard"/> owns and that are not in
    /// the cache yet (<c>mlh benchmark --shard i/n</c>); a later <see cref="Run"/> with the same cache, chunk size and
    /// batch finds them, encodes the rest, and scores exactly as if one machine had encoded everything. With
    /// <paramref name="regions"/> the shard also codes the region codes of its chunks (<see cref="RegionCodeCache.EncodeShard"/>)
    /// with the coder stored in the checkpoint, which a later <see cref="Run"/> with region search joins.
    /// </summary>
    public static ShardReport EncodeShard(LandmarkDataset dataset, string checkpointPath, DatasetBenchmarkOptions options, CodeShard shard,
                                          IProgress<ProgressReport>? progress = null, bool regions = false)
    {
        var parts = Parts(dataset);
        // A checkpoint without a region coder is refused before anything is encoded.
        var stored = regions ? Checkpoint.RequireRegionCoder(checkpointPath) : ((RegionHashHead Coder, RegionCoderInfo Info)?)null;
        using var coder = stored?.Coder;
        using var encoding = new CachedEncoding(checkpointPath, options.BatchSize, options.ChunkSize, options.Device);
        Directory.CreateDirectory(options.CacheDirectory);
        var clock = Stopwatch.StartNew();
        var work = new List<(string Part, ChunkWork Work)>();
        foreach (var part in parts)
        {
            string index = encoding.IndexPath(options.CacheDirectory, dataset.Name, part.Name, part.Images);
            work.Add((part.Name, ChunkedCodeCache.EncodeShard(index, part.Ids, encoding.Bits, options.ChunkSize, shard, encoding.Encoder(part.Images, dataset.Root),
                allowSkipped: false, $"encode {part.Name} (shard {shard})", progress)));
            if (stored is not { } regionCoder) continue;
            string task = $"region codes ({part.Name}, shard {shard})";
            using var encoder = new RegionChunkEncoder(checkpointPath, regionCoder.Coder, regionCoder.Info, part.Images, dataset.Root, options.BatchSize,
                options.Device ?? CPU, task);
            work.Add(($"{part.Name} region codes", RegionCodeCache.EncodeShard(index, part.Ids, encoding.Bits, allowSkipped: false, options.ChunkSize,
                RegionCodeCache.CoderKey(regionCoder.Coder, regionCoder.Info), regionCoder.Info.Bits, shard, encoder.Encode, task, progress)));
        }
        return new ShardReport(shard, work, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The chunks of the database and the queries <paramref name="shard"/> would encode (<c>--dry-run</c>), and with
    /// <paramref name="regions"/> their region chunks; loads no model.
    /// </summary>
    public static IReadOnlyList<PartPlan> Plan(LandmarkDataset dataset, string checkpointPath, DatasetBenchmarkOptions options, CodeShard shard, bool regions = false)
    {
        var encoding = new CachedEncoding(checkpointPath, options.BatchSize, options.ChunkSize, options.Device);
        var stored = regions ? Checkpoint.RequireRegionCoder(checkpointPath) : ((RegionHashHead Coder, RegionCoderInfo Info)?)null;
        using var coder = stored?.Coder;
        string? key = stored is { } c ? RegionCodeCache.CoderKey(c.Coder, c.Info) : null;
        var plans = new List<PartPlan>();
        foreach (var part in Parts(dataset))
        {
            string index = encoding.IndexPath(options.CacheDirectory, dataset.Name, part.Name, part.Images);
            plans.Add(new PartPlan(part.Name, index, part.Ids, ChunkedCodeCache.Plan(index, part.Ids, encoding.Bits, options.ChunkSize, shard, allowSkipped: false)));
            if (stored is { } regionCoder)
                plans.Add(new PartPlan($"{part.Name} region codes", RegionCodeCache.PathFor(index, key!), part.Ids,
                    RegionCodeCache.Plan(index, part.Ids, encoding.Bits, allowSkipped: false, options.ChunkSize, key!, regionCoder.Info.Bits, shard)));
        }
        return plans;
    }

    private sealed record Part(string Name, List<(string Path, BoundingBox? Crop)> Images, string[] Ids);

    private static Part[] Parts(LandmarkDataset dataset)
    {
        if (dataset.Queries.Count == 0) throw new UserInputException($"{dataset.Root}: dataset '{dataset.Name}' has no queries to benchmark");
        return
        [
            new("database", [.. dataset.Database.Select(i => (i.Path, (BoundingBox?)null))], [.. dataset.Database.Select(i => i.Name)]),
            new("queries", [.. dataset.Queries.Select(q => (q.Path, (BoundingBox?)q.Box))], [.. dataset.Queries.Select(q => q.Id)]),
        ];
    }
}

/// <summary>What a shard encoded: per part (database, queries) the chunks encoded now and found stored, and the seconds it took.</summary>
public sealed record ShardReport(CodeShard Shard, IReadOnlyList<(string Part, ChunkWork Work)> Parts, double Seconds);

/// <summary>A part's cache index file, its ids, and the chunks of one shard's plan.</summary>
public sealed record PartPlan(string Part, string IndexPath, IReadOnlyList<string> Ids, IReadOnlyList<PlannedChunk> Chunks);
