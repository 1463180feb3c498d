using System.CommandLine;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Regions;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Torch;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh regions</c>: fits the PCA-sign region coder (lib/MultiLevelHashing/README.md section 2.3) on the backbone maps
/// of a dataset's training images and stores it in the checkpoint, for <c>mlh index --regions</c>,
/// <c>mlh query --regions</c> and <c>mlh benchmark --regions</c>.
/// </summary>
public static class RegionsCommand
{
    /// <summary>The region code length of the tables (256 bits).</summary>
    public static int DefaultBits => RegionStudyConfig.Full.Bits;

    /// <summary>The tables' input size (224 px, where ResNet18 gives a 7 x 7 grid).</summary>
    public static int DefaultImageSize => RunPresets.TablesTraining(RunMode.Full).ImageSize;

    /// <summary>The command.</summary>
    /// <param name="output">Where the command reports (default: standard output).</param>
    public static Command Create(TextWriter? output = null)
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "checkpoint written by mlh train; the region coder is stored in it", Required = true };
        var dataset = new Option<string>("--dataset") { Description = DatasetArgument.Help + "; only its training images are read", Required = true };
        var bits = new Option<int>("--bits") { Description = "bits per region code B (a multiple of 8, at most the backbone's channels)", DefaultValueFactory = _ => DefaultBits };
        var size = new Option<int>("--size") { Description = "input size S of the maps the coder is fitted on and later applied to", DefaultValueFactory = _ => DefaultImageSize };
        var method = new Option<string>("--method")
        {
            Description = "pca: the sign of a PCA of the location vectors (no labels); whitening: the learned whitening of matched locations of warped " +
                          "training views, the tables' trained coder (section 2.5 of the method README)",
            DefaultValueFactory = _ => "pca",
        };
        method.AcceptOnlyFromAmong("pca", "whitening");
        var shrinkage = new Option<double>("--shrinkage")
        {
            Description = "with --method whitening: ridge on the matched differences' covariance, as a fraction of its mean eigenvalue",
            DefaultValueFactory = _ => RegionStudyConfig.TablesTraining.Shrinkage,
        };
        var batch = EncodingOptions.Batch();
        var command = new Command("regions",
            "Fit the region coder (PCA-sign, or learned whitening on warped views) on the backbone maps of a dataset's training images and store it in the checkpoint (for --regions of index, query and benchmark).")
        { checkpoint, dataset, bits, size, method, shrinkage, batch };
        command.SetAction(parse =>
        {
            var ckpt = parse.GetValue(checkpoint)!;
            if (!ckpt.Exists) throw new UserInputException($"{ckpt.FullName}: checkpoint not found");
            int bitCount = parse.GetValue(bits), imageSize = parse.GetValue(size), batchSize = parse.GetValue(batch);
            if (bitCount <= 0 || bitCount % 8 != 0) throw new UserInputException($"--bits must be a positive multiple of 8, got {bitCount}");
            if (imageSize < 32) throw new UserInputException($"--size must be at least 32, got {imageSize}");
            if (batchSize < 1) throw new UserInputException($"--batch must be at least 1, got {batchSize}");
            bool whitened = parse.GetValue(method) == "whitening";
            double ridge = parse.GetValue(shrinkage);
            if (!(ridge >= 0) || double.IsInfinity(ridge)) throw new UserInputException($"--shrinkage must be a finite number of at least 0, got {ridge}");
            var whitening = whitened ? RegionStudyConfig.TablesTraining with { Shrinkage = ridge } : null;
            var info = ConsoleProgress.Run(progress =>
            {
                var ds = DatasetArgument.Open(parse.GetValue(dataset)!, progress);
                var (model, _) = Checkpoint.LoadModel(ckpt.FullName, TorchDevice.Default());
                using var _ = model;
                var (coder, fitted) = RegionCoderEncoding.FitOnTraining(model, ds, bitCount, imageSize, batchSize, progress, whitening);
                using (coder) Checkpoint.SaveRegionCoder(ckpt.FullName, coder, fitted);
                return fitted;
            });
            CommandOutput.Writer(output).WriteLine($"{(whitened ? "learned-whitening" : "PCA-sign")} region coder: {info.Bits} bits per region from {info.Channels} channels, maps at {info.ImageSize} px, " +
                                                   $"fitted on {info.Source}; stored in {ckpt.FullName}");
            return 0;
        });
        return command;
    }
}
