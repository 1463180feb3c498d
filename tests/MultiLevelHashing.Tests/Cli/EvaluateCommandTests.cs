using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Tests.Evaluation;

namespace MultiLevelHashing.Tests.Cli;

public sealed class EvaluateCommandTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("eval");

    public void Dispose() => Directory.Delete(_dir, true);

    private string WriteGt()
    {
        string gt = Path.Combine(_dir, "gt");
        Directory.CreateDirectory(gt);
        File.WriteAllText(Path.Combine(gt, "a_1_query.txt"), "oxc1_a1 0 0 10 10\n");
        File.WriteAllText(Path.Combine(gt, "a_1_good.txt"), "a1\na2\n");
        File.WriteAllText(Path.Combine(gt, "a_1_ok.txt"), "a3\n");
        File.WriteAllText(Path.Combine(gt, "a_1_junk.txt"), "a4\n");
        File.WriteAllText(Path.Combine(gt, "b_1_query.txt"), "b1 0 0 10 10\n");
        File.WriteAllText(Path.Combine(gt, "b_1_good.txt"), "b1\n");
        File.WriteAllText(Path.Combine(gt, "b_1_ok.txt"), "");
        File.WriteAllText(Path.Combine(gt, "b_1_junk.txt"), "");
        return gt;
    }

    private static string Run(string gt, string? protocol, string ranks)
    {
        var output = new StringWriter();
        Assert.Equal(0, EvaluateCommand.Run(output, gt, protocol, ranks, perQuery: true));
        return output.ToString();
    }

    [Fact]
    public void LastLineIsTheHandComputedMap()
    {
        string gt = WriteGt();
        string ranks = Path.Combine(_dir, "ranks.txt");
        // a_1: a4 (junk) x a1 a2 -> kept x a1 a2, 3 positives: 1/3*(0+1/2)/2 + 1/3*(1/2+2/3)/2 = 0.0833 + 0.1944 = 0.2778 (a3 never retrieved).
        // b_1: b1 first -> 1. mAP = 63.89%.
        File.WriteAllText(ranks, "a4 x a1 a2\nb1 a1\n");
        string text = Run(gt, null, ranks);
        var lines = text.TrimEnd('\n').Split('\n');
        double a = 1.0 / 3 * 0.5 / 2 + 1.0 / 3 * (0.5 + 2.0 / 3) / 2;
        Assert.Equal($"mAP: {(100 * (a + 1) / 2).ToString("F2", System.Globalization.CultureInfo.InvariantCulture)}", lines[^1]);
        Assert.Equal("mAP: 63.89", lines[^1]);
        Assert.Contains("classic  mAP 63.89", text);
        Assert.Contains("a_1", text);
    }

    [Fact]
    public void BadRankFilesAndProtocolsAreUserErrors()
    {
        string gt = WriteGt();
        string ranks = Path.Combine(_dir, "r.txt");
        File.WriteAllText(ranks, "a1  a2\nb1\n");
        Assert.Contains("r.txt:1", Assert.Throws<UserInputException>(() => Run(gt, null, ranks)).Message);
        File.WriteAllText(ranks, "a1.jpg\nb1\n");
        Assert.Contains("without their extension", Assert.Throws<UserInputException>(() => Run(gt, null, ranks)).Message);
        File.WriteAllText(ranks, "a1\n");
        Assert.Contains("2 queries", Assert.Throws<UserInputException>(() => Run(gt, null, ranks)).Message);
        File.WriteAllText(ranks, "a1\nb1\n");
        Assert.Contains("medium", Assert.Throws<UserInputException>(() => Run(gt, "medium", ranks)).Message);
        Assert.Contains("expected classic", Assert.Throws<UserInputException>(() => Run(gt, "hardest", ranks)).Message);
        Assert.Contains("not found", Assert.Throws<UserInputException>(() => Run(gt, null, Path.Combine(_dir, "none.txt"))).Message);
    }

    [Fact]
    public void CommandLineParsingReachesTheEvaluation()
    {
        string gt = WriteGt();
        string ranks = Path.Combine(_dir, "ranks.txt");
        File.WriteAllText(ranks, "a1 a2 a3\nb1\n");
        var original = Console.Out;
        var sw = new StringWriter();
        Console.SetOut(sw);
        try
        {
            int rc = EvaluateCommand.Create().Parse(["--ground-truth", gt, "--ranks", ranks, "--protocol", "classic"]).Invoke();
            Assert.Equal(0, rc);
        }
        finally { Console.SetOut(original); }
        Assert.EndsWith("mAP: 100.00\n", sw.ToString().Replace("\r\n", "\n"));
    }

    [SkippableFact]
    public void RevisitedPickleWithRandomRanksMatchesTheOfficialFormula()
    {
        var dir = TestPaths.GroundTruthDirectory;
        Skip.If(dir is null, TestPaths.MissingGroundTruth);
        string pkl = Path.Combine(dir!, "gnd_rparis6k.pkl");
        var gt = MultiLevelHashing.Data.GroundTruthReader.Read(pkl);
        var rng = new Random(11);
        // Short lists: 300 random names each (the rest never retrieved).
        var lists = gt.Queries.Select(_ => gt.DatabaseImages.OrderBy(_ => rng.Next()).Take(300).ToArray()).ToList();
        string ranks = Path.Combine(_dir, "rparis.txt");
        RankingFile.Write(ranks, lists);
        string text = Run(pkl, "hard", ranks);
        double sum = 0;
        int n = 0;
        for (int q = 0; q < gt.Queries.Count; q++)
        {
            var rel = gt.Relevance(q, MultiLevelHashing.Data.EvaluationProtocol.Hard);
            if (rel.Positives.Length == 0) continue;
            var labels = AveragePrecision.Label(lists[q].Select(gt.IndexOf).ToArray(), rel.Positives, rel.Ignored, gt.DatabaseImages.Count);
            sum += AveragePrecisionTests.OxfordComputeAp(labels, rel.Positives.Length);
            n++;
        }
        Assert.EndsWith($"mAP: {(100 * sum / n).ToString("F2", System.Globalization.CultureInfo.InvariantCulture)}", text.TrimEnd('\n'));
    }
}

public sealed class PrepareCommandTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDirectory("prepare");

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void PrepareTwiceWithTheSameSeedGivesTheSameChecksumAndEvaluateReadsIt()
    {
        var first = new StringWriter();
        PrepareCommand.Run(first, MiniLandmarksConfig.Smoke with { Seed = 99 }, Path.Combine(_dir, "a"), TestPaths.Photos, force: false);
        var second = new StringWriter();
        PrepareCommand.Run(second, MiniLandmarksConfig.Smoke with { Seed = 99 }, Path.Combine(_dir, "b"), TestPaths.Photos, force: true);
        string Checksum(string s) => s.Split('\n').First(l => l.TrimStart().StartsWith("checksum:"));
        Assert.Equal(Checksum(first.ToString()), Checksum(second.ToString()));

        // The generated gt_files work with mlh evaluate like real Oxford's; an oracle ranking scores 100.
        var layout = new MiniLandmarksLayout(Path.Combine(_dir, "a", "smoke"));
        var gt = MultiLevelHashing.Data.GroundTruthReader.Read(layout.GroundTruthDirectory);
        var full = MultiLevelHashing.Data.LandmarkDataset.Open(layout.DatabaseDirectory, layout.GroundTruthDirectory).GroundTruth;
        var lists = full.Queries.Select(q => q.Classic!.Positives.Select(i => full.DatabaseImages[i])).ToList();
        string ranks = Path.Combine(_dir, "oracle.txt");
        RankingFile.Write(ranks, lists);
        var output = new StringWriter();
        EvaluateCommand.Run(output, layout.GroundTruthDirectory, null, ranks);
        Assert.EndsWith("mAP: 100.00", output.ToString().TrimEnd('\n'));
        Assert.Equal(gt.Queries.Count, lists.Count);
    }

    [Fact]
    public void TwoSeparateProcessesWriteByteIdenticalBenchmarks()
    {
        // String hashing differs between processes, so this catches unordered output that one process cannot see.
        string mlh = Path.Combine(AppContext.BaseDirectory, "mlh.dll");
        foreach (var name in new[] { "p1", "p2" })
        {
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { mlh, "prepare", "--output", Path.Combine(_dir, name), "--photos", TestPaths.Photos, "--seed", "5" }) psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, stdout + stderr);
        }
        string a1 = Path.Combine(_dir, "p1", "smoke"), a2 = Path.Combine(_dir, "p2", "smoke");
        var files = Directory.GetFiles(a1, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a1, f)).Order().ToList();
        Assert.Equal(files, Directory.GetFiles(a2, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a2, f)).Order());
        foreach (var f in files)
            Assert.True(File.ReadAllBytes(Path.Combine(a1, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(a2, f))), f);
    }
}
