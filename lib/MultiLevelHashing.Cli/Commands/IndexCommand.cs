using MultiLevelHashing.Data;
using System.CommandLine;
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
/// <c>mlh regions</c> stored in the checkpoint.
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
                          "for mlh query --regions; computed when the output is written (not by --shard or --dry-run) and kept in the cache",
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
            var coder = parse.GetValue(regions) && !chunks.DryRun && chunks.Shard is null
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
                        // Kept in the cache beside the codes, so that a rerun on the same --cache encodes no region either.
                        using var regionIndex = RegionCodeCache.GetOrEncode(cached.Index, RegionCodeCache.CoderKey(stored.Coder, stored.Info), stored.Info.Bits,
                            () => EncodeRegions(stored.Coder, stored.Info, checkpointFile.FullName, list, cached.Index.ImageIds, settings.BatchSize, progress));
                        var codes = regionIndex.Regions!;
                        CodeIndexFile.Write(target!, cached.Index.ImageIds, levels, codes);
                        return summary + $", region codes: {codes.Bits} bits at {codes.MeanRegions:0.#} locations per image on a {codes.GridHeight} x {codes.GridWidth} grid)";
                    }
                    // The cache's index is an index file already: copied byte for byte, atomically.
                    AtomicFile.Write(target!, s =>
                    {
                        using var source = new FileStream(cached.Index.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                        source.CopyTo(s);
                    });
                    return summary + ")";
                });
        });
        return command;
    }

    /// <summary>
    /// Region codes of the images the cache kept (<paramref name="kept"/>: the list's ids in order, less those that could
    /// not be read), from the checkpoint model's backbone maps at the coder's image size.
    /// </summary>
    private static RegionCodes EncodeRegions(RegionHashHead coder, RegionCoderInfo info, string checkpoint, EncodingOptions.ImageList list,
        IReadOnlyList<string> kept, int batchSize, IProgress<ProgressReport> progress)
    {
        var files = new List<(string Path, BoundingBox? Crop)>(kept.Count);
        int next = 0;
        foreach (string id in kept)
        {
            while (next < list.Ids.Count && list.Ids[next] != id) next++;
            if (next == list.Ids.Count) throw new InvalidOperationException($"indexed image '{id}' is not in the image list, or out of its order");
            files.Add(list.Images[next++]);
        }
        var device = TorchDevice.Default();
        var (model, _) = Checkpoint.LoadModel(checkpoint, device);
        using var _ = model;
        return RegionCoderEncoding.Encode(model.Backbone, coder, new ImageFileSource(ImageFiles.Of(files, list.Root)), info.ImageSize, batchSize, device, progress);
    }
}
