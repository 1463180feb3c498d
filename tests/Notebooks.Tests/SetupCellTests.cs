using System.Diagnostics;
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
    public void SetupCellReferencesTheBuildOutputAndNamesNoVersion()
    {
        var references = Regex.Matches(NotebookSetupCell.Code, """^#r "(?<target>[^"]+)"$""", RegexOptions.Multiline)
            .Select(m => m.Groups["target"].Value).ToList();
        Assert.Equal(NotebookSetupCell.Assemblies.Select(a => NotebookSetupCell.BuildOutput + a + ".dll"), references);
        Assert.DoesNotContain("nuget:", NotebookSetupCell.Code);
        // The kernel resolves the paths from notebooks/: every file is there after `dotnet build Research.sln -c Release`.
        string notebooks = RepositoryLayout.NotebooksDirectory(Root);
        foreach (string target in references)
            Assert.True(File.Exists(Path.GetFullPath(Path.Combine(notebooks, target))), $"{target}: not in the build output of mlh");
    }

    [Fact]
    public void TheAssembliesTheSetupCellLoadsAreThePinnedPackageVersions()
    {
        var pinned = XDocument.Load(Path.Combine(Root, "Directory.Packages.props"))
            .Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!);
        // The package each referenced assembly (and the native code beside it) comes from.
        var packages = new Dictionary<string, string>
        {
            ["TorchSharp"] = "TorchSharp", ["SixLabors.ImageSharp"] = "SixLabors.ImageSharp",
            ["Microsoft.Data.Analysis"] = "Microsoft.Data.Analysis", ["Plotly.NET"] = "Plotly.NET",
            ["Plotly.NET.CSharp"] = "Plotly.NET.CSharp", ["SkiaSharp"] = "SkiaSharp",
        };
        string output = Path.GetFullPath(Path.Combine(RepositoryLayout.NotebooksDirectory(Root), NotebookSetupCell.BuildOutput));
        foreach (var (assembly, package) in packages)
        {
            var version = FileVersionInfo.GetVersionInfo(Path.Combine(output, assembly + ".dll")).ProductVersion ?? "";
            Assert.StartsWith(pinned[package], version);
        }
        // The library embeds the same versions; the runner checks notebooks' nuget lines against them.
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
            // Only assemblies of the build output of mlh (never a test project's output, never a package restore of the kernel).
            Assert.DoesNotContain("tests/", target.Replace('\\', '/'));
            Assert.StartsWith(NotebookSetupCell.BuildOutput, target);
            Assert.EndsWith(".dll", target);
        }
    }

    private static string Source(JsonElement cell)
    {
        var source = cell.GetProperty("source");
        return source.ValueKind == JsonValueKind.Array ? string.Concat(source.EnumerateArray().Select(s => s.GetString())) : source.GetString() ?? "";
    }

    private static string Normalize(string code) => code.Replace("\r\n", "\n").Trim();
}
