using MultiLevelHashing.Data;
using System.CommandLine;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Model;
using MultiLevelHashing.Regions;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;
using MultiLevelHashing.Torch;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh index</c>: encodes a dataset's database (or an image folder) into one index file of global and local codes, a
/// chunk at a time to disk (resumable; <c>--shard</c> splits the work over machines sharing <c>--cache</c>); with
/// <c>--regions</c> also the region codes of every image (lib/MultiLevelHashing/README.md section 2.3) by the coder
/// <c>mlh regions</c> stored in the checkpoint, coded in the same chunks (resumable, shardable) and streamed to the output.
/// </summary>
public static class IndexCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var dataset = new Option<string?>("--dataset") { Description = DatasetArgument.Help + "; its database images are indexed" };
        var images = new Option<DirectoryInfo?>("--images") { Description = "a folder of images to index instead of a dataset (ids = file names without extension)" };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "checkpoint written by mlh train", Required = true };
        var outputFile = new Option<FileInfo?>("--output")
        {
            Description = "index file to write (atomically; format version, code lengths, ids, codes, checksum); not needed with --shard or --dry-run",
        };
        var regions = new Option<bool>("--regions")
        {
            Description = "also store every image's region codes (all locations of the backbone map, by the region coder mlh regions stored in the checkpoint), " +
                          "for mlh query --regions, with the vocabulary of their inverted file (mlh query --inverted); coded chunk by chunk into the cache " +
                          "(resumable; with --shard only the shard's chunks, after its codes)",
        };
        var encoding = new EncodingOptions.Declared();
        var command = new Command("index", "Encode database images with a trained DSCNN into an index file of global-level and local-level codes (and region codes with --regions).")
        { dataset, images, checkpoint, outputFile, regions };
        encoding.AddTo(command);
        command.SetAction(parse =>
        {
            string? datasetValue = parse.GetValue(dataset);
            var folder = parse.GetValue(images);
            if ((datasetValue is null) == (folder is null))
                throw new UserInputException("give exactly one of --dataset or --images");
            var settings = encoding.ReadSettings(parse);
            var chunks = encoding.ReadChunks(parse);
            string? target = parse.GetValue(outputFile)?.FullName;
            var checkpointFile = parse.GetValue(checkpoint)!;
            // The coder is checked before any image is encoded: a checkpoint without one ends here, naming it.
            var coder = parse.GetValue(regions)
                ? Checkpoint.RequireRegionCoder(checkpointFile.FullName)
                : ((RegionHashHead Coder, RegionCoderInfo Info)?)null;
            using var loadedCoder = coder?.Coder;
            return EncodingOptions.RunChunked(CommandOutput.Writer(output), settings, chunks, checkpointFile, target,
                progress =>
                {
                    if (folder is not null) return EncodingOptions.Folder(folder);
                    var ds = DatasetArgument.Open(datasetValue!, progress);
                    return new EncodingOptions.ImageList(ds.Name, "database", ds.Root, [.. ds.Database.Select(i => (i.Path, (BoundingBox?)null))],
                        [.. ds.Database.Select(i => i.Name)]);
                },
                (cached, list, progress) =>
                {
                    var levels = cached.Index.Levels;
                    string summary = $"{cached.Index.Count} images indexed in {target} (global {levels[0].Bits} bits, local {levels[1].Bits} bits";
                    if (coder is { } stored)
                    {
                        // Coded chunk by chunk into the cache beside the codes, so that a killed run resumes and a rerun on the same
                        // --cache codes no region either.
                        using var encoder = new RegionChunkEncoder(checkpointFile.FullName, stored.Coder, stored.Info, list.Images, list.Root, settings.BatchSize,
                            TorchDevice.Default());
                        using var regionIndex = RegionCodeCache.GetOrEncode(cached.Index, list.Ids, chunks.ChunkSize, RegionCodeCache.CoderKey(stored.Coder, stored.Info),
                            stored.Info.Bits, encoder.Encode, "region codes", progress);
                        var codes = regionIndex.Regions!;
                        // The vocabulary of the region-level inverted file (mlh query --inverted), fitted on them with the
                        // deterministic default, is stored beside them.
                        var vocabulary = codes.TotalRegions > 0 ? RegionVocabulary.FitDefault(codes) : null;
                        // The region codes are read through the cache file's mapping and written out as they are read.
                        CodeIndexFile.Write(target!, cached.Index.ImageIds, levels, codes, vocabulary);
                        return summary + $", region codes: {codes.Bits} bits at {codes.MeanRegions:0.#} locations per image on a {codes.GridHeight} x {codes.GridWidth} grid" +
                               (vocabulary is null ? ")" : $", a vocabulary of {vocabulary.Count} words for mlh query --inverted)");
                    }
                    // The cache's index is an index file already: copied byte for byte, atomically.
                    AtomicFile.Write(target!, s =>
                    {
                        using var source = new FileStream(cached.Index.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                        source.CopyTo(s);
                    });
                    return summary + ")";
                },
                coder is not { } shardCoder ? null : (encoding, index, list, shard, progress) =>
                {
                    using var encoder = new RegionChunkEncoder(checkpointFile.FullName, shardCoder.Coder, shardCoder.Info, list.Images, list.Root, settings.BatchSize,
                        TorchDevice.Default(), $"region codes (shard {shard})");
                    var work = RegionCodeCache.EncodeShard(index, list.Ids, encoding.Bits, encoding.AllowsSkipped, chunks.ChunkSize,
                        RegionCodeCache.CoderKey(shardCoder.Coder, shardCoder.Info), shardCoder.Info.Bits, shard, encoder.Encode, $"region codes (shard {shard})", progress);
                    return $"region codes: encoded {work.EncodedChunks} chunks ({work.EncodedImages} images), {work.StoredChunks} chunks ({work.StoredImages} images) already stored";
                },
                coder is not { } planCoder ? null : (encoding, index, list, shard) =>
                    new PartPlan($"{list.Part} region codes", RegionCodeCache.PathFor(index, RegionCodeCache.CoderKey(planCoder.Coder, planCoder.Info)), list.Ids,
                        RegionCodeCache.Plan(index, list.Ids, encoding.Bits, encoding.AllowsSkipped, chunks.ChunkSize, RegionCodeCache.CoderKey(planCoder.Coder, planCoder.Info),
                            planCoder.Info.Bits, shard)));
        });
        return command;
    }
}
