using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Experiments.Runner;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Tests.Data;

namespace MultiLevelHashing.Tests.Experiments;

public class ResultSummaryTests
{
    private static SummaryRow Row(string method, int bits, string protocol, double mean, string source = "09") =>
        new(method, PaperMethods.Dscnn, bits, bits, "toy", protocol, mean, 0.5, [0, 1], 40, 0.01, 0.02, "scan", "", source);

    private static ResultSummary Toy(string source = "09") => new(ResultSummary.CurrentVersion, "full",
        [Row(PaperMethods.Itq, 16, "classic", 30.3, source), Row(PaperMethods.Itq, 64, "classic", 45.5, source), Row(PaperMethods.Global, 64, "classic", 55.8, source)],
        [new AimCheck("an aim", "numbers", false)]);

    [Fact]
    public void CodeLengthTableHasOneColumnPerLengthAndBlankCellsWhereNothingWasMeasured()
    {
        string table = Toy().CodeLengthTable("classic");
        Assert.Contains("| method (classic mAP, %) | 16 bits | 64 bits |", table);
        Assert.Contains("| ITQ | 30.3 ± 0.5 | 45.5 ± 0.5 |", table);
        Assert.Contains("| DSCNN global code |  | 55.8 ± 0.5 |", table);
        Assert.Contains("**missed**: an aim: numbers", Toy().ToMarkdown());
    }

    [Fact]
    public void RowsOfASecondBenchmarkGetTheirOwnRegionTableAndLeaveTheMainTablesAlone()
    {
        var main = Toy();
        var second = new ResultSummary(ResultSummary.CurrentVersion, "full",
            [.. new[] { Row(PaperMethods.Gap, 16384, "classic", 54.6), Row(PaperMethods.Global, 64, "classic", 32.7), Row(PaperMethods.Itq, 64, "classic", 11.1),
                        Row(PaperMethods.RegionPca, 1617 * 8, "classic", 64.8) }.Select(r => r with { Dataset = "toy/large" })],
            [new AimCheck("a region aim, toy/large", "numbers", true)]);
        var merged = ResultSummary.Merge("full", [main, second]);
        Assert.Equal(["toy", "toy/large"], merged.Datasets);
        // The main tables read the first benchmark only: the second's ITQ and global rows must not leak into them.
        Assert.Equal(main.CodeLengthTable("classic"), merged.CodeLengthTable("classic"));
        Assert.Equal("", merged.RegionTable());
        string large = merged.RegionTable("toy/large");
        Assert.Contains("| GAP | 2048 |", large);
        Assert.Contains("| DSCNN global code, 64 bits | 8 |", large);
        Assert.Contains("| region codes alone, PCA-sign | 1617 |", large);
        Assert.DoesNotContain("ITQ", large);
        Assert.True(large.IndexOf("GAP", StringComparison.Ordinal) < large.IndexOf("region codes alone", StringComparison.Ordinal));
        string markdown = merged.ToMarkdown();
        Assert.Contains("## Region-level codes on toy/large", markdown);
        Assert.Contains("**met**: a region aim, toy/large: numbers", markdown);
        Assert.Contains("Region-level codes on toy/large, with its own GAP", merged.ReadmeTable());
        Assert.DoesNotContain("toy/large", main.ToMarkdown());
    }

    [Fact]
    public void CellsRoundTheStoredMeanOnce()
    {
        // 74.749 stored as 74.75 would show as 74.8; the summary keeps four decimals and shows 74.7, as the aims do.
        var summary = new ResultSummary(ResultSummary.CurrentVersion, "full", [Row(PaperMethods.Itq, 16, "classic", 74.7490)], []);
        Assert.Contains("| ITQ | 74.7 ± 0.5 |", summary.CodeLengthTable("classic"));
    }

    [Fact]
    public void ReadNamesTheFileWhenItIsNotASummaryOrOfAnotherVersion()
    {
        string dir = TestPaths.NewTempDirectory("summary");
        string bad = Path.Combine(dir, "bad.json");
        File.WriteAllText(bad, "{ not json");
        Assert.Contains("bad.json", Assert.Throws<UserInputException>(() => ResultSummary.Read(bad)).Message);
        string other = Path.Combine(dir, "other.json");
        File.WriteAllText(other, (Toy() with { FormatVersion = 99 }).ToJson());
        Assert.Contains("version 99", Assert.Throws<UserInputException>(() => ResultSummary.Read(other)).Message);
        Assert.Throws<UserInputException>(() => ResultSummary.Read(Path.Combine(dir, "missing.json")));
    }

    [Fact]
    public void ReproduceMergesTheNotebooksSummariesIntoTheTargetAndTheArtifactsFolder()
    {
        string target = TestPaths.NewTempDirectory("reproduce"), artifacts = TestPaths.NewTempDirectory("artifacts");
        Toy("07").WriteTo(Path.Combine(target, "07-x"));
        Toy("09").WriteTo(Path.Combine(target, "09-y"));
        Directory.CreateDirectory(Path.Combine(target, "08-none"));
        var merged = ReproduceCommand.WriteSummary(RunMode.Full, target, artifacts)!;
        Assert.Equal(6, merged.Rows.Count);
        Assert.Equal(["07", "07", "07", "09", "09", "09"], merged.Rows.Select(r => r.Source));
        foreach (string dir in new[] { target, artifacts })
        {
            Assert.Equal(6, ResultSummary.Read(Path.Combine(dir, ResultSummary.JsonFile)).Rows.Count);
            Assert.True(File.Exists(Path.Combine(dir, ResultSummary.MarkdownFile)));
        }
        // A rerun merges the notebooks' own files, not the merged one it wrote before.
        Assert.Equal(6, ReproduceCommand.WriteSummary(RunMode.Full, target, null)!.Rows.Count);
        Assert.Null(ReproduceCommand.WriteSummary(RunMode.Full, TestPaths.NewTempDirectory("empty"), null));
    }

    [Fact]
    public void PublishingReplacesOnlyTheTextBetweenTheMarkers()
    {
        string readme = $"# Title\n\nbefore\n{ResultsPublishing.Begin}\nold table\n{ResultsPublishing.End}\nafter\n";
        string updated = ResultsPublishing.WithTable(readme, Toy());
        Assert.StartsWith($"# Title\n\nbefore\n{ResultsPublishing.Begin}\n", updated);
        Assert.EndsWith($"{ResultsPublishing.End}\nafter\n", updated);
        Assert.DoesNotContain("old table", updated);
        Assert.Equal(Toy().ReadmeTable(), ResultsPublishing.TableIn(updated));
        Assert.Throws<UserInputException>(() => ResultsPublishing.WithTable("no markers", Toy()));
    }

    [Fact]
    public void TheReadmeResultsTableIsTheOneGeneratedFromTheCommittedSummary()
    {
        string root = TestPaths.RepositoryRoot;
        var committed = ResultSummary.Read(Path.Combine(ResultsPublishing.Directory(root), ResultSummary.JsonFile));
        Assert.Equal("full", committed.Mode);
        Assert.Equal(committed.ReadmeTable(), ResultsPublishing.TableIn(File.ReadAllText(Path.Combine(root, "README.md"))));
        Assert.Equal(committed.ToMarkdown(), File.ReadAllText(Path.Combine(ResultsPublishing.Directory(root), ResultSummary.MarkdownFile)));
    }
}

[Collection(MultiLevelHashing.Tests.Cli.ConsoleCommandCollection.Name)]
public class SummaryCommandTests
{
    private static int Invoke(params string[] args)
    {
        var root = new System.CommandLine.RootCommand();
        root.Subcommands.Add(SummaryCommand.Create());
        return root.Parse(args).Invoke();
    }

    [Fact]
    public void MergesAnEarlierRunWithoutRunningNotebooksAndRefusesToPublishSmokeRuns()
    {
        string run = TestPaths.NewTempDirectory("run");
        new ResultSummary(ResultSummary.CurrentVersion, "smoke",
            [new SummaryRow(PaperMethods.Gap, PaperMethods.Float, 16384, 16384, "toy", "classic", 60, 0, [0], 40, 0.1, null, "cosine", "", "09")], [])
            .WriteTo(Path.Combine(run, "09-tables"));
        Assert.Equal(0, Invoke("summary", "--output", run));
        Assert.Single(ResultSummary.Read(Path.Combine(run, ResultSummary.JsonFile)).Rows);
        Assert.NotEqual(0, Invoke("summary", "--output", run, "--publish"));
        Assert.NotEqual(0, Invoke("summary", "--output", TestPaths.NewTempDirectory("empty")));
    }
}
