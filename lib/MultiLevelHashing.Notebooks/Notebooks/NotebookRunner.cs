using System.Diagnostics;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.PackageManagement;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Notebooks;

/// <summary>Options of one headless notebook run.</summary>
public sealed record NotebookRunOptions
{
    /// <summary>Size of the run, passed to the notebook as <c>MLH_MODE</c>.</summary>
    public RunMode Mode { get; init; } = RunMode.Smoke;

    /// <summary>Where the executed copy (with outputs) is written; none when null.</summary>
    public string? ExecutedNotebookPath { get; init; }

    /// <summary>Where the notebook's figures go (<c>MLH_NOTEBOOK_OUTPUT</c>); a folder beside the executed copy when null.</summary>
    public string? FigureDirectory { get; init; }

    /// <summary>Progress in code cells.</summary>
    public IProgress<ProgressReport>? Progress { get; init; }

    /// <summary>Longest time one cell may run before the run is reported failed; unlimited when null.</summary>
    public TimeSpan? CellTimeout { get; init; }
}

/// <summary>One executed cell.</summary>
/// <param name="CellNumber">1-based position among all cells of the notebook, as an editor numbers them.</param>
/// <param name="Elapsed">Wall time of the cell.</param>
/// <param name="Succeeded">False for the cell that stopped the run.</param>
public sealed record CellRun(int CellNumber, TimeSpan Elapsed, bool Succeeded);

/// <summary>Where and why a notebook failed.</summary>
public sealed record NotebookFailure(string Notebook, int CellNumber, string Error)
{
    /// <inheritdoc />
    public override string ToString() => $"{Notebook}: cell {CellNumber} failed: {Error}";
}

/// <summary>The outcome of a notebook run.</summary>
public sealed record NotebookRunResult(string Notebook, IReadOnlyList<CellRun> Cells, NotebookFailure? Failure, TimeSpan Elapsed, string? ExecutedNotebookPath)
{
    /// <summary>True when every code cell ran without error.</summary>
    public bool Succeeded => Failure is null;
}

/// <summary>
/// Runs a .NET Interactive C# notebook (.ipynb) in this process, cell by cell, the way an editor would:
/// one C# kernel, cells in order, working directory = the notebook's folder. Stops at the first failing
/// cell and reports the notebook, the cell number and the error; writes the executed copy with outputs.
/// Runs are serialised: the mode, output folder and working directory are process-wide.
/// </summary>
public static class NotebookRunner
{
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    /// <summary>Executes <paramref name="notebookPath"/> and returns what happened; never throws for a failing cell.</summary>
    public static async Task<NotebookRunResult> RunAsync(string notebookPath, NotebookRunOptions? options = null, CancellationToken cancellation = default)
    {
        options ??= new NotebookRunOptions();
        string fullPath = Path.GetFullPath(notebookPath);
        string name = Path.GetFileName(fullPath);
        if (!File.Exists(fullPath)) throw new UserInputException($"{notebookPath}: notebook not found");

        InteractiveDocument document;
        try
        {
            document = Notebook.Parse(await File.ReadAllTextAsync(fullPath, cancellation), KernelInfos());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new UserInputException($"{notebookPath}: not a readable .ipynb notebook: {e.Message}", e);
        }

        await OneAtATime.WaitAsync(cancellation);
        var saved = (Mode: Environment.GetEnvironmentVariable(RunModes.EnvironmentVariable),
                     Output: Environment.GetEnvironmentVariable(NotebookSession.OutputVariable),
                     Directory: Environment.CurrentDirectory);
        var clock = Stopwatch.StartNew();
        var cells = new List<CellRun>();
        NotebookFailure? failure = null;
        try
        {
            string figures = options.FigureDirectory
                ?? (options.ExecutedNotebookPath is { } executed
                    ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(executed))!, Path.GetFileNameWithoutExtension(name))
                    : Path.Combine(Path.GetTempPath(), "mlh-notebooks", Path.GetFileNameWithoutExtension(name)));
            Directory.CreateDirectory(figures);
            Environment.SetEnvironmentVariable(RunModes.EnvironmentVariable, options.Mode.Name());
            Environment.SetEnvironmentVariable(NotebookSession.OutputVariable, figures);
            Environment.CurrentDirectory = Path.GetDirectoryName(fullPath)!;

            using var kernel = CreateKernel(out var csharp);
            var codeCells = document.Elements
                .Select((element, index) => (element, number: index + 1))
                .Where(c => IsCode(c.element))
                .ToList();
            int done = 0;
            foreach (var (element, number) in codeCells)
            {
                cancellation.ThrowIfCancellationRequested();
                options.Progress.Report(name, done, codeCells.Count, "cells", $"cell {number}");
                element.Outputs.Clear();
                var cellClock = Stopwatch.StartNew();
                string? error = await RunCellAsync(kernel, csharp, element, options.CellTimeout);
                cells.Add(new CellRun(number, cellClock.Elapsed, error is null));
                options.Progress.Report(name, ++done, codeCells.Count, "cells", $"cell {number}");
                if (error is not null)
                {
                    failure = new NotebookFailure(name, number, error);
                    break;
                }
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(RunModes.EnvironmentVariable, saved.Mode);
            Environment.SetEnvironmentVariable(NotebookSession.OutputVariable, saved.Output);
            Environment.CurrentDirectory = saved.Directory;
            OneAtATime.Release();
        }

        if (options.ExecutedNotebookPath is { } target)
        {
            // The parser leaves the kernel metadata as plain dictionaries, which the writer cannot serialise;
            // the writer puts the C# kernel's entry back.
            document.Metadata.Remove("polyglot_notebook");
            AtomicFile.WriteAllText(target, Notebook.ToJupyterJson(document, "C#"));
        }
        return new NotebookRunResult(name, cells, failure, clock.Elapsed, options.ExecutedNotebookPath);
    }

    private static bool IsCode(InteractiveDocumentElement element)
        => element.KernelName is not ("markdown" or "md") && !string.IsNullOrWhiteSpace(element.Contents);

    private static KernelInfoCollection KernelInfos()
    {
        var infos = new KernelInfoCollection
        {
            new Microsoft.DotNet.Interactive.Documents.KernelInfo("csharp", "C#", ["c#", "C#", "cs"]),
            new Microsoft.DotNet.Interactive.Documents.KernelInfo("markdown", "Markdown", ["md"]),
        };
        infos.DefaultKernelName = "csharp";
        return infos;
    }

    private static CompositeKernel CreateKernel(out CSharpKernel csharp)
    {
        csharp = new CSharpKernel()
            .UseNugetDirective((kernel, packages) =>
            {
                // Packages a notebook brings beyond the toolkit's own are restored and referenced as in an editor.
                kernel.AddAssemblyReferences(packages.SelectMany(p => p.AssemblyPaths));
                return Task.CompletedTask;
            }, forceRestore: false)
            .UseKernelHelpers()
            .UseValueSharing();
        var composite = new CompositeKernel { csharp };
        composite.DefaultKernelName = csharp.Name;
        return composite;
    }

    /// <summary>Runs one cell; returns null on success or the error text.</summary>
    private static async Task<string?> RunCellAsync(CompositeKernel kernel, CSharpKernel csharp, InteractiveDocumentElement element, TimeSpan? timeout)
    {
        string code;
        try
        {
            (code, var references) = NotebookReferences.Bind(element.Contents);
            if (references.Count > 0) csharp.AddAssemblyReferences(references);
        }
        catch (InvalidOperationException e)
        {
            element.Outputs.Add(new ErrorElement("Error", e.Message, []));
            return e.Message;
        }

        var submission = kernel.SendAsync(new SubmitCode(code, csharp.Name));
        if (timeout is { } limit && await Task.WhenAny(submission, Task.Delay(limit)) != submission)
        {
            string message = $"did not finish within {limit.TotalSeconds:0} s";
            element.Outputs.Add(new ErrorElement("Timeout", message, []));
            return message;
        }
        return CollectOutputs((await submission).Events, element);
    }

    private static string? CollectOutputs(IEnumerable<KernelEvent> events, InteractiveDocumentElement element)
    {
        // Output index of each displayed value, by id. In this .NET Interactive version a value's updates carry
        // another id than the event that first showed it, so an unknown update id is bound to the latest
        // display that has no updates yet (display, then update, is how progress lines work).
        var displayed = new Dictionary<string, int>();
        var awaitingUpdates = new Stack<int>();
        string? error = null;
        foreach (var e in events)
        {
            switch (e)
            {
                case StandardOutputValueProduced stdout:
                    element.Outputs.Add(new TextElement(Text(stdout), "stdout"));
                    break;
                case StandardErrorValueProduced stderr:
                    element.Outputs.Add(new TextElement(Text(stderr), "stderr"));
                    break;
                case DisplayedValueUpdated update when update.ValueId is not null:
                    if (!displayed.TryGetValue(update.ValueId, out int at) && awaitingUpdates.TryPop(out at))
                        displayed[update.ValueId] = at;
                    if (displayed.ContainsKey(update.ValueId))
                        element.Outputs[at] = new DisplayElement(Data(update));
                    break;
                case ReturnValueProduced value:
                    var returned = new ReturnValueElement();
                    foreach (var (mime, data) in Data(value)) returned.Data[mime] = data;
                    element.Outputs.Add(returned);
                    break;
                case DisplayEvent display when display is not DisplayedValueUpdated:
                    if (display.ValueId is not null) displayed[display.ValueId] = element.Outputs.Count;
                    if (display is DisplayedValueProduced) awaitingUpdates.Push(element.Outputs.Count);
                    element.Outputs.Add(new DisplayElement(Data(display)));
                    break;
                case CommandFailed failed:
                    error ??= failed.Exception is { } ex ? $"{ex.GetType().Name}: {ex.Message}" : failed.Message;
                    element.Outputs.Add(new ErrorElement("Error", error, failed.Exception?.StackTrace?.Split('\n') ?? []));
                    break;
            }
        }
        return error;
    }

    private static string Text(DisplayEvent e) => string.Concat(e.FormattedValues.Select(v => v.Value));

    private static IDictionary<string, object> Data(DisplayEvent e)
        => e.FormattedValues.Where(v => !v.SuppressDisplay).ToDictionary(v => v.MimeType, v => (object)v.Value);
}
