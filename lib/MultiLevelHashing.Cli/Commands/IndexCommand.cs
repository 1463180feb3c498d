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
        var batch = EncodingOptions.Batch();
        var strict = EncodingOptions.Strict();
        var decodeThreads = EncodingOptions.DecodeThreads();
        var command = new Command("index", "Encode database images with a trained DSCNN into an index file of global-level and local-level codes.")
        { dataset, images, checkpoint, output, batch, strict, decodeThreads };
        command.SetAction(parse =>
        {
            string? datasetValue = parse.GetValue(dataset);
            var folder = parse.GetValue(images);
            if ((datasetValue is null) == (folder is null))
                throw new UserInputException("give exactly one of --dataset or --images");
            var settings = EncodingOptions.Read(parse, batch, strict, decodeThreads);
            var ckpt = parse.GetValue(checkpoint)!;
            string target = parse.GetValue(output)!.FullName;
            var (count, globalBits, localBits, timings, skipped) = ConsoleProgress.Run(progress =>
            {
                ImageFileSource source;
                List<string> ids;
                if (folder is not null)
                {
                    (source, ids) = EncodingOptions.Folder(folder);
                }
                else
                {
                    var ds = DatasetArgument.Open(datasetValue!, progress);
                    source = ImageFileSource.Database(ds);
                    ids = ds.Database.Select(i => i.Name).ToList();
                }
                var (model, info) = Checkpoint.LoadModel(ckpt.FullName, TorchDevice.Default());
                using var _ = model;
                using var codes = DscnnEncoder.Encode(model, source, info.Config.ImageSize, settings.BatchSize, device: TorchDevice.Default(),
                    progress: progress, badImages: settings.BadImages, pipeline: settings.Pipeline);
                if (codes.Count == 0) throw new UserInputException($"none of the {ids.Count} images could be read; nothing to index");
                CodeIndexFile.Write(target, codes.SourceIndices.Select(i => ids[i]).ToList(), [codes.Global, codes.Local]);
                return (codes.Count, codes.Global.Bits, codes.Local.Bits, codes.Timings!, codes.Skipped);
            });
            System.Console.WriteLine($"{count} images indexed in {target} (global {globalBits} bits, local {localBits} bits)");
            EncodingOptions.PrintSummary(timings, skipped);
            return 0;
        });
        return command;
    }
}
