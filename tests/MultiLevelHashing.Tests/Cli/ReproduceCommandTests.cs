using System.CommandLine;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Tests.Cli;

[Collection(ConsoleCommandCollection.Name)]
public class ReproduceCommandTests
{
    private static readonly string Fixture = Path.Combine(RepositoryLayout.FindRoot(), "tests", "Notebooks.Tests", "Fixtures", "failing-cell.ipynb");

    private static string NotebookFolder()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlh-reproduce-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string failing = File.ReadAllText(Fixture);
        File.WriteAllText(Path.Combine(dir, "02-fails.ipynb"), failing);
        // The same notebook without the throwing cell runs through.
        File.WriteAllText(Path.Combine(dir, "01-passes.ipynb"),
            failing.Replace("throw new InvalidOperationException(\\\"fixture failure on purpose\\\");", "Console.WriteLine(1);")
                   .Replace("System.IO.File.WriteAllText(\\\"must-not-exist.txt\\\", \\\"cells after a failure must not run\\\");", "Console.WriteLine(2);"));
        return dir;
    }

    private static Task<int> Invoke(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(ReproduceCommand.Create());
        return root.Parse(args).InvokeAsync();
    }

    [Fact]
    public async Task ExitsNonZeroWhenANotebookFailsAndWritesExecutedCopies()
    {
        string dir = NotebookFolder();
        string output = Path.Combine(dir, "out");
        Assert.Equal(1, await Invoke("reproduce", "--notebooks", dir, "--output", output));
        Assert.True(File.Exists(Path.Combine(output, "01-passes.ipynb")));
        Assert.True(File.Exists(Path.Combine(output, "02-fails.ipynb")));
    }

    [Fact]
    public async Task OnlyRunsTheChosenNotebooks()
    {
        string dir = NotebookFolder();
        string output = Path.Combine(dir, "out");
        Assert.Equal(0, await Invoke("reproduce", "--notebooks", dir, "--output", output, "--only", "1"));
        Assert.False(File.Exists(Path.Combine(output, "02-fails.ipynb")));
    }

    [Fact]
    public void SelectNotebooksRejectsAnUnknownNumber()
    {
        var e = Assert.Throws<UserInputException>(() => ReproduceCommand.SelectNotebooks(NotebookFolder(), ["07"]));
        Assert.Contains("07", e.Message);
    }
}
