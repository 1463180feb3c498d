using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Cli;
using MultiLevelHashing.Tests.Data;
using Xunit.Abstractions;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary>
/// A generated revisited-Oxford benchmark, a smoke checkpoint, and the truth every test of <see cref="ShardTests"/> is
/// held to: one uninterrupted <c>mlh benchmark</c> process on one machine (its two index files and its scores).
/// </summary>
public sealed class SingleRunReference : IDisposable
{
    public const int Chunk = 1;

    public SingleRunReference()
    {
        Dir = TestPaths.NewTempDirectory("shards");
        var f = LandmarkFixture.Create(Path.Combine(Dir, "data"), distractors: 4);
        Checkpoint = BenchmarkCommandTests.SmokeCheckpoint(Dir).Ckpt;
        Spec = $"shardbench:images={f.OxfordImages},gnd={f.RevisitedPickle},distractors={f.Distractors}";
        var ds = DatasetSpec.Open(Spec);
        (DatabaseCount, QueryCount) = (ds.Database.Count, ds.Queries.Count);
        Cache = Path.Combine(Dir, "reference-cache");
        var run = MlhProcess.Run(Benchmark(Cache, Path.Combine(Dir, "reference-out")));
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        Report = BenchmarkReport.FromJson(File.ReadAllText(Path.Combine(Dir, "reference-out", "results.json")));
        Indexes = Directory.GetFiles(Cache, "*.mlhidx").ToDictionary(p => Path.GetFileName(p), File.ReadAllBytes);
        Assert.Equal(2, Indexes.Count);
    }

    public string Dir { get; }
    public string Checkpoint { get; }
    public string Spec { get; }
    public string Cache { get; }
    public int DatabaseCount { get; }
    public int QueryCount { get; }
    public BenchmarkReport Report { get; }

    /// <summary>The reference's index files by name (the name is the cache key: the same for the same images, checkpoint, chunk and batch).</summary>
    public IReadOnlyDictionary<string, byte[]> Indexes { get; }

    public string[] Benchmark(string cache, string output, params string[] extra) =>
        ["benchmark", "--dataset", Spec, "--checkpoint", Checkpoint, "--cache", cache, "--output", output, "--levels",
         "--chunk", $"{Chunk}", "--batch", "1", .. extra];

    /// <summary>A run's cache holds exactly the reference's index files, byte for byte, and its scores are the reference's.</summary>
    public void AssertSameAsReference(string cache, string output)
    {
        var files = Directory.GetFiles(cache, "*.mlhidx").ToDictionary(p => Path.GetFileName(p), File.ReadAllBytes);
        Assert.Equal(Indexes.Keys.Order(), files.Keys.Order());
        foreach (var (name, bytes) in Indexes) Assert.True(bytes.AsSpan().SequenceEqual(files[name]), $"{name} differs from the single run's");
        var report = BenchmarkReport.FromJson(File.ReadAllText(Path.Combine(output, "results.json")));
        Assert.Equal(JsonSerializer.Serialize(Report.Methods), JsonSerializer.Serialize(report.Methods));
    }

    public void Dispose() => Directory.Delete(Dir, true);
}

/// <summary>
/// <c>mlh benchmark --shard i/n</c> and the faults of long runs, with real <c>mlh</c> processes (README.md, "Past one
/// machine"; lib/MultiLevelHashing/README.md section 3.5): four shards, one of them killed and resumed, then a joining
/// run that encodes nothing; two processes encoding into one cache at once; a real full disk; a read-only folder. Every
/// outcome is compared with the bytes and scores of one uninterrupted single-machine run.
/// </summary>
public sealed class ShardTests(SingleRunReference reference, ITestOutputHelper output) : IClassFixture<SingleRunReference>
{
    private const int Shards = 4;

    private static int ChunkFiles(string cache) =>
        Directory.Exists(cache) ? Directory.EnumerateFiles(cache, "chunk-*.bin", SearchOption.AllDirectories).Count() : 0;

    /// <summary>Chunks shard <paramref name="shard"/> of <see cref="Shards"/> owns, database and queries together (chunk c to shard c mod n).</summary>
    private int Owned(int shard) =>
        Enumerable.Range(0, reference.DatabaseCount).Count(c => c % Shards == shard) + Enumerable.Range(0, reference.QueryCount).Count(c => c % Shards == shard);

    private static (int Encoded, int Stored) Work(string stdout)
    {
        var parts = Regex.Matches(stdout, @"encoded (\d+) chunks \(\d+ images\), (\d+) chunks");
        Assert.Equal(2, parts.Count);
        return (parts.Sum(m => int.Parse(m.Groups[1].Value)), parts.Sum(m => int.Parse(m.Groups[2].Value)));
    }

    [Fact]
    public void FourShardsOneKilledAndResumedThenAJoiningRunEqualASingleRun()
    {
        string cache = Path.Combine(reference.Dir, "shard-cache"), outDir = Path.Combine(reference.Dir, "shard-out");
        string[] Shard(int i, params string[] extra) => reference.Benchmark(cache, outDir, ["--shard", $"{i}/{Shards}", .. extra]);

        // Shard 1 is killed (SIGKILL) as soon as its first chunk is on disk, and started again.
        int storedAtKill = 0;
        bool killed = false;
        for (int attempt = 0; attempt < 4 && !(killed && storedAtKill < Owned(1)); attempt++)
        {
            if (Directory.Exists(cache)) Directory.Delete(cache, true);
            using var child = MlhProcess.Start(Shard(1));
            var clock = Stopwatch.StartNew();
            while (!child.HasExited && ChunkFiles(cache) == 0 && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(5);
            killed = child.KillHard();
            storedAtKill = ChunkFiles(cache);
        }
        Assert.True(killed, "shard 1 finished before it could be killed in 4 attempts");
        Assert.InRange(storedAtKill, 1, Owned(1) - 1);
        var resumed = MlhProcess.Run(Shard(1));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr + resumed.Stdout);
        var (encoded, stored) = Work(resumed.Stdout);
        Assert.Equal((Owned(1) - storedAtKill, storedAtKill), (encoded, stored));

        // The other shards (their dry runs first: what they will encode), then nothing is left to encode.
        foreach (int i in new[] { 0, 2, 3 })
        {
            var plan = MlhProcess.Run(Shard(i, "--dry-run"));
            Assert.True(plan.ExitCode == 0, plan.Stderr + plan.Stdout);
            var toEncode = Regex.Matches(plan.Stdout, @"chunk (\d+): images \d+\.\.\d+ \(.*\) to encode").Select(m => int.Parse(m.Groups[1].Value)).ToList();
            Assert.Equal(Owned(i), toEncode.Count);
            Assert.All(toEncode, c => Assert.Equal(i, c % Shards));
            var run = MlhProcess.Run(Shard(i));
            Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
            Assert.Equal((Owned(i), 0), Work(run.Stdout));
        }
        Assert.Equal(reference.DatabaseCount + reference.QueryCount, ChunkFiles(cache));
        var whole = MlhProcess.Run(reference.Benchmark(cache, outDir, "--dry-run"));
        Assert.Empty(Regex.Matches(whole.Stdout, @"\) to encode$", RegexOptions.Multiline));
        Assert.Equal(reference.DatabaseCount + reference.QueryCount, Regex.Matches(whole.Stdout, @"\) stored$", RegexOptions.Multiline).Count);

        // The joining run (no --shard) encodes nothing and ends with the single run's bytes and scores.
        var join = MlhProcess.Run(reference.Benchmark(cache, outDir));
        Assert.True(join.ExitCode == 0, join.Stderr + join.Stdout);
        Assert.Equal(0, BenchmarkReport.FromJson(File.ReadAllText(Path.Combine(outDir, "results.json"))).EncodeSeconds);
        reference.AssertSameAsReference(cache, outDir);
        Assert.Empty(Directory.GetDirectories(cache));
        output.WriteLine($"shard 1 killed with {storedAtKill} of {Owned(1)} chunks stored; resumed with {encoded} encoded; joined with nothing encoded");
    }

    [Fact]
    public void TwoProcessesEncodingIntoOneCacheAtOnceBothEndWithTheSingleRunsCodes()
    {
        string cache = Path.Combine(reference.Dir, "shared-cache");
        using var a = MlhProcess.Start(reference.Benchmark(cache, Path.Combine(reference.Dir, "out-a")));
        using var b = MlhProcess.Start(reference.Benchmark(cache, Path.Combine(reference.Dir, "out-b")));
        var ra = a.WaitForExit(TimeSpan.FromMinutes(3));
        var rb = b.WaitForExit(TimeSpan.FromMinutes(3));
        Assert.True(ra.ExitCode == 0, ra.Stderr + ra.Stdout);
        Assert.True(rb.ExitCode == 0, rb.Stderr + rb.Stdout);
        reference.AssertSameAsReference(cache, Path.Combine(reference.Dir, "out-a"));
        reference.AssertSameAsReference(cache, Path.Combine(reference.Dir, "out-b"));
        Assert.Empty(Directory.EnumerateFiles(cache, "*.tmp-*", SearchOption.AllDirectories));
    }

    [SkippableFact]
    public void AFullDiskKeepsEveryEarlierFileAndEndsWithAClearError()
    {
        string cache = Path.Combine(reference.Dir, "full");
        using var mount = TmpfsMount.MountOrSkip(cache, 256 * 1024);
        string outDir = Path.Combine(reference.Dir, "full-out");
        // Earlier files: the finished query index, copied in, and the chunks shard 0 of 4 stores.
        string queries = reference.Indexes.Keys.Single(n => n.Contains("-queries-"));
        File.WriteAllBytes(Path.Combine(cache, queries), reference.Indexes[queries]);
        var shard = MlhProcess.Run(reference.Benchmark(cache, outDir, "--shard", $"0/{Shards}"));
        Assert.True(shard.ExitCode == 0, shard.Stderr + shard.Stdout);
        var earlier = Directory.EnumerateFiles(cache, "*", SearchOption.AllDirectories).ToDictionary(p => p, File.ReadAllBytes);
        // Leave room for two more chunk files (a tmpfs gives each file whole 4 KiB pages).
        string filler = Path.Combine(cache, "filler");
        File.WriteAllBytes(filler, new byte[mount.FreeBytes - 2 * 4096]);

        var full = MlhProcess.Run(reference.Benchmark(cache, outDir));
        output.WriteLine(full.Stderr);
        Assert.Equal(2, full.ExitCode);
        Assert.StartsWith("error: ", full.Stderr);
        Assert.Contains("No space left on device", full.Stderr);
        Assert.Contains("chunk-", full.Stderr);
        Assert.DoesNotContain("   at ", full.Stderr); // no stack trace
        foreach (var (path, bytes) in earlier) Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes), $"{path} changed");
        Assert.Empty(Directory.EnumerateFiles(cache, "*.tmp-*", SearchOption.AllDirectories));
        int chunksAfter = ChunkFiles(cache);
        Assert.True(chunksAfter > earlier.Keys.Count(p => p.Contains("chunk-")), "no chunk was written before the disk was full");

        // Every chunk on disk verifies (a dry run counts it as stored), and with space again the run resumes to the single run's result.
        var plan = MlhProcess.Run(reference.Benchmark(cache, outDir, "--dry-run"));
        Assert.Equal(chunksAfter + reference.QueryCount, Regex.Matches(plan.Stdout, @"\) stored$", RegexOptions.Multiline).Count);
        File.Delete(filler);
        var again = MlhProcess.Run(reference.Benchmark(cache, outDir));
        Assert.True(again.ExitCode == 0, again.Stderr + again.Stdout);
        reference.AssertSameAsReference(cache, outDir);
    }

    [SkippableFact]
    public void AReadOnlyFolderIsNamedBeforeAnyWork()
    {
        string ro = Path.Combine(reference.Dir, "ro");
        using var mount = TmpfsMount.MountOrSkip(ro, 64 * 1024);
        mount.Remount("ro");
        string writableCache = Path.Combine(reference.Dir, "ro-test-cache");
        string images = Path.Combine(reference.Dir, "data", "oxbuild_images");
        var cases = new (string[] Args, string Folder)[]
        {
            (reference.Benchmark(ro, Path.Combine(reference.Dir, "ro-out")), ro),
            (reference.Benchmark(writableCache, Path.Combine(ro, "out")), Path.Combine(ro, "out")),
            (["encode", "--images", images, "--checkpoint", reference.Checkpoint, "--output", Path.Combine(ro, "codes.npy")], ro),
            (["index", "--images", images, "--checkpoint", reference.Checkpoint, "--output", Path.Combine(ro, "db.mlhidx")], ro),
            (["encode", "--images", images, "--checkpoint", reference.Checkpoint, "--cache", ro, "--shard", "0/2"], ro),
        };
        foreach (var (args, folder) in cases)
        {
            var run = MlhProcess.Run(args);
            Assert.Equal(2, run.ExitCode);
            Assert.Equal($"error: {folder}: cannot write files in this folder (Read-only file system); give a writable folder", run.Stderr.Trim());
            Assert.DoesNotContain("encode", run.Stdout); // no progress: nothing was encoded
        }
        Assert.Equal(0, ChunkFiles(writableCache));
        Assert.False(Directory.Exists(writableCache) && Directory.EnumerateFiles(writableCache, "*.mlhidx").Any());
    }

    /// <summary>
    /// The Slurm and Kubernetes examples (lib/MultiLevelHashing.Cli/Schedulers) are parsed for their shard count and
    /// command, and every array task or pod index is run as the scheduler would start it, with MLH_ARGS=--dry-run and an
    /// <c>mlh</c> on the PATH: the shards' plans cover every chunk exactly once, chunk c in shard c mod n.
    /// </summary>
    [SkippableFact]
    public void SchedulerExamplesParseAndDryRunEveryShard()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "runs the examples with /bin/sh and bash");
        string folder = Path.Combine(TestPaths.RepositoryRoot, "lib", "MultiLevelHashing.Cli", "Schedulers");
        string bin = Path.Combine(reference.Dir, "bin");
        Directory.CreateDirectory(bin);
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        File.WriteAllText(Path.Combine(bin, "mlh"), $"#!/bin/sh\nexec \"{dotnet}\" \"{Path.Combine(AppContext.BaseDirectory, "mlh.dll")}\" \"$@\"\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Path.Combine(bin, "mlh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string cache = Path.Combine(reference.Dir, "scheduler-cache");
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
            ["DATASET"] = reference.Spec, ["CHECKPOINT"] = reference.Checkpoint, ["CACHE"] = cache, ["MLH_ARGS"] = "--dry-run",
            ["CHUNK"] = $"{SchedulerChunk}", ["BATCH"] = "1",
        };

        // Slurm: the array's size is the shard count; the script runs under bash with the array variables set.
        string sbatch = File.ReadAllText(Path.Combine(folder, "slurm-shards.sbatch"));
        int arrayLast = int.Parse(Regex.Match(sbatch, @"^#SBATCH --array=0-(\d+)$", RegexOptions.Multiline).Groups[1].Value);
        int slurmShards = int.Parse(Regex.Match(sbatch, @"^SHARDS=\$\{SHARDS:-(\d+)\}$", RegexOptions.Multiline).Groups[1].Value);
        Assert.Equal(arrayLast + 1, slurmShards);
        Assert.Contains("--shard \"$SLURM_ARRAY_TASK_ID/$SHARDS\"", sbatch);
        Assert.Contains("--chunk \"${CHUNK:-512}\"", sbatch);
        var slurmPlans = Enumerable.Range(0, slurmShards).Select(i => RunScript("bash", [Path.Combine(folder, "slurm-shards.sbatch")],
            new(environment) { ["SLURM_ARRAY_TASK_ID"] = $"{i}", ["SLURM_ARRAY_JOB_ID"] = "42" })).ToList();
        AssertPlansCoverEveryChunkOnce(slurmPlans, slurmShards);

        // Kubernetes: an Indexed Job whose completions are the shard count; its container command runs under /bin/sh -c.
        string yaml = File.ReadAllText(Path.Combine(folder, "kubernetes-shards-job.yaml"));
        Assert.Matches(@"(?m)^  completionMode: Indexed$", yaml);
        int completions = int.Parse(Regex.Match(yaml, @"(?m)^  completions: (\d+)$").Groups[1].Value);
        Assert.Equal(completions, int.Parse(Regex.Match(yaml, @"- name: SHARDS\s+value: ""(\d+)""").Groups[1].Value));
        Assert.Contains("command: [\"/bin/sh\", \"-c\"]", yaml);
        // The folded (>-) block scalar under args: its lines joined by spaces.
        var lines = yaml.Split('\n');
        int at = Array.FindIndex(lines, l => l.Trim() == "- >-");
        Assert.True(at > 0 && lines[at - 1].Trim() == "args:", "the args block of the container");
        int indent = lines[at + 1].Length - lines[at + 1].TrimStart().Length;
        string script = string.Join(" ", lines.Skip(at + 1).TakeWhile(l => l.Length - l.TrimStart().Length == indent && l.Trim().Length > 0).Select(l => l.Trim()));
        Assert.Contains("--shard \"$JOB_COMPLETION_INDEX/$SHARDS\"", script);
        var podPlans = Enumerable.Range(0, completions).Select(i => RunScript("/bin/sh", ["-c", script],
            new(environment) { ["JOB_COMPLETION_INDEX"] = $"{i}", ["SHARDS"] = $"{completions}" })).ToList();
        AssertPlansCoverEveryChunkOnce(podPlans, completions);
        Assert.Equal(0, ChunkFiles(cache)); // dry runs encode nothing
    }

    /// <summary>Images per chunk in the examples' dry runs: small, so that most of the eight shards own chunks.</summary>
    private const int SchedulerChunk = 2;

    private void AssertPlansCoverEveryChunkOnce(List<string> plans, int shards)
    {
        foreach (var (part, count) in new[] { ("database", reference.DatabaseCount), ("queries", reference.QueryCount) })
        {
            var seen = new List<int>();
            for (int i = 0; i < shards; i++)
            {
                var section = Regex.Match(plans[i], $@"shard {i}/{shards} of {part} .*?(?=\nshard |$)", RegexOptions.Singleline);
                Assert.True(section.Success, plans[i]);
                var chunks = Regex.Matches(section.Value, @"chunk (\d+): images").Select(m => int.Parse(m.Groups[1].Value)).ToList();
                Assert.All(chunks, c => Assert.Equal(i, c % shards));
                seen.AddRange(chunks);
            }
            Assert.Equal(Enumerable.Range(0, (count + SchedulerChunk - 1) / SchedulerChunk), seen.Order());
        }
    }

    private static string RunScript(string shell, string[] args, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(shell) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        info.Environment["NO_COLOR"] = "1";
        info.Environment["TERM"] = "dumb";
        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "the example did not finish");
        Assert.True(p.ExitCode == 0, stderr.Result + stdout);
        return stdout;
    }
}
