using System.Text.RegularExpressions;
using MultiLevelHashing.Tests.Data;

namespace MultiLevelHashing.Tests.Architecture;

/// <summary>
/// Code, build files and notebooks cite the repository's own method document by section
/// ("lib/MultiLevelHashing/README.md section 2.3"); every cited section must exist there, and nothing may cite a
/// document that is not in the repository.
/// </summary>
public class MethodDocumentTests
{
    private const string Document = "lib/MultiLevelHashing/README.md";

    // Spelled in two parts so that this file does not match itself.
    private const string OutsideDocument = "DESIGN" + ".md";

    private static IEnumerable<string> SourceFiles()
    {
        string root = TestPaths.RepositoryRoot;
        var folders = new[] { "lib", "tests", "notebooks", "build" };
        var extensions = new HashSet<string>(StringComparer.Ordinal) { ".cs", ".ipynb", ".csproj", ".props", ".targets", ".md" };
        return folders.SelectMany(f => Directory.EnumerateFiles(Path.Combine(root, f), "*", SearchOption.AllDirectories))
            .Where(p => extensions.Contains(Path.GetExtension(p)))
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") &&
                        !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Concat(Directory.EnumerateFiles(root, "*.md"))
            .Concat(Directory.EnumerateFiles(root, "Directory.*"));
    }

    private static HashSet<string> Sections()
    {
        var headings = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, Document))
            .Select(l => Regex.Match(l, @"^#{2,4}\s+(?<n>\d+(\.\d+)*)\s"))
            .Where(m => m.Success)
            .Select(m => m.Groups["n"].Value);
        return headings.ToHashSet(StringComparer.Ordinal);
    }

    [Fact]
    public void TheDocumentHasTheNumberedSectionsOfTheArchitectureAndTheMethod()
    {
        var sections = Sections();
        foreach (var n in new[] { "1", "1.1", "2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "3", "3.1", "3.2", "4" })
            Assert.Contains(n, sections);
    }

    [Fact]
    public void EveryCitedSectionExists()
    {
        var sections = Sections();
        var cite = new Regex(@"MultiLevelHashing/README\.md`?,? sections? (?<a>\d+(\.\d+)*)(-(?<b>\d+(\.\d+)*))?");
        var reverse = new Regex(@"[Ss]ection (?<a>\d+(\.\d+)*) of `?lib/MultiLevelHashing/README\.md");
        int citations = 0;
        foreach (string file in SourceFiles())
        {
            string text = File.ReadAllText(file);
            foreach (Match m in cite.Matches(text).Concat(reverse.Matches(text)))
            {
                citations++;
                foreach (var group in new[] { "a", "b" })
                    if (m.Groups[group].Success)
                        Assert.True(sections.Contains(m.Groups[group].Value),
                            $"{Path.GetRelativePath(TestPaths.RepositoryRoot, file)} cites section {m.Groups[group].Value} of {Document}, which has no such section");
            }
        }
        Assert.True(citations >= 20, $"only {citations} citations found: the pattern no longer matches how the code cites the document");
    }

    [Fact]
    public void NothingCitesADocumentOutsideTheRepository()
    {
        foreach (string file in SourceFiles())
            Assert.False(File.ReadAllText(file).Contains(OutsideDocument, StringComparison.Ordinal),
                $"{Path.GetRelativePath(TestPaths.RepositoryRoot, file)} cites {OutsideDocument}, which is not in the repository");
    }
}
