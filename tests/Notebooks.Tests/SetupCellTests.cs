using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MultiLevelHashing.Notebooks;
using MultiLevelHashing.Runtime;

namespace Notebooks.Tests;

/// <summary>Every notebook opens with the same setup cell, and its package versions are the pinned ones.</summary>
public class SetupCellTests
{
    private static string Root => RepositoryLayout.FindRoot();

    [Theory]
    [MemberData(nameof(NotebookTests.Notebooks), MemberType = typeof(NotebookTests))]
    public void NotebookStartsWithTitleThenTheSharedSetupCell(string notebook)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryLayout.NotebooksDirectory(Root), notebook)));
        var cells = json.RootElement.GetProperty("cells").EnumerateArray().ToList();
        Assert.True(cells.Count >= 3, "a notebook has a title, the setup cell and at least one more cell");
        Assert.Equal("markdown", cells[0].GetProperty("cell_type").GetString());
        Assert.StartsWith("# ", Source(cells[0]).TrimStart());
        Assert.Equal("code", cells[1].GetProperty("cell_type").GetString());
        Assert.Equal(Normalize(NotebookSetupCell.Code), Normalize(Source(cells[1])));
        Assert.Matches(@"^\d\d-[a-z0-9]+(-[a-z0-9]+)*\.ipynb$", notebook);
    }

    [Fact]
    public void SetupCellVersionsMatchDirectoryPackagesProps()
    {
        var pinned = XDocument.Load(Path.Combine(Root, "Directory.Packages.props"))
            .Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!);
        var references = Regex.Matches(NotebookSetupCell.Code, """#r "nuget: ([^,]+), ([^"]+)" """.Trim());
        Assert.NotEmpty(references);
        foreach (Match m in references)
        {
            Assert.True(pinned.TryGetValue(m.Groups[1].Value, out var version), $"{m.Groups[1].Value} is not in Directory.Packages.props");
            Assert.Equal(version, m.Groups[2].Value);
        }
        // The library embeds the same versions; the runner checks notebooks against them.
        foreach (var (id, version) in pinned)
            Assert.Equal(version, NotebookReferences.PinnedPackageVersions[id]);
    }

    [Theory]
    [MemberData(nameof(NotebookTests.Notebooks), MemberType = typeof(NotebookTests))]
    public void NotebookReferencesOnlyPackagesAndTheLibraryBuildOutput(string notebook)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryLayout.NotebooksDirectory(Root), notebook)));
        var references = json.RootElement.GetProperty("cells").EnumerateArray()
            .Where(c => c.GetProperty("cell_type").GetString() == "code")
            .SelectMany(c => Source(c).Split('\n'))
            .Select(line => Regex.Match(line, """^\s*#r\s+"(?<target>[^"]+)"\s*$"""))
            .Where(m => m.Success)
            .Select(m => m.Groups["target"].Value)
            .ToList();
        Assert.NotEmpty(references);
        foreach (string target in references)
        {
            if (target.StartsWith("nuget:", StringComparison.Ordinal)) continue;
            // A path: only the library's assemblies, from the build output of mlh (never a test project's output).
            Assert.DoesNotContain("tests/", target.Replace('\\', '/'));
            Assert.Matches("""^\.\./lib/MultiLevelHashing\.Cli/bin/Release/net10\.0/MultiLevelHashing(\.[A-Za-z]+)?\.dll$""", target);
        }
    }

    private static string Source(JsonElement cell)
    {
        var source = cell.GetProperty("source");
        return source.ValueKind == JsonValueKind.Array ? string.Concat(source.EnumerateArray().Select(s => s.GetString())) : source.GetString() ?? "";
    }

    private static string Normalize(string code) => code.Replace("\r\n", "\n").Trim();
}
