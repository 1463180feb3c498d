using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Regions;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;
using Spectre.Console;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh train</c>: siamese training of the DSCNN (global and local hash heads) on a labelled dataset, or, with
/// <c>--images</c>, self-supervised on a folder of unlabelled photos (views of one photo are similar).
/// </summary>
public static class TrainCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var dataset = new Option<string>("--dataset") { Description = DatasetArgument.Help };
        var images = new Option<DirectoryInfo?>("--images")
        {
            Description = "train without labels on this folder of photos (searched recursively): synthesized views of one photo are similar, " +
                          "views of different photos are not; 15% of the photos are held out for validation (finding the other views of an unseen photo)",
        };
        var views = new Option<DirectoryInfo?>("--views") { Description = "with --images: where the synthesized views go (default: artifacts/self-supervised)" };
        var preset = new Option<string>("--preset")
        {
            Description = "training preset: smoke (small CNN, seconds) or full (ImageNet ResNet18 at 224 px, heads on cached features: the model of the README's table)",
            DefaultValueFactory = _ => "full",
        };
        var size = new Option<int?>("--size") { Description = "train at S x S pixels instead of the preset's size (full: 224, smoke: 64)" };
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
        { dataset, images, views, preset, size, seed, epochs, bits, freeze, set, checkpoint, resume, history };
        command.SetAction(parse =>
        {
            var config = RunPresets.Command(parse.GetValue(preset)!);
            if (parse.GetValue(size) is { } px) config = config with { ImageSize = px };
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

            string? datasetValue = parse.GetValue(dataset);
            var imageFolder = parse.GetValue(images);
            if ((datasetValue is null) == (imageFolder is null))
                throw new UserInputException("mlh train: give exactly one of --dataset (labelled training) and --images (a folder of unlabelled photos)");
            if (parse.GetValue(views) is not null && imageFolder is null)
                throw new UserInputException("mlh train: --views only applies with --images");

            string? note = null;
            var result = ConsoleProgress.Run(progress =>
            {
                string Checkpoint(string name) => parse.GetValue(checkpoint)?.FullName ?? Path.Combine(
                    RepositoryLayout.ArtifactsDirectory(RepositoryLayout.FindRoot()), "train",
                    $"{name.Replace('/', '-')}-{parse.GetValue(preset)}-{config.Hash()}.ckpt");
                TrainingResult r;
                string path;
                RegionCoderInfo? coderBefore;
                if (imageFolder is not null)
                {
                    string viewRoot = parse.GetValue(views)?.FullName
                        ?? Path.Combine(RepositoryLayout.ArtifactsDirectory(RepositoryLayout.FindRoot()), "self-supervised");
                    var pairs = SelfSupervisedPairSource.FromFolder(imageFolder.FullName, SelfSupervisedViewSettings.For(config), viewRoot, progress);
                    note = ($"self-supervised: {pairs.TrainingPhotos.Count} training photos ({pairs.Views.Train.Count} views), " +
                                             $"{pairs.ValidationPhotos.Count} held out for validation, {pairs.BackgroundPhotos.Count} for backgrounds; views in {pairs.Views.Root}");
                    path = Checkpoint("images-" + Path.GetFileName(pairs.Views.Root));
                    coderBefore = Training.Checkpoint.StoredRegionCoder(path);
                    r = SelfSupervisedTraining.Train(pairs, config, new TrainingRunOptions { CheckpointPath = path, Resume = parse.GetValue(resume) }, progress);
                }
                else
                {
                    var ds = DatasetArgument.Open(datasetValue!, progress);
                    path = Checkpoint(ds.Name);
                    coderBefore = Training.Checkpoint.StoredRegionCoder(path);
                    r = DatasetTraining.Train(ds, config, new TrainingRunOptions { CheckpointPath = path, Resume = parse.GetValue(resume) }, progress);
                }
                return (r, path, coderBefore);
            });
            using var trained = result.r;
            if (note is not null) CommandOutput.Writer(output).WriteLine(note);
            var table = new Table().AddColumns("epoch", "loss", "L_g", "L_l", imageFolder is null ? "val mAP (global)" : "val mAP (global, held-out photos)", "pairs/s");
            table.AddRow("0", "", "", "", Percent(trained.History.InitialValidationMap), "");
            foreach (var ep in trained.History.Epochs)
                table.AddRow(ep.Epoch.ToString(CultureInfo.InvariantCulture), ep.Loss.ToString("0.000", CultureInfo.InvariantCulture),
                    ep.GlobalLoss.ToString("0.000", CultureInfo.InvariantCulture), ep.LocalLoss.ToString("0.000", CultureInfo.InvariantCulture),
                    Percent(ep.ValidationMap), ep.PairsPerSecond.ToString("0", CultureInfo.InvariantCulture));
            CommandOutput.Console(output).Write(table);
            CommandOutput.Writer(output).WriteLine($"config {config.Hash()} (seed {config.Seed}); checkpoint: {result.path}");
            if (result.coderBefore is not null)
                CommandOutput.Writer(output).WriteLine(Training.Checkpoint.StoredRegionCoder(result.path) is not null
                    ? "the region coder stored in the checkpoint was kept: it codes the maps of the same backbone"
                    : "the region coder stored in the checkpoint was dropped: training changed the backbone whose maps it codes; run mlh regions again");
            if (parse.GetValue(history) is { } h)
                AtomicFile.WriteAllText(h.FullName, JsonSerializer.Serialize(trained.History, TrainingConfig.JsonOptions));
            return 0;
        });
        return command;
    }

    private static string Percent(double? v) => v is null ? "" : (100 * v.Value).ToString("0.00", CultureInfo.InvariantCulture) + "%";
}
