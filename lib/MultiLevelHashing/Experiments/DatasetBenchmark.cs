using System.Diagnostics;
using System.Security.Cryptography;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
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
/// and the queries cropped to their box are encoded through <see cref="DscnnEncoder.Encode(DscnnModel, IImageSource, int, int, bool, Device?, IProgress{ProgressReport}?)"/>
/// a chunk at a time into index files that are cached by checkpoint and image list and resumed after an interruption
/// (<see cref="ChunkedCodeCache"/>); the codes are then searched in place through a memory mapping and scored under
/// every protocol the ground truth carries (<see cref="CodeBenchmark"/>).
/// </summary>
public static class DatasetBenchmark
{
    /// <summary>Encodes (or reuses the cached codes), searches and scores; returns the report.</summary>
    /// <exception cref="UserInputException">A damaged checkpoint, unreadable images, or a dataset without queries.</exception>
    public static BenchmarkReport Run(LandmarkDataset dataset, string specification, string checkpointPath, DatasetBenchmarkOptions options,
                                      IProgress<ProgressReport>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunkSize, 1);
        if (dataset.Queries.Count == 0) throw new UserInputException($"{dataset.Root}: dataset '{dataset.Name}' has no queries to benchmark");
        var info = Checkpoint.ReadInfo(checkpointPath);
        int kg = info.Config.GlobalBits, kl = info.Config.LocalBits, size = info.Config.ImageSize;
        string checkpointKey = FileHash(checkpointPath);
        Directory.CreateDirectory(options.CacheDirectory);

        var database = dataset.Database.Select(i => (i.Path, (BoundingBox?)null)).ToList();
        var queries = dataset.Queries.Select(q => (q.Path, (BoundingBox?)q.Box)).ToList();
        string IndexPath(string part, List<(string, BoundingBox?)> images) => Path.Combine(options.CacheDirectory,
            $"{Safe(dataset.Name)}-{part}-{ChunkedCodeCache.Fingerprint(images, $"{checkpointKey}|{size}|{part}")}.mlhidx");

        var clock = Stopwatch.StartNew();
        DscnnModel? model = null;
        try
        {
            // The model is loaded only when some chunk has to be encoded.
            ChunkedCodeCache.EncodeChunk Encoder(List<(string Path, BoundingBox? Crop)> images) => (start, count, inner) =>
            {
                model ??= Checkpoint.LoadModel(checkpointPath, options.Device).Model;
                var files = ImageFiles.Of(images.GetRange(start, count), dataset.Root);
                using var codes = DscnnEncoder.Encode(model, new ImageFileSource(files), size, options.BatchSize, device: options.Device, progress: inner);
                return [Copy(codes.Global), Copy(codes.Local)];
            };
            using var db = ChunkedCodeCache.Ensure(IndexPath("database", database), [.. dataset.Database.Select(i => i.Name)], [kg, kl],
                options.ChunkSize, Encoder(database), "encode database", progress);
            using var qs = ChunkedCodeCache.Ensure(IndexPath("queries", queries), [.. dataset.Queries.Select(q => q.Id)], [kg, kl],
                options.ChunkSize, Encoder(queries), "encode queries", progress);
            double encodeSeconds = model is null ? 0 : clock.Elapsed.TotalSeconds;
            model?.Dispose();
            model = null;

            clock.Restart();
            var results = CodeBenchmark.Run(dataset.GroundTruth, db.Levels[0], db.Levels[1], qs.Levels[0], qs.Levels[1], options.Search, progress);
            return new BenchmarkReport(dataset.Name, specification, Path.GetFullPath(checkpointPath), info.Config.Hash(), kg, kl,
                dataset.Database.Count, dataset.Queries.Count, encodeSeconds, clock.Elapsed.TotalSeconds, BenchmarkReport.Scores(results));
        }
        finally
        {
            model?.Dispose();
        }
    }

    /// <summary>The codes in managed memory, owned by the caller (the encoder's result is disposed with it).</summary>
    private static PackedCodes Copy(PackedCodes codes)
    {
        var copy = new PackedCodes(codes.Bits, codes.Count);
        copy.Append(codes);
        return copy;
    }

    private static string FileHash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream))[..16].ToLowerInvariant();
    }

    private static string Safe(string name) => new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '+' or '-' ? c : '-')]);
}
