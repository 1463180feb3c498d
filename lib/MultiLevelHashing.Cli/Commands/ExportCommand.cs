using System.CommandLine;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Cli.Commands;

/// <summary><c>mlh export</c>: a checkpoint's DSCNN as a PyTorch state_dict (.safetensors or .pt) plus its architecture file.</summary>
public static class ExportCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "checkpoint written by mlh train", Required = true };
        var outputFile = new Option<FileInfo>("--output")
        {
            Description = "weights file: .safetensors, or .pt/.pth for torch.load; the architecture goes beside it as <name>.json " +
                          "(parameter names: lib/MultiLevelHashing/README.md section 1.5)",
            Required = true,
        };
        var command = new Command("export", "Write a trained DSCNN as a PyTorch state_dict (safetensors or torch.save pickle) that PyTorch and the library load.")
        { checkpoint, outputFile };
        command.SetAction(parse =>
        {
            var ckpt = parse.GetValue(checkpoint)!;
            if (!ckpt.Exists) throw UserInputException.InFile(ckpt.FullName, "checkpoint not found");
            string target = parse.GetValue(outputFile)!.FullName;
            var (model, info) = Checkpoint.LoadModel(ckpt.FullName);
            using var _ = model;
            StateDictFile.Save(model, info.Config.Architecture, info.Config.ImageSize, target);
            int tensors = model.state_dict().Count;
            CommandOutput.Writer(output).WriteLine($"{tensors} tensors: {target}; architecture: {StateDictFile.InfoPath(target)}");
            return 0;
        });
        return command;
    }
}
