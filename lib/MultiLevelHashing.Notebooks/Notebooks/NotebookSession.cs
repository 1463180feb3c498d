using MultiLevelHashing.Experiments.Runner;
using MultiLevelHashing.Torch;
using System.Net;
using System.Text;
using Microsoft.Data.Analysis;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;
using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Plots;
using MultiLevelHashing.Runtime;
using Plotly.NET;

namespace MultiLevelHashing.Notebooks;

/// <summary>
/// What the shared setup cell of every notebook starts: the run mode, the repository's folders, where figures
/// go, chart and table display, and progress that updates in place.
/// </summary>
public sealed class NotebookSession
{
    /// <summary>Set by the notebook runner: the folder that receives this notebook's figures.</summary>
    public const string OutputVariable = "MLH_NOTEBOOK_OUTPUT";

    private static int _formattersRegistered;

    private NotebookSession(RunMode mode, string root, string output)
    {
        Mode = mode;
        RepositoryRoot = root;
        OutputDirectory = output;
    }

    /// <summary><see cref="RunMode.Smoke"/> or <see cref="RunMode.Full"/>, from <c>MLH_MODE</c>.</summary>
    public RunMode Mode { get; }

    /// <summary>True in smoke mode.</summary>
    public bool IsSmoke => Mode == RunMode.Smoke;

    /// <summary>The folder that holds Research.sln.</summary>
    public string RepositoryRoot { get; }

    /// <summary>Where this notebook's figures (HTML + CSV) are written.</summary>
    public string OutputDirectory { get; }

    /// <summary>Starts a session: reads the mode, finds the repository, registers chart and table formatters, applies allocator tuning.</summary>
    public static NotebookSession Start()
    {
        var mode = RunModes.FromEnvironment();
        string root = RepositoryLayout.FindRoot();
        string output = Environment.GetEnvironmentVariable(OutputVariable) is { Length: > 0 } fromRunner
            ? fromRunner
            : Path.Combine(RepositoryLayout.ArtifactsDirectory(root), "interactive", mode.Name());
        return Start(mode, output, root);
    }

    /// <summary>Starts a session in <paramref name="mode"/> that writes its figures to <paramref name="output"/>, whatever the environment says.</summary>
    internal static NotebookSession Start(RunMode mode, string output, string? root = null)
    {
        // Not redundant with the library's module initializer: a notebook cell may call TorchSharp directly before it
        // touches any type of the library, and LibTorch should allocate under the raised thresholds from its first tensor.
        NativeRuntime.ConfigureAllocator();
        // Before any TorchSharp call of the notebook: in a kernel nothing else tells the loader where this build's LibTorch is.
        LibTorchLoader.EnsureLoaded();
        RegisterFormatters();
        Directory.CreateDirectory(output);
        // Every chart of the notebook draws with this copy of plotly.js: offline, whatever the front end loads.
        if (KernelInvocationContext.Current is { } context)
            context.Publish(new DisplayedValueProduced(FigureFiles.PlotlyVersion, context.Command,
                [new FormattedValue(HtmlFormatter.MimeType, FigureFiles.NotebookPlotlyScript()), new FormattedValue(PlainTextFormatter.MimeType, FigureFiles.PlotlyVersion)]));
        return new NotebookSession(mode, root ?? RepositoryLayout.FindRoot(), output);
    }

    /// <summary>The mini-landmarks preset of this session's mode: <see cref="MiniLandmarksConfig.Smoke"/> or <see cref="MiniLandmarksConfig.Full"/>.</summary>
    public MiniLandmarksConfig BenchmarkConfig => MiniLandmarksConfig.ForMode(Mode);

    /// <summary>
    /// The mini-landmarks benchmark of this session's mode (<see cref="BenchmarkConfig"/>), generated under
    /// <c>data/generated/mini-landmarks/</c> first when missing or stale, with its progress shown in place.
    /// The same seed gives the same bytes, so every notebook of a mode sees the same benchmark.
    /// </summary>
    public LandmarkDataset OpenBenchmark() => LandmarkDataset.EnsureMiniLandmarks(BenchmarkConfig, Progress("mini-landmarks"));

    /// <summary>Saves the chart as offline HTML (and the plotted numbers as CSV) and returns it for display.</summary>
    public GenericChart SaveFigure(GenericChart chart, string name, DataFrame? data = null)
    {
        FigureFiles.Save(chart, OutputDirectory, name, data);
        return chart;
    }

    /// <summary>The path of <paramref name="fileName"/> in <see cref="OutputDirectory"/>, where a notebook writes its pictures and tables.</summary>
    public string OutputFile(string fileName) => Path.Combine(OutputDirectory, fileName);

    /// <summary>The folder <paramref name="name"/> in <see cref="OutputDirectory"/>, created if missing, for a notebook's many pictures of one kind.</summary>
    public string OutputFolder(string name) => Directory.CreateDirectory(Path.Combine(OutputDirectory, name)).FullName;

    /// <summary>Saves a table as <c>name.csv</c> in <see cref="OutputDirectory"/> (invariant culture, RFC 4180) and returns it for display.</summary>
    public DataFrame SaveTable(DataFrame table, string name)
    {
        AtomicFile.WriteAllText(OutputFile(name + ".csv"), FigureFiles.ToCsv(table));
        return table;
    }

    /// <summary>
    /// Records the notebook's headline number (e.g. "global 64-bit mAP 41.2%"); <c>mlh reproduce</c> lists
    /// headlines in its summary. Returns the text for display.
    /// </summary>
    public string Headline(string text)
    {
        File.AppendAllText(Path.Combine(OutputDirectory, HeadlineFile), text.ReplaceLineEndings(" ") + "\n");
        return text;
    }

    /// <summary>File in <see cref="OutputDirectory"/> that collects <see cref="Headline"/> lines.</summary>
    public const string HeadlineFile = "headline.txt";

    /// <summary>
    /// Records the notebook's table cells (<see cref="ResultSummary"/>) in <see cref="OutputDirectory"/>;
    /// <c>mlh reproduce</c> merges every notebook's into <c>artifacts/summary.json</c> and <c>summary.md</c>.
    /// Returns the summary's Markdown for display.
    /// </summary>
    public string Summary(ResultSummary summary)
    {
        AtomicFile.WriteAllText(Path.Combine(OutputDirectory, ResultSummary.JsonFile), summary.ToJson());
        return summary.ToMarkdown();
    }

    /// <summary>A progress sink that shows one line, updated in place, in the notebook's output.</summary>
    public IProgress<ProgressReport> Progress(string title) => new DisplayProgress(title);

    private static void RegisterFormatters()
    {
        if (Interlocked.Exchange(ref _formattersRegistered, 1) == 1) return;
        Formatter.Register<GenericChart>((chart, writer) => writer.Write(FigureFiles.ToNotebookHtml(chart)), HtmlFormatter.MimeType);
        Formatter.Register<DataFrame>((frame, writer) => writer.Write(ToHtmlTable(frame, maxRows: 50)), HtmlFormatter.MimeType);
        Formatter.Register<Picture>((picture, writer) => writer.Write(picture.ToHtml()), HtmlFormatter.MimeType);
        Formatter.Register<DataFrame>((frame, writer) => writer.Write(frame.ToString()), PlainTextFormatter.MimeType);
    }

    /// <summary>An HTML table of the first <paramref name="maxRows"/> rows.</summary>
    public static string ToHtmlTable(DataFrame frame, int maxRows)
    {
        var sb = new StringBuilder("<table><thead><tr>");
        foreach (var column in frame.Columns) sb.Append("<th>").Append(WebUtility.HtmlEncode(column.Name)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        long rows = Math.Min(frame.Rows.Count, maxRows);
        for (long r = 0; r < rows; r++)
        {
            sb.Append("<tr>");
            foreach (var column in frame.Columns)
                sb.Append("<td>").Append(WebUtility.HtmlEncode(FormatCell(column[r]))).Append("</td>");
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        if (frame.Rows.Count > rows) sb.Append($"<p>{frame.Rows.Count - rows} more rows</p>");
        return sb.ToString();
    }

    private static string FormatCell(object? value) => value switch
    {
        null => "",
        double d => d.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
        float f => f.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>
    /// Updates one displayed line in place; outside a kernel (plain console) it writes lines instead. The display and its
    /// updates carry one id of ours: the kernel's own display handle gives its updates another id than the display (in
    /// Microsoft.dotnet-interactive 1.0.712001), so Jupyter would drop every update and keep the first line. The cell's
    /// context is captured here because reports may come from other threads.
    /// </summary>
    private sealed class DisplayProgress(string title) : IProgress<ProgressReport>
    {
        private readonly KernelInvocationContext? _context = KernelInvocationContext.Current;
        private readonly string _displayId = Guid.NewGuid().ToString("N");
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private readonly Lock _gate = new();
        private bool _shown;
        private long _lastShownMs = -1000;

        public void Report(ProgressReport value)
        {
            bool finished = value.Total > 0 && value.Done >= value.Total;
            lock (_gate)
            {
                long now = _clock.ElapsedMilliseconds;
                if (!finished && now - _lastShownMs < 250) return;
                _lastShownMs = now;
                string text = Describe(value, _clock.Elapsed);
                if (_context is null)
                {
                    System.Console.WriteLine(text);
                    return;
                }
                FormattedValue[] formatted = [new FormattedValue(PlainTextFormatter.MimeType, text)];
                _context.Publish(_shown
                    ? new DisplayedValueUpdated(text, _displayId, _context.Command, formatted)
                    : new DisplayedValueProduced(text, _context.Command, formatted, _displayId));
                _shown = true;
            }
        }

        private string Describe(ProgressReport r, TimeSpan elapsed)
        {
            double rate = elapsed.TotalSeconds > 0 ? r.Done / elapsed.TotalSeconds : 0;
            string eta = r.Total > 0 && rate > 0 ? TimeSpan.FromSeconds((r.Total - r.Done) / rate).ToString(@"m\:ss") : "?";
            string total = r.Total > 0 ? $"/{r.Total} ({r.Fraction:P0})" : "";
            string detail = r.Detail is null ? "" : $" {r.Detail}";
            return $"{title}: {r.Task} {r.Done}{total} {rate:0.#} {r.Unit}/s ETA {eta}{detail}";
        }
    }
}
