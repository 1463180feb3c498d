using MultiLevelHashing.Torch;
using System.CommandLine;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Cli.Commands;

/// <summary><c>mlh index</c>: encodes a dataset's database (or an image folder) into one index file of global and local codes.</summary>
public static class IndexCommand
{
    public static Command Create()
    {
        var dataset = new Option<string?>("--dataset") { Description = DatasetArgument.Help + "; its database images are indexed" };
        var images = new Option<DirectoryInfo?>("--images") { Description = "a folder of images to index instead of a dataset (ids = file names without extension)" };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "checkpoint written by mlh train", Required = true };
        var output = new Option<FileInfo>("--output") { Description = "index file to write (atomically; format version, code lengths, ids, codes, checksum)", Required = true };
        var batch = new Option<int>("--batch") { Description = "images per forward batch", DefaultValueFactory = _ => 16 };
        var command = new Command("index", "Encode database images with a trained DSCNN into an index file of global-level and local-level codes.")
        { dataset, images, checkpoint, output, batch };
        command.SetAction(parse =>
        {
            string? datasetValue = parse.GetValue(dataset);
            var folder = parse.GetValue(images);
            if ((datasetValue is null) == (folder is null))
                throw new UserInputException("give exactly one of --dataset or --images");
            int batchSize = parse.GetValue(batch);
            if (batchSize < 1) throw new UserInputException($"--batch must be at least 1, got {batchSize}");
            var ckpt = parse.GetValue(checkpoint)!;
            string target = parse.GetValue(output)!.FullName;
            var (count, globalBits, localBits) = ConsoleProgress.Run(progress =>
            {
                ImageFileSource source;
                List<string> ids;
                if (folder is not null)
                {
                    if (!folder.Exists) throw new UserInputException($"{folder.FullName}: image folder not found");
                    var files = folder.EnumerateFiles()
                        .Where(f => ImageLoader.ImageExtensions.Contains(f.Extension.ToLowerInvariant()))
                        .OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
                    if (files.Count == 0) throw new UserInputException($"{folder.FullName}: no images ({string.Join(", ", ImageLoader.ImageExtensions)})");
                    source = new ImageFileSource(ImageFiles.Of(files.Select(f => f.FullName), folder.FullName));
                    ids = files.Select(f => Path.GetFileNameWithoutExtension(f.Name)).ToList();
                }
                else
                {
                    var ds = DatasetArgument.Open(datasetValue!, progress);
                    source = ImageFileSource.Database(ds);
                    ids = ds.Database.Select(i => i.Name).ToList();
                }
                var (model, info) = Checkpoint.LoadModel(ckpt.FullName, TorchDevice.Default());
                using var _ = model;
                using var codes = DscnnEncoder.Encode(model, source, info.Config.ImageSize, batchSize, device: TorchDevice.Default(), progress: progress);
                CodeIndexFile.Write(target, ids, [codes.Global, codes.Local]);
                return (codes.Count, codes.Global.Bits, codes.Local.Bits);
            });
            System.Console.WriteLine($"{count} images indexed in {target} (global {globalBits} bits, local {localBits} bits)");
            return 0;
        });
        return command;
    }
}
