using MultiLevelHashing.Notebooks;
using MultiLevelHashing.Runtime;
using Xunit.Abstractions;

namespace Notebooks.Tests;

/// <summary>Runs every notebook in notebooks/ headless in smoke mode; one test case per notebook, found from the folder.</summary>
public class NotebookTests(ITestOutputHelper output)
{
    public static TheoryData<string> Notebooks() => new(NotebookNames());

    /// <summary>The file names of notebooks/*.ipynb, in order.</summary>
    public static IEnumerable<string> NotebookNames()
        => Directory.EnumerateFiles(RepositoryLayout.NotebooksDirectory(Root), "*.ipynb").Order().Select(p => Path.GetFileName(p)!);

    internal static string Root => RepositoryLayout.FindRoot();

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task NotebookRunsHeadlessInSmokeMode(string notebook)
    {
        string path = Path.Combine(RepositoryLayout.NotebooksDirectory(Root), notebook);
        string executed = Path.Combine(RepositoryLayout.ArtifactsDirectory(Root), "test-notebooks", notebook);
        var result = await NotebookRunner.RunAsync(path, new NotebookRunOptions { Mode = RunMode.Smoke, ExecutedNotebookPath = executed });
        foreach (var cell in result.Cells)
            output.WriteLine($"cell {cell.CellNumber}: {cell.Elapsed.TotalSeconds:0.0} s {(cell.Succeeded ? "ok" : "FAILED")}");
        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.True(File.Exists(executed));
    }

    [Fact]
    public async Task AFailingCellIsReportedWithNotebookCellAndErrorAndStopsTheRun()
    {
        string fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "failing-cell.ipynb");
        string work = Path.Combine(Path.GetTempPath(), "mlh-fixture-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        string copy = Path.Combine(work, "failing-cell.ipynb");
        File.Copy(fixture, copy);
        string executed = Path.Combine(work, "executed.ipynb");

        var result = await NotebookRunner.RunAsync(copy, new NotebookRunOptions { ExecutedNotebookPath = executed });

        Assert.False(result.Succeeded);
        Assert.Equal("failing-cell.ipynb", result.Failure!.Notebook);
        Assert.Equal(4, result.Failure.CellNumber);
        Assert.Contains("fixture failure on purpose", result.Failure.Error);
        Assert.Equal([2, 3, 4], result.Cells.Select(c => c.CellNumber));
        Assert.False(File.Exists(Path.Combine(work, "must-not-exist.txt")), "a cell after the failure ran");
        string written = File.ReadAllText(executed);
        Assert.Contains("answer = 42", written);
        Assert.Contains("fixture failure on purpose", written);
        Assert.Contains("progress 3 of 3", written); // the displayed value's last update is what the copy keeps
        Assert.DoesNotContain("progress 1 of 3", written);
    }

    [Fact]
    public async Task RunnerPassesTheModeToTheNotebook()
    {
        string work = Path.Combine(Path.GetTempPath(), "mlh-mode-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        string copy = Path.Combine(work, "mode.ipynb");
        File.WriteAllText(copy, File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "failing-cell.ipynb"))
            .Replace("throw new InvalidOperationException(\\\"fixture failure on purpose\\\");",
                     "System.IO.File.WriteAllText(\\\"mode.txt\\\", Environment.GetEnvironmentVariable(\\\"MLH_MODE\\\"));"));
        var result = await NotebookRunner.RunAsync(copy, new NotebookRunOptions { Mode = RunMode.Full });
        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal("full", File.ReadAllText(Path.Combine(work, "mode.txt")));
    }
}
