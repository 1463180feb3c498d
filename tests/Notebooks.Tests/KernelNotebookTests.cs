using System.Text.RegularExpressions;
using MultiLevelHashing.Notebooks;
using MultiLevelHashing.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace Notebooks.Tests;

/// <summary>
/// Restores the pinned .NET Interactive kernel once and writes its kernel spec into a private Jupyter data folder,
/// as a user's <c>dotnet tool restore</c> and <c>dotnet interactive jupyter install</c> do.
/// </summary>
public sealed class JupyterKernelFixture : IAsyncLifetime
{
    public JupyterKernel? Kernel { get; private set; }

    /// <summary>Why the kernel suite cannot run on this machine, or null.</summary>
    public string? Missing { get; private set; }

    public string Work { get; } = Path.Combine(RepositoryLayout.ArtifactsDirectory(NotebookTests.Root), "test-kernel");

    public async Task InitializeAsync()
    {
        Missing = JupyterKernel.MissingPrerequisite()
            ?? (HeadlessChromium.Find() is null ? "no Chromium on PATH; on Debian: apt-get install --no-install-recommends chromium" : null);
        if (Missing is not null) return;
        if (Directory.Exists(Work)) Directory.Delete(Work, recursive: true);
        Kernel = await JupyterKernel.InstallAsync(NotebookTests.Root, Path.Combine(Work, "jupyter"));
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// Every notebook as a user runs it: Jupyter's nbconvert with the pinned .NET Interactive kernel, in its own process,
/// loading the library from the build output; then nbconvert's HTML of the executed notebook, opened in headless
/// Chromium. Every notebook runs twice: with the machine's libraries, and with Debian's LibTorch 1.13 answering to
/// LibTorch's names first (what Debian's <c>libtorch-dev</c> does, made stronger: <c>LD_LIBRARY_PATH</c> outranks every
/// other search path); the browser check, which that does not change, runs on the first.
/// Where Jupyter, Chromium or Debian's LibTorch is missing the cases are skipped with the reason, except under CI,
/// which installs them (<c>.ci/run</c>) and so fails instead.
/// </summary>
public class KernelNotebookTests(JupyterKernelFixture fixture, ITestOutputHelper output) : IClassFixture<JupyterKernelFixture>
{
    /// <summary>Names of the two library environments the notebooks run in.</summary>
    public const string SystemLibraries = "system-libraries", DebianLibTorchFirst = "debian-libtorch-first";

    private static bool UnderCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static TheoryData<string, string> NotebooksAndEnvironments()
    {
        var data = new TheoryData<string, string>();
        foreach (string environment in new[] { SystemLibraries, DebianLibTorchFirst })
            foreach (string notebook in NotebookTests.NotebookNames())
                data.Add(notebook, environment);
        return data;
    }

    private void SkipOrFailWhen(string? reason)
    {
        if (reason is null) return;
        Assert.False(UnderCi, $"CI must install what the kernel suite needs: {reason}");
        Skip.If(true, reason);
    }

    [SkippableTheory]
    [MemberData(nameof(NotebooksAndEnvironments))]
    public async Task NotebookRunsInTheJupyterKernelAndEveryChartDrawsInChromium(string notebook, string environment)
    {
        SkipOrFailWhen(fixture.Missing);
        var variables = new Dictionary<string, string?>();
        if (environment == DebianLibTorchFirst)
        {
            string? decoys = DebianLibTorchFolder(Path.Combine(fixture.Work, "debian-libtorch"));
            SkipOrFailWhen(decoys is null ? "Debian's LibTorch (package libtorch1.13) is not installed" : null);
            variables["LD_LIBRARY_PATH"] = decoys;
        }
        string name = Path.GetFileNameWithoutExtension(notebook);
        string work = Path.Combine(fixture.Work, environment);
        string executed = Path.Combine(work, notebook);
        string figures = Path.Combine(work, name);
        if (Directory.Exists(figures)) Directory.Delete(figures, recursive: true);

        var run = await fixture.Kernel!.ExecuteAsync(Path.Combine(RepositoryLayout.NotebooksDirectory(NotebookTests.Root), notebook),
            executed, RunMode.Smoke, figures, variables);
        output.WriteLine($"{notebook} in the kernel ({environment}): {run.Elapsed.TotalSeconds:0} s");

        var outputs = ExecutedNotebook.Read(executed);
        Assert.True(outputs.Errors.Count == 0, $"{notebook}: error outputs:\n{string.Join("\n", outputs.Errors)}");
        Assert.True(outputs.StandardErrors.Count == 0, $"{notebook}: standard error:\n{string.Join("\n", outputs.StandardErrors)}");
        // Every figure the notebook saves is also shown, under its name (notebook 10 is a table: it saves none).
        var saved = Directory.EnumerateFiles(figures, "*.html").Select(Path.GetFileNameWithoutExtension).Order().ToList();
        var missing = saved.Except(outputs.Charts).ToList();
        Assert.True(missing.Count == 0, $"{notebook}: saved but never displayed: {string.Join(", ", missing)}");

        // Only native loading differs between the two environments; the page is checked once.
        if (environment == DebianLibTorchFirst) return;

        // The page a user gets from nbconvert, in a real browser with no network: every chart must have drawn.
        string html = await JupyterKernel.ToHtmlAsync(executed, Path.Combine(work, name + ".html"));
        string dom = await HeadlessChromium.DumpDomAsync(html);
        var drawn = ChartsDrawn(dom);
        output.WriteLine($"{notebook}: {outputs.Charts.Count} charts displayed, {drawn.Count(d => d.Drawn)} drawn: {string.Join(", ", outputs.Charts)}");
        Assert.Equal(outputs.Charts.Count, drawn.Count);
        Assert.True(drawn.All(d => d.Drawn), $"{notebook}: charts that did not draw: {string.Join(", ", drawn.Where(d => !d.Drawn).Select(d => d.Name))}");

        string png = Path.Combine(work, name + ".png");
        await HeadlessChromium.ScreenshotAsync(html, png, 1200, 2400);
        double inked = InkedFraction(png);
        output.WriteLine($"{notebook}: screenshot {png}, {inked:P1} of pixels not white");
        Assert.True(inked > 0.02, $"{png}: the page looks blank ({inked:P2} of pixels not white)");
    }

    [SkippableFact]
    public async Task KernelAndInProcessRunnerGiveTheSameHeadline()
    {
        SkipOrFailWhen(fixture.Missing);
        const string notebook = "01-dataset-and-protocol.ipynb";
        string path = Path.Combine(RepositoryLayout.NotebooksDirectory(NotebookTests.Root), notebook);
        string work = Path.Combine(fixture.Work, "same-headline");
        string kernelFigures = Path.Combine(work, "kernel"), inProcessFigures = Path.Combine(work, "in-process");
        foreach (string folder in new[] { kernelFigures, inProcessFigures })
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);

        await fixture.Kernel!.ExecuteAsync(path, Path.Combine(work, "kernel.ipynb"), RunMode.Smoke, kernelFigures);
        var inProcess = await NotebookRunner.RunAsync(path, new NotebookRunOptions
        {
            Mode = RunMode.Smoke, ExecutedNotebookPath = Path.Combine(work, "in-process.ipynb"), FigureDirectory = inProcessFigures,
        });
        Assert.True(inProcess.Succeeded, inProcess.Failure?.ToString());

        string kernelHeadline = File.ReadAllText(Path.Combine(kernelFigures, NotebookSession.HeadlineFile));
        string inProcessHeadline = File.ReadAllText(Path.Combine(inProcessFigures, NotebookSession.HeadlineFile));
        output.WriteLine(kernelHeadline);
        Assert.Matches(@"\d", kernelHeadline);
        Assert.Equal(inProcessHeadline, kernelHeadline);
    }

    /// <summary>
    /// A folder where LibTorch's names (libtorch_cpu.so, libtorch.so, libc10.so) lead to Debian's LibTorch 1.13, as
    /// Debian's libtorch-dev makes them do system-wide; null where Debian's LibTorch is not installed.
    /// </summary>
    internal static string? DebianLibTorchFolder(string folder)
    {
        const string system = "/usr/lib/x86_64-linux-gnu";
        if (!Directory.Exists(system)) return null;
        Directory.CreateDirectory(folder);
        foreach (string library in new[] { "libtorch_cpu", "libtorch", "libc10" })
        {
            string? real = Directory.EnumerateFiles(system, library + ".so.1.*").Order().LastOrDefault();
            if (real is null) return null;
            string link = Path.Combine(folder, library + ".so");
            if (File.Exists(link) || Directory.Exists(link)) File.Delete(link);
            File.CreateSymbolicLink(link, real);
        }
        return folder;
    }

    /// <summary>Each chart element of the rendered page, by name, and whether plotly drew into it.</summary>
    internal static IReadOnlyList<(string Name, bool Drawn)> ChartsDrawn(string dom)
    {
        var starts = Regex.Matches(dom, @"<div id=""mlh-chart-[0-9a-f]+""[^>]*data-mlh-chart=""(?<name>[^""]*)""");
        var charts = new List<(string, bool)>();
        for (int i = 0; i < starts.Count; i++)
        {
            int end = i + 1 < starts.Count ? starts[i + 1].Index : dom.Length;
            string element = dom[starts[i].Index..end];
            charts.Add((starts[i].Groups["name"].Value, element.Contains("class=\"main-svg\"", StringComparison.Ordinal)));
        }
        return charts;
    }

    private static double InkedFraction(string png)
    {
        using var image = Image.Load<Rgb24>(png);
        long inked = 0;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
                foreach (var p in rows.GetRowSpan(y))
                    if (p.R < 235 || p.G < 235 || p.B < 235) inked++;
        });
        return (double)inked / (image.Width * image.Height);
    }
}
