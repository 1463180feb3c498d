using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;
using Spectre.Console;

namespace MultiLevelHashing.Cli.Commands;

/// <summary><c>mlh train</c>: siamese training of the DSCNN (global and local hash heads) on a labelled dataset.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = DatasetArgument.Help, Required = true };
        var preset = new Option<string>("--preset") { Description = "training preset: smoke (small CNN, seconds) or full (ImageNet ResNet18, heads on cached features)", DefaultValueFactory = _ => "full" };
        var seed = new Option<int?>("--seed") { Description = "seed of initialisation and pair sampling (default: the preset's, 0)" };
        var epochs = new Option<int?>("--epochs") { Description = "override the preset's number of epochs" };
        var bits = new Option<int?>("--global-bits") { Description = "override the global code length Kg" };
        var freeze = new Option<FreezePolicy?>("--freeze") { Description = "override the freeze policy: HeadsOnly, Layer4AndHeads or All" };
        var set = new Option<string[]>("--set")
        {
            Description = "override any training setting of the preset, e.g. --set Gamma=0 --set HeadInit=Centered (names as in TrainingConfig)",
            AllowMultipleArgumentsPerToken = false,
        };
        var checkpoint = new Option<FileInfo?>("--checkpoint") { Description = "checkpoint file (default: artifacts/train/<dataset>-<preset>-<config hash>.ckpt)" };
        var resume = new Option<bool>("--resume") { Description = "continue from the checkpoint when it exists (same configuration required)" };
        var history = new Option<FileInfo?>("--history") { Description = "also write the loss and mAP history as JSON here" };
        var command = new Command("train", "Train the DSCNN's global and local hash heads with the siamese DSH loss; validation mAP of the global code after each epoch.")
        { dataset, preset, seed, epochs, bits, freeze, set, checkpoint, resume, history };
        command.SetAction(parse =>
        {
            var config = TrainingConfig.Preset(parse.GetValue(preset)!);
            if (parse.GetValue(seed) is { } s) config = config with { Seed = s };
            if (parse.GetValue(epochs) is { } e) config = config with { Epochs = e };
            if (parse.GetValue(bits) is { } b) config = config with { GlobalBits = b };
            if (parse.GetValue(freeze) is { } f) config = config with { Freeze = f };
            try
            {
                var overrides = (parse.GetValue(set) ?? []).Select(o => o.Split('=', 2) is [var k, var v]
                    ? (k, v) : throw new ArgumentException($"--set '{o}': expected Name=Value"));
                config = config.WithOverrides(overrides).Validate();
            }
            catch (ArgumentException ex) { throw new UserInputException($"invalid training settings: {ex.Message}"); }

            var result = ConsoleProgress.Run(progress =>
            {
                var ds = DatasetArgument.Open(parse.GetValue(dataset)!, progress);
                string path = parse.GetValue(checkpoint)?.FullName ?? Path.Combine(
                    RepositoryLayout.ArtifactsDirectory(RepositoryLayout.FindRoot()), "train",
                    $"{ds.Name.Replace('/', '-')}-{parse.GetValue(preset)}-{config.Hash()}.ckpt");
                var options = new TrainingRunOptions { CheckpointPath = path, Resume = parse.GetValue(resume) };
                var r = DatasetTraining.Train(ds, config, options, progress);
                return (r, path);
            });
            using var trained = result.r;
            var table = new Table().AddColumns("epoch", "loss", "L_g", "L_l", "val mAP (global)", "pairs/s");
            table.AddRow("0", "", "", "", Percent(trained.History.InitialValidationMap), "");
            foreach (var ep in trained.History.Epochs)
                table.AddRow(ep.Epoch.ToString(CultureInfo.InvariantCulture), ep.Loss.ToString("0.000", CultureInfo.InvariantCulture),
                    ep.GlobalLoss.ToString("0.000", CultureInfo.InvariantCulture), ep.LocalLoss.ToString("0.000", CultureInfo.InvariantCulture),
                    Percent(ep.ValidationMap), ep.PairsPerSecond.ToString("0", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            System.Console.WriteLine($"config {config.Hash()} (seed {config.Seed}); checkpoint: {result.path}");
            if (parse.GetValue(history) is { } h)
                AtomicFile.WriteAllText(h.FullName, JsonSerializer.Serialize(trained.History, TrainingConfig.JsonOptions));
            return 0;
        });
        return command;
    }

    private static string Percent(double? v) => v is null ? "" : (100 * v.Value).ToString("0.00", CultureInfo.InvariantCulture) + "%";
}
