using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Experiments.Runner;

/// <summary>
/// The committed results of a full reproduction: <c>notebooks/results/summary.json</c> and <c>summary.md</c>, and the
/// README's results table, which is <see cref="ResultSummary.ReadmeTable"/> of that summary between two markers, so
/// that no number in it is typed by hand (a test checks that they agree).
/// </summary>
public static class ResultsPublishing
{
    /// <summary>The markers around the README's generated results table.</summary>
    public const string Begin = "<!-- results table: generated from notebooks/results/summary.json by `mlh reproduce --mode full --publish` -->",
        End = "<!-- end of results table -->";

    /// <summary><c>notebooks/results</c> under <paramref name="root"/>.</summary>
    public static string Directory(string root) => RepositoryLayout.PublishedResultsDirectory(root);

    /// <summary><paramref name="readme"/> with the text between the markers replaced by <paramref name="summary"/>'s table.</summary>
    public static string WithTable(string readme, ResultSummary summary, string path = "README.md")
    {
        var (start, end) = TableSpan(readme, path);
        return readme[..start] + "\n" + summary.ReadmeTable() + readme[end..];
    }

    /// <summary>The README table as it stands between the markers (the tests compare it with the committed summary).</summary>
    internal static string TableIn(string readme, string path = "README.md")
    {
        var (start, end) = TableSpan(readme, path);
        return readme[(start + 1)..end];
    }

    /// <summary>Where the text between the markers starts (just after the begin marker) and ends (at the end marker).</summary>
    private static (int Start, int End) TableSpan(string readme, string path)
    {
        int begin = readme.IndexOf(Begin, StringComparison.Ordinal), end = readme.IndexOf(End, StringComparison.Ordinal);
        if (begin < 0 || end < begin) throw UserInputException.InFile(path, "the results-table markers are missing or out of order");
        return (begin + Begin.Length, end);
    }

    /// <summary>Writes the summary into <c>notebooks/results</c> and the README's table from it.</summary>
    /// <returns>The summary file and the README written.</returns>
    public static (string Summary, string Readme) Publish(ResultSummary summary, string root)
    {
        summary.WriteTo(Directory(root));
        string readme = Path.Combine(root, "README.md");
        AtomicFile.WriteAllText(readme, WithTable(File.ReadAllText(readme), summary, readme));
        return (Path.Combine(Directory(root), ResultSummary.JsonFile), readme);
    }
}
