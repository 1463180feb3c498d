using System.CommandLine;
using MultiLevelHashing.Cli.Console;
using System.Diagnostics;
using MultiLevelHashing.Experiments.Runner;
using MultiLevelHashing.Notebooks;
using MultiLevelHashing.Runtime;
using Spectre.Console;

namespace MultiLevelHashing.Cli.Commands;

/// <summary><c>mlh reproduce</c>: runs the notebook series headless and collects executed notebooks and figures.</summary>
public static class ReproduceCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var mode = new Option<string>("--mode") { Description = "smoke (every notebook in about a minute) or full (the reported figures)", DefaultValueFactory = _ => "smoke" };
        var only = new Option<string[]>("--only") { Description = "run only these notebooks, by number (e.g. --only 01 --only 03, or --only 01,03)", AllowMultipleArgumentsPerToken = true };
        var outputFolder = new Option<DirectoryInfo?>("--output") { Description = "where executed notebooks and figures go (default: artifacts/reproduce/<mode>)" };
        var notebooks = new Option<DirectoryInfo?>("--notebooks") { Description = "folder of notebooks (default: notebooks/ of the repository)" };
        var publish = new Option<bool>("--publish")
        {
            Description = "full mode only: also copy the summary to notebooks/results/, rewrite the README's results table from it, " +
                          "and write the executed notebooks with a picture of every chart to notebooks/results/notebooks/ (needs Chromium)",
        };
        var command = new Command("reproduce", "Run the numbered notebooks headless, in order, and write executed copies and figures.")
        {
            mode, only, outputFolder, notebooks, publish,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var runMode = RunModes.Parse(parse.GetValue(mode)!);
            string root = RepositoryLayout.FindRoot();
            string folder = parse.GetValue(notebooks)?.FullName ?? RepositoryLayout.NotebooksDirectory(root);
            var custom = parse.GetValue(outputFolder);
            string artifacts = RepositoryLayout.ArtifactsDirectory(root);
            string target = custom?.FullName ?? DefaultOutput(artifacts, runMode);
            bool publishing = parse.GetValue(publish);
            if (publishing) EnsurePublishable(runMode);
            var selected = SelectNotebooks(folder, parse.GetValue(only) ?? []);
            var writer = CommandOutput.Writer(output);
            int code = await RunAsync(selected, runMode, target, output, cancellation);
            var summary = WriteSummary(runMode, target, custom is null ? artifacts : null, writer);
            if (publishing && code == 0 && summary is not null) await PublishAsync(summary, root, target, writer, cancellation);
            return code;
        });
        return command;
    }

    /// <summary>Refuses <c>--publish</c> for anything but a full run.</summary>
    /// <exception cref="UserInputException">The mode is not full.</exception>
    public static void EnsurePublishable(RunMode mode)
    {
        if (mode != RunMode.Full) throw new UserInputException("--publish: only a full-mode run's summary is published (add --mode full)");
    }

    /// <summary>
    /// Publishes a full run: the summary and the README's table (<see cref="ResultsPublishing"/>) and the executed notebooks
    /// with a picture of every chart (<see cref="PublishedNotebooks"/>), all from the run in <paramref name="runFolder"/>.
    /// </summary>
    public static async Task PublishAsync(ResultSummary summary, string root, string runFolder, TextWriter output, CancellationToken cancellation)
    {
        var (summaryFile, readme) = ResultsPublishing.Publish(summary, root);
        output.WriteLine($"published: {summaryFile} and the results table of {readme}");
        string target = PublishedNotebooks.Directory(root);
        var (notebooks, charts) = await Console.ConsoleProgress.RunAsync(progress => PublishedNotebooks.PublishAsync(runFolder, target, progress, cancellation));
        output.WriteLine($"published: {notebooks} executed notebooks with {charts} chart pictures in {target}");
    }

    /// <summary>Notebooks named NN-*.ipynb in <paramref name="folder"/>, in order, filtered by number prefixes.</summary>
    public static IReadOnlyList<string> SelectNotebooks(string folder, IEnumerable<string> only)
    {
        if (!Directory.Exists(folder)) throw new UserInputException($"{folder}: notebook folder not found");
        var all = Directory.EnumerateFiles(folder, "*.ipynb").Order(StringComparer.Ordinal).ToList();
        var wanted = only.SelectMany(o => o.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (wanted.Count == 0) return all;
        var chosen = new List<string>();
        foreach (string prefix in wanted)
        {
            var match = all.Where(p => Path.GetFileName(p).StartsWith(prefix.PadLeft(2, '0') + "-", StringComparison.Ordinal)).ToList();
            if (match.Count == 0)
                throw new UserInputException($"--only {prefix}: no notebook {prefix.PadLeft(2, '0')}-*.ipynb in {folder}");
            chosen.AddRange(match);
        }
        return chosen.Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Where a run of <paramref name="mode"/> writes its executed notebooks and figures by default: <c>artifacts/reproduce/&lt;mode&gt;</c>.</summary>
    public static string DefaultOutput(string artifacts, RunMode mode) => Path.Combine(artifacts, "reproduce", mode.Name());

    /// <summary>
    /// Merges the summaries of the notebooks in <paramref name="target"/> (this run's and earlier runs' of the same
    /// mode) into <c>summary.json</c> and <c>summary.md</c> there and, for the default output, in <paramref name="artifacts"/>;
    /// says where on <paramref name="output"/> (standard output when null).
    /// </summary>
    public static ResultSummary? WriteSummary(RunMode mode, string target, string? artifacts, TextWriter? output = null)
    {
        var parts = Directory.Exists(target)
            ? Directory.EnumerateFiles(target, ResultSummary.JsonFile, SearchOption.AllDirectories)
                .Where(p => Path.GetDirectoryName(p) != Path.GetFullPath(target)).Order(StringComparer.Ordinal).ToList()
            : [];
        if (parts.Count == 0) return null;
        var summary = ResultSummary.Merge(mode.Name(), parts.Select(ResultSummary.Read));
        summary.WriteTo(target);
        if (artifacts is not null) summary.WriteTo(artifacts);
        CommandOutput.Writer(output).WriteLine($"summary of {summary.Rows.Count} table cells from {parts.Count} notebook(s): {Path.Combine(artifacts ?? target, ResultSummary.JsonFile)}");
        return summary;
    }

    private static async Task<int> RunAsync(IReadOnlyList<string> notebooks, RunMode mode, string target, TextWriter? output, CancellationToken cancellation)
    {
        Directory.CreateDirectory(target);
        var console = CommandOutput.Console(output);
        console.MarkupLine($"Running {notebooks.Count} notebook(s) in [bold]{mode.Name()}[/] mode; outputs in {Markup.Escape(target)}");
        var results = new List<NotebookRunResult>();
        var clock = Stopwatch.StartNew();
        foreach (string notebook in notebooks)
        {
            string name = Path.GetFileNameWithoutExtension(notebook);
            string figures = Path.Combine(target, name);
            if (Directory.Exists(figures)) Directory.Delete(figures, recursive: true);
            var result = await Console.ConsoleProgress.RunAsync(progress => NotebookRunner.RunAsync(notebook, new NotebookRunOptions
            {
                Mode = mode,
                ExecutedNotebookPath = Path.Combine(target, name + ".ipynb"),
                FigureDirectory = figures,
                Progress = progress,
            }, cancellation));
            results.Add(result);
            if (!result.Succeeded) console.MarkupLine($"[red]{Markup.Escape(result.Failure!.ToString())}[/]");
        }

        var table = new Table().AddColumns("notebook", "result", "seconds", "headline");
        foreach (var r in results)
        {
            string headlineFile = Path.Combine(target, Path.GetFileNameWithoutExtension(r.Notebook), NotebookSession.HeadlineFile);
            string headline = File.Exists(headlineFile) ? string.Join("; ", File.ReadAllLines(headlineFile)) : "";
            table.AddRow(Markup.Escape(r.Notebook), r.Succeeded ? "[green]ok[/]" : $"[red]failed at cell {r.Failure!.CellNumber}[/]",
                r.Elapsed.TotalSeconds.ToString("0.0"), Markup.Escape(headline));
        }
        console.Write(table);
        int failed = results.Count(r => !r.Succeeded);
        CommandOutput.Writer(output).WriteLine($"{results.Count - failed} passed, {failed} failed in {clock.Elapsed.TotalSeconds:0} s; executed notebooks and figures in {target}");
        return failed == 0 ? 0 : 1;
    }
}
