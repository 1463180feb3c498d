using MultiLevelHashing.Data;
using System.CommandLine;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh index</c>: encodes a dataset's database (or an image folder) into one index file of global and local codes, a
/// chunk at a time to disk (resumable; <c>--shard</c> splits the work over machines sharing <c>--cache</c>).
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
        var encoding = new EncodingOptions.Declared();
        var command = new Command("index", "Encode database images with a trained DSCNN into an index file of global-level and local-level codes.")
        { dataset, images, checkpoint, outputFile };
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
            return EncodingOptions.RunChunked(CommandOutput.Writer(output), settings, chunks, parse.GetValue(checkpoint)!, target,
                progress =>
                {
                    if (folder is not null) return EncodingOptions.Folder(folder);
                    var ds = DatasetArgument.Open(datasetValue!, progress);
                    return new EncodingOptions.ImageList(ds.Name, "database", ds.Root, [.. ds.Database.Select(i => (i.Path, (BoundingBox?)null))],
                        [.. ds.Database.Select(i => i.Name)]);
                },
                cached =>
                {
                    // The cache's index is an index file already: copied byte for byte, atomically.
                    AtomicFile.Write(target!, s =>
                    {
                        using var source = new FileStream(cached.Index.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                        source.CopyTo(s);
                    });
                    var levels = cached.Index.Levels;
                    return $"{cached.Index.Count} images indexed in {target} (global {levels[0].Bits} bits, local {levels[1].Bits} bits)";
                });
        });
        return command;
    }
}
