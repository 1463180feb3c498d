using System.CommandLine;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Experiments.Runner;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh summary</c>: merges the table cells that the notebooks of an earlier <c>mlh reproduce</c> recorded into
/// <c>summary.json</c> and <c>summary.md</c> again, and with <c>--publish</c> commits a full run's summary to
/// <c>notebooks/results/</c>, the README's results table and the executed notebooks, without running any notebook.
/// </summary>
public static class SummaryCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var mode = new Option<string>("--mode") { Description = "the mode of the run to summarise: smoke or full", DefaultValueFactory = _ => "smoke" };
        var outputFolder = new Option<DirectoryInfo?>("--output") { Description = "the run's output folder (default: artifacts/reproduce/<mode>)" };
        var publish = new Option<bool>("--publish")
        {
            Description = "full mode only: copy the summary to notebooks/results/, rewrite the README's results table, " +
                          "and write the run's executed notebooks with a picture of every chart to notebooks/results/notebooks/ (needs Chromium)",
        };
        var command = new Command("summary", "Merge the table cells of an earlier reproduce run into summary.json and summary.md (and publish a full run's).")
        {
            mode, outputFolder, publish,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var runMode = RunModes.Parse(parse.GetValue(mode)!);
            string root = RepositoryLayout.FindRoot();
            string artifacts = RepositoryLayout.ArtifactsDirectory(root);
            var custom = parse.GetValue(outputFolder);
            string target = custom?.FullName ?? ReproduceCommand.DefaultOutput(artifacts, runMode);
            bool publishing = parse.GetValue(publish);
            if (publishing) ReproduceCommand.EnsurePublishable(runMode);
            var writer = CommandOutput.Writer(output);
            var summary = ReproduceCommand.WriteSummary(runMode, target, custom is null ? artifacts : null, writer)
                ?? throw new UserInputException($"{target}: no notebook of this run recorded table cells (run mlh reproduce first)");
            if (publishing) await ReproduceCommand.PublishAsync(summary, root, target, writer, cancellation);
            return 0;
        });
        return command;
    }
}
