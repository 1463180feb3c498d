using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh prepare</c>: generates the mini-landmarks benchmark from the shipped photos (deterministic for a seed),
/// or reuses an up-to-date copy.
/// </summary>
public static class PrepareCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var preset = new Option<string>("--preset") { Description = "smoke (seconds), full (900 images) or large (2,700 images, 85 test landmarks)", DefaultValueFactory = _ => "smoke" };
        var seed = new Option<long?>("--seed") { Description = "seed of every random choice (default: the preset's)" };
        var parentFolder = new Option<string?>("--output") { Description = "parent folder (default: data/generated/mini-landmarks); the benchmark goes to <output>/<preset>" };
        var photos = new Option<string?>("--photos") { Description = "photo folder with photos.tsv (default: data/photos)" };
        var force = new Option<bool>("--force") { Description = "regenerate even when an up-to-date copy exists" };
        var command = new Command("prepare", "Generate the mini-landmarks benchmark (Oxford gt_files layout, train/test split, distractors) from the shipped photos.")
        {
            preset, seed, parentFolder, photos, force,
        };
        command.SetAction(parse =>
        {
            var config = MiniLandmarksConfig.Preset(parse.GetValue(preset)!);
            if (parse.GetValue(seed) is long s) config = config with { Seed = s };
            return Run(CommandOutput.Writer(output), config, parse.GetValue(parentFolder), parse.GetValue(photos), parse.GetValue(force), interactive: true);
        });
        return command;
    }

    /// <summary>Generates (or reuses) the benchmark and prints a summary; returns the exit code.</summary>
    public static int Run(TextWriter writer, MiniLandmarksConfig config, string? output, string? photos, bool force, bool interactive = false)
    {
        config.Validate();
        string root = output ?? MiniLandmarksGenerator.DefaultRoot();
        string target = Path.Combine(root, config.Name);
        if (force && Directory.Exists(target)) Directory.Delete(target, recursive: true);
        var clock = Stopwatch.StartNew();
        var summary = interactive
            ? ConsoleProgress.Run(p => MiniLandmarksGenerator.Ensure(config, root, photos, p))
            : MiniLandmarksGenerator.Ensure(config, root, photos);
        var dataset = LandmarkDataset.OpenMiniLandmarks(summary.Directory);
        var labels = dataset.GroundTruth.Queries
            .GroupBy(q => q.Landmark).Select(g => g.First().Classic!)
            .Aggregate((Good: 0, Ok: 0, Junk: 0), (a, c) => (a.Good + c.Good!.Length, a.Ok + c.Ok!.Length, a.Junk + c.Junk.Length));
        var inv = CultureInfo.InvariantCulture;
        writer.WriteLine($"mini-landmarks '{config.Name}' (seed {config.Seed}) in {summary.Directory}" + (summary.Reused ? " (up to date, reused)" : ""));
        writer.WriteLine($"  train: {summary.TrainImages} images of {summary.TrainLandmarks.Count} landmarks ({string.Join(", ", summary.TrainLandmarks)})");
        writer.WriteLine($"  test:  {summary.DatabaseImages} database images ({summary.Distractors} distractors), {summary.Queries} queries, {summary.TestLandmarks.Count} landmarks ({string.Join(", ", summary.TestLandmarks)})");
        writer.WriteLine($"  labels of test views: {labels.Good} good, {labels.Ok} ok, {labels.Junk} junk");
        writer.WriteLine($"  ground truth: {Path.Combine(summary.Directory, "gt_files")} and {Path.Combine(summary.Directory, MiniLandmarksLayout.PickleFileName)}");
        writer.WriteLine($"  checksum: {summary.Checksum}");
        writer.WriteLine(string.Create(inv, $"  time: {clock.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }
}
