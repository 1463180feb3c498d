using MultiLevelHashing.Data;
using System.CommandLine;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh encode</c>: global and local hash codes of a dataset's images with a trained DSCNN checkpoint, encoded a chunk
/// at a time to disk (resumable; <c>--shard</c> splits the work over machines sharing <c>--cache</c>).
/// </summary>
public static class EncodeCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var dataset = new Option<string?>("--dataset") { Description = DatasetArgument.Help };
        var folder = new Option<DirectoryInfo?>("--images") { Description = "a folder of images to encode instead of a dataset (names = file names without extension)" };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "checkpoint written by mlh train", Required = true };
        var outputFile = new Option<FileInfo?>("--output")
        {
            Description = "output name, e.g. codes.npy: writes codes.global.npy and codes.local.npy (uint8, N x K/8, bit j in byte j/8 at bit j%8, " +
                          "1 where u > 0; numpy and FAISS binary indexes read them) and codes.images.txt (one image name per row); not needed with --shard or --dry-run",
        };
        var part = new Option<string>("--part") { Description = "with --dataset, which images: database (default), queries (cropped to their box) or train", DefaultValueFactory = _ => "database" };
        var encoding = new EncodingOptions.Declared();
        var command = new Command("encode", "Encode a dataset's images into packed global-level and local-level hash codes (.npy) with a trained DSCNN.")
        { dataset, folder, checkpoint, outputFile, part };
        encoding.AddTo(command);
        command.SetAction(parse =>
        {
            string? datasetValue = parse.GetValue(dataset);
            var imageFolder = parse.GetValue(folder);
            if ((datasetValue is null) == (imageFolder is null))
                throw new UserInputException("give exactly one of --dataset or --images");
            string? outPath = parse.GetValue(outputFile)?.FullName;
            string? stem = outPath is null ? null : outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? outPath[..^4] : outPath;
            var settings = encoding.ReadSettings(parse);
            var chunks = encoding.ReadChunks(parse);
            string partName = parse.GetValue(part)!.ToLowerInvariant();
            return EncodingOptions.RunChunked(CommandOutput.Writer(output), settings, chunks, parse.GetValue(checkpoint)!, stem,
                progress => imageFolder is not null ? EncodingOptions.Folder(imageFolder) : DatasetPart(datasetValue!, partName, progress),
                (cached, _, _) =>
                {
                    var index = cached.Index;
                    index.Levels[0].WriteNpy(stem + ".global.npy");
                    index.Levels[1].WriteNpy(stem + ".local.npy");
                    AtomicFile.Write(stem + ".images.txt", s =>
                    {
                        using var text = new StreamWriter(s, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
                        foreach (string id in index.ImageIds) text.WriteLine(id);
                    });
                    return $"{index.Count} images: {stem}.global.npy ({index.Levels[0].Bits} bits), {stem}.local.npy ({index.Levels[1].Bits} bits), {stem}.images.txt";
                });
        });
        return command;
    }

    private static EncodingOptions.ImageList DatasetPart(string dataset, string part, IProgress<ProgressReport> progress)
    {
        var ds = DatasetArgument.Open(dataset, progress);
        return part switch
        {
            "database" => new(ds.Name, part, ds.Root, [.. ds.Database.Select(i => (i.Path, (BoundingBox?)null))], [.. ds.Database.Select(i => i.Name)]),
            "queries" => new(ds.Name, part, ds.Root, [.. ds.Queries.Select(q => (q.Path, (BoundingBox?)q.Box))], [.. ds.Queries.Select(q => q.Id)]),
            "train" => new(ds.Name, part, ds.Root, [.. ds.Train.Select(i => (i.Path, (BoundingBox?)null))], [.. ds.Train.Select(i => i.Name)]),
            var other => throw new UserInputException($"--part {other}: expected database, queries or train"),
        };
    }
}
