using System.CommandLine;
using System.Globalization;
using MultiLevelHashing.Attention;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Torch;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh select</c>: the dataset-level bit selection (lib/MultiLevelHashing/README.md section 2.7) from a dataset's
/// training split, stored in the checkpoint for <c>mlh query --levels --select dataset</c>.
/// </summary>
public static class SelectCommand
{
    /// <summary>The command.</summary>
    /// <param name="output">Where the command reports (default: standard output).</param>
    public static Command Create(TextWriter? output = null)
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "checkpoint written by mlh train; the selection is stored in it", Required = true };
        var dataset = new Option<string>("--dataset") { Description = DatasetArgument.Help + "; only its training split (images and landmark boxes) is read", Required = true };
        var rho = new Option<double>("--rho") { Description = "share of the local bits to keep, L = round(rho * Kl)", DefaultValueFactory = _ => MultiLevelSetting.Default.Rho };
        var size = new Option<int?>("--size") { Description = "input size S of the maps (default: the checkpoint's image size)" };
        var command = new Command("select", "Select the local bits most pertinent to the landmarks of a dataset's training images and store them in the checkpoint.")
        { checkpoint, dataset, rho, size };
        command.SetAction(parse =>
        {
            var ckpt = parse.GetValue(checkpoint)!;
            if (!ckpt.Exists) throw new UserInputException($"{ckpt.FullName}: checkpoint not found");
            double share = parse.GetValue(rho);
            if (!(share > 0 && share <= 1)) throw new UserInputException($"--rho must be in (0, 1], got {share.ToString(CultureInfo.InvariantCulture)}");
            var selection = ConsoleProgress.Run(progress =>
            {
                var ds = DatasetArgument.Open(parse.GetValue(dataset)!, progress);
                var (model, info) = Checkpoint.LoadModel(ckpt.FullName, TorchDevice.Default());
                using var _ = model;
                int imageSize = parse.GetValue(size) ?? info.Config.ImageSize;
                if (imageSize < 32) throw new UserInputException($"--size must be at least 32, got {imageSize}");
                var selected = TrainingSelection.Select(model, info.Config, ds, share, imageSize, DatasetTraining.DefaultFeatureCache(), progress);
                Checkpoint.SaveSelection(ckpt.FullName, selected);
                return selected;
            });
            CommandOutput.Writer(output).WriteLine($"kept {selection.Bits.Length} of {selection.LocalBits} local bits (rho {selection.Rho.ToString(CultureInfo.InvariantCulture)}, " +
                                     $"maps at {selection.ImageSize} px, from {selection.Source}); stored in {ckpt.FullName}");
            CommandOutput.Writer(output).WriteLine("bits: " + string.Join(' ', selection.Bits));
            return 0;
        });
        return command;
    }
}
