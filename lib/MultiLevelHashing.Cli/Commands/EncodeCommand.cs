using MultiLevelHashing.Data;
using MultiLevelHashing.Torch;
using System.CommandLine;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Cli.Commands;

/// <summary><c>mlh encode</c>: global and local hash codes of a dataset's images with a trained DSCNN checkpoint.</summary>
public static class EncodeCommand
{
    public static Command Create()
    {
        var dataset = new Option<string?>("--dataset") { Description = DatasetArgument.Help };
        var folder = new Option<DirectoryInfo?>("--images") { Description = "a folder of images to encode instead of a dataset (names = file names without extension)" };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "checkpoint written by mlh train", Required = true };
        var output = new Option<FileInfo>("--output")
        {
            Description = "output name, e.g. codes.npy: writes codes.global.npy and codes.local.npy (uint8, N x K/8, bit j in byte j/8 at bit j%8, " +
                          "1 where u > 0; numpy and FAISS binary indexes read them) and codes.images.txt (one image name per row)",
            Required = true,
        };
        var part = new Option<string>("--part") { Description = "with --dataset, which images: database (default), queries (cropped to their box) or train", DefaultValueFactory = _ => "database" };
        var batch = EncodingOptions.Batch();
        var strict = EncodingOptions.Strict();
        var decodeThreads = EncodingOptions.DecodeThreads();
        var command = new Command("encode", "Encode a dataset's images into packed global-level and local-level hash codes (.npy) with a trained DSCNN.")
        { dataset, folder, checkpoint, output, part, batch, strict, decodeThreads };
        command.SetAction(parse =>
        {
            string? datasetValue = parse.GetValue(dataset);
            var imageFolder = parse.GetValue(folder);
            if ((datasetValue is null) == (imageFolder is null))
                throw new UserInputException("give exactly one of --dataset or --images");
            var ckpt = parse.GetValue(checkpoint)!;
            string outPath = parse.GetValue(output)!.FullName;
            string stem = outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? outPath[..^4] : outPath;
            var settings = EncodingOptions.Read(parse, batch, strict, decodeThreads);
            var written = ConsoleProgress.Run(progress =>
            {
                var (images, names) = imageFolder is not null ? EncodingOptions.Folder(imageFolder) : DatasetPart(datasetValue!, parse.GetValue(part)!, progress);
                var (model, info) = Checkpoint.LoadModel(ckpt.FullName, TorchDevice.Default());
                using var _ = model;
                using var codes = DscnnEncoder.Encode(model, images, info.Config.ImageSize, settings.BatchSize, device: TorchDevice.Default(),
                    progress: progress, badImages: settings.BadImages, pipeline: settings.Pipeline);
                Directory.CreateDirectory(Path.GetDirectoryName(stem)!);
                codes.Global.WriteNpy(stem + ".global.npy");
                codes.Local.WriteNpy(stem + ".local.npy");
                AtomicFile.WriteAllText(stem + ".images.txt", string.Join('\n', codes.SourceIndices.Select(i => names[i])) + "\n");
                return (codes.Count, codes.Global.Bits, codes.Local.Bits, codes.Timings!, codes.Skipped);
            });
            System.Console.WriteLine($"{written.Count} images: {stem}.global.npy ({written.Item2} bits), {stem}.local.npy ({written.Item3} bits), {stem}.images.txt");
            EncodingOptions.PrintSummary(written.Item4, written.Skipped);
            return 0;
        });
        return command;
    }

    private static (ImageFileSource, List<string>) DatasetPart(string dataset, string part, IProgress<ProgressReport> progress)
    {
        var ds = DatasetArgument.Open(dataset, progress);
        return part.ToLowerInvariant() switch
        {
            "database" => (ImageFileSource.Database(ds), ds.Database.Select(i => i.Name).ToList()),
            "queries" => (ImageFileSource.Queries(ds), ds.Queries.Select(q => q.Id).ToList()),
            "train" => (ImageFileSource.Train(ds), ds.Train.Select(i => i.Name).ToList()),
            var other => throw new UserInputException($"--part {other}: expected database, queries or train"),
        };
    }
}
