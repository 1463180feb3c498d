using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Tests.Reliability;

namespace MultiLevelHashing.Tests.Cli;

/// <summary><c>mlh bench pytorch</c> where PyTorch is missing: it installs nothing and names the command that does.</summary>
public sealed class PyTorchBenchCommandTests : IDisposable
{
    private const string ExpectedInstall = "apt-get update && apt-get install --no-install-recommends python3-torch python3-pil python3-numpy";

    private readonly string _work = TestPaths.NewTempDirectory("pytorch-bench");

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>An executable shell script in the work folder.</summary>
    private string Script(string name, string body)
    {
        string path = Path.Combine(_work, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [SkippableFact]
    public void MissingPyTorchStopsWithTheInstallCommandAndRunsNoPackageManager()
    {
        Skip.If(OperatingSystem.IsWindows(), "shell scripts stand in for Python and the package tools");
        string log = Path.Combine(_work, "calls.log");
        // A Python without torch, as dscnn_benchmark.py reports it (exit code 3), and package tools that only record a call.
        string python = Script("python3", "echo \"error: No module named 'torch'\" >&2\nexit 3");
        foreach (string tool in new[] { "apt-get", "apt", "sudo", "dpkg" })
            Script(tool, $"echo \"{tool} $*\" >> '{log}'\nexit 0");
        string output = Path.Combine(_work, "pytorch.md");

        var (exit, stdout, stderr) = MlhProcess.Run(["bench", "pytorch", "--python", python, "--output", output],
            new Dictionary<string, string> { ["PATH"] = _work + ":" + Environment.GetEnvironmentVariable("PATH") });

        Assert.Equal(2, exit);
        Assert.Contains(ExpectedInstall, stderr);
        Assert.Contains("No module named 'torch'", stderr);
        Assert.False(File.Exists(log), $"a package tool ran: {(File.Exists(log) ? File.ReadAllText(log) : "")}");
        Assert.False(File.Exists(output));
        Assert.DoesNotContain("running:", stdout);
    }

    [Fact]
    public void TheFormerNoInstallOptionIsAcceptedAndChangesNothing()
    {
        string python = Path.Combine(_work, "no-such-python");
        var (exit, _, stderr) = MlhProcess.Run(["bench", "pytorch", "--no-install", "--python", python, "--output", Path.Combine(_work, "x.md")]);
        Assert.Equal(2, exit);
        Assert.Contains(ExpectedInstall, stderr);
    }

    [Fact]
    public void APythonThatCannotStartIsReportedWithTheInstallCommand()
    {
        var settings = new PyTorchBenchSettings { Python = Path.Combine(_work, "no-such-python"), Script = RepositoryLayout.PyTorchBenchmarkScript(RepositoryLayout.FindRoot()) };
        var e = Assert.Throws<UserInputException>(() => PyTorchBenchmark.CheckPyTorch(settings));
        Assert.StartsWith(settings.Python, e.Message);
        Assert.Contains(ExpectedInstall, e.Message);
    }

    [SkippableFact]
    public void TheCheckReadsTheTorchVersionTheScriptPrints()
    {
        Skip.If(OperatingSystem.IsWindows(), "a shell script stands in for Python");
        string python = Script("python-with-torch", "echo 'some warning' >&2\necho '{\"torch\": \"9.8.7\", \"numpy\": \"1.0\"}'\nexit 0");
        var settings = new PyTorchBenchSettings { Python = python, Script = "unused.py" };
        Assert.Equal("9.8.7", PyTorchBenchmark.CheckPyTorch(settings));
    }

    [Fact]
    public void CountsBelowOneAreUserErrors()
    {
        var settings = new PyTorchBenchSettings { Script = "x.py", Steps = 0 };
        Assert.Throws<UserInputException>(settings.Validate);
        new PyTorchBenchSettings { Script = "x.py" }.Validate();
    }

    [Fact]
    public void WorkerArgumentsCarryTheRowsStepsAndWarmup()
    {
        var settings = new PyTorchBenchSettings { Script = "x.py", Threads = 3, Passes = 4, Steps = 5 };
        var inputs = new ComparisonInputs("/w", "/w/dscnn.safetensors", "/w/jpg", "/w/p.npy", "/w/t.npy", "/w/f.npy", 160);
        Assert.Equal(["--workload", "TrainHeads", "--folder", "/w", "--threads", "3", "--batch", "8", "--repeats", "4", "--steps", "50", "--warmup", "2"],
            PyTorchBenchmark.WorkerArguments(ComparisonWorkload.TrainHeads, inputs, settings, null, 8));
        Assert.Equal(["--workload", "EndToEnd", "--folder", "/w", "--threads", "3", "--batch", "16", "--repeats", "4", "--steps", "5", "--warmup", "1",
                      "--decode-threads", "2"],
            PyTorchBenchmark.WorkerArguments(ComparisonWorkload.EndToEnd, inputs, settings, 2, 16));
    }

    [Fact]
    public void ReportGivesMediansRatiosAndTheSettingsReadAtRunTime()
    {
        var small = TrainingConfig.Smoke.Architecture with { GlobalBits = 24, LocalBits = 40 };
        string weights = Path.Combine(_work, "dscnn.safetensors");
        using (var model = DscnnFactory.Create(small, seed: 0, pretrainedBackbone: false))
            StateDictFile.Save(model, small, 64, weights);
        string features = Path.Combine(_work, "features.npy");
        NpyFile.WriteFloat32(features, new Array2D<float>(6, 512 * 3 * 3, new float[6 * 512 * 9]));
        string jpg = Directory.CreateDirectory(Path.Combine(_work, "jpg")).FullName;
        foreach (string name in new[] { "a.jpg", "a-mirror.jpg", "b.jpg", "b-mirror.jpg" }) File.WriteAllBytes(Path.Combine(jpg, name), []);
        var inputs = new ComparisonInputs(_work, weights, jpg, "p.npy", "t.npy", features, 64);
        var settings = new PyTorchBenchSettings { Script = "x.py", Python = "/opt/py/bin/python3", Threads = 2, Repeats = 3, HeadsPairs = 3 };

        PyTorchBenchRun R(ComparisonWorkload w, string side, double rate) => new(w, side, rate, side == PyTorchBenchmark.TorchSharpSide ? $"detail {rate}" : "");
        const string T = PyTorchBenchmark.TorchSharpSide, P = PyTorchBenchmark.PyTorchSide;
        var runs = new List<PyTorchBenchRun>
        {
            // Inference: TorchSharp 10, 30, 20 (median 20); PyTorch 40, 10, 25 (median 25): ratio 0.80, 20.0% short of 1.00.
            R(ComparisonWorkload.Inference, T, 10), R(ComparisonWorkload.Inference, P, 40), R(ComparisonWorkload.Inference, T, 30),
            R(ComparisonWorkload.Inference, P, 10), R(ComparisonWorkload.Inference, T, 20), R(ComparisonWorkload.Inference, P, 25),
            // Heads: 2, 4, 3 (median 3) against 3, 3, 3: ratio 1.00, met.
            R(ComparisonWorkload.TrainHeads, T, 2), R(ComparisonWorkload.TrainHeads, T, 4), R(ComparisonWorkload.TrainHeads, T, 3),
            R(ComparisonWorkload.TrainHeads, P, 3), R(ComparisonWorkload.TrainHeads, P, 3), R(ComparisonWorkload.TrainHeads, P, 3),
            R(ComparisonWorkload.TrainLayer4, T, 1), R(ComparisonWorkload.TrainLayer4, P, 2),
            // End to end 18 (median of 12, 18, 19): 90.0% of inference's 20.
            R(ComparisonWorkload.EndToEnd, T, 12), R(ComparisonWorkload.EndToEnd, T, 19), R(ComparisonWorkload.EndToEnd, T, 18), R(ComparisonWorkload.EndToEnd, P, 5),
            // PyTorch's standard pipeline (2 workers) 12 and 18 (median 15): 18 / 15 = 1.20, met; with Image.draft 20: 0.90, no target.
            R(ComparisonWorkload.EndToEnd, PyTorchBenchmark.PyTorchTwoWorkersSide, 12), R(ComparisonWorkload.EndToEnd, PyTorchBenchmark.PyTorchTwoWorkersSide, 18),
            R(ComparisonWorkload.EndToEnd, PyTorchBenchmark.PyTorchDraftSide, 20),
        };
        var sweep = new List<PyTorchSweepRun> { new(1, 8, 4), new(1, 8, 6), new(2, 8, 1), new(2, 8, 2) };
        var agreement = new[] { new PyTorchComparison.CodeAgreement(1e-6, 10, 0, 0), new PyTorchComparison.CodeAgreement(2e-5, 20, 1, 3e-6) };
        // Stages: every stage 1 ms per batch on both sides, except layer4 (TorchSharp passes 3, 5 and 4 ms over two runs,
        // median 4; PyTorch 2 ms): 10 stages, sum 13 against 11.
        Dictionary<string, double[]> Stages(double[] layer4) =>
            PyTorchComparison.StageNames.ToDictionary(n => n, n => n == "layer4" ? layer4 : new[] { 1.0 });
        var stageRuns = new List<PyTorchStageRun>
        {
            new(T, Stages([3, 5])), new(P, Stages([2])), new(P, Stages([2])), new(T, Stages([4])),
        };
        var result = new PyTorchBenchResult(settings, inputs, "1.13.0a0", "0.10 0.20 0.30", "0.40 0.50 0.60", agreement, runs, sweep, stageRuns);

        string report = PyTorchBenchmark.Report(result);
        Assert.Contains("| inference (decoded images) | img/s | 20.00 | 25.00 | 0.80 | >= 1.00 | no (20.0% short) |", report);
        Assert.Contains("| training, heads only (cached maps) | steps/s | 3.00 | 3.00 | 1.00 | >= 0.95 | yes |", report);
        Assert.Contains("| training, layer4 + heads | steps/s | 1.00 | 2.00 | 0.50 | >= 0.95 | no (47.4% short) |", report);
        Assert.Contains("| end to end / inference, TorchSharp | - | 90.0% | 20.0% | - | >= 80% | yes |", report);
        Assert.Contains("| inference (decoded images) | 10.00 30.00 20.00 | 40.00 10.00 25.00 |", report);
        Assert.Contains("| end to end against PyTorch, 2 workers | img/s | 18.00 | 15.00 | 1.20 | >= 1.20 | yes |", report);
        Assert.Contains("| end to end against PyTorch, 2 workers, Image.draft | img/s | 18.00 | 20.00 | 0.90 | - | - |", report);
        Assert.Contains("| end to end, PyTorch, 2 workers |  | 12.00 18.00 |", report);
        // Spreads of rows and sides with more than one run: inference 3.0 and 4.0 (the widest: PyTorch, 40 against 10),
        // heads 2.0 and 1.0, end to end 19/12 = 1.58 and 2 workers 18/12 = 1.5; their median is (1.58 + 2.0) / 2 = 1.79.
        Assert.Contains("up to 4.00x its slowest (inference (decoded images), PyTorch); the median over rows and sides is 1.79x", report);
        Assert.Contains("    detail 18", report);
        Assert.Contains("| global (24 bits) | 10 | 1.0e-6 | 0 | - |", report);
        Assert.Contains("| local (40 bits) | 20 | 2.0e-5 | 1 | 3.0e-6 |", report);
        Assert.Contains("| layer4 | 4.00 | 2.00 | 2.00 | 30.8% |", report);
        Assert.Contains("| pad 7x7 | 1.00 | 1.00 | 1.00 | 7.7% |", report);
        Assert.Contains("| sum of the stages | 13.00 | 11.00 | 1.18 | 100% |", report);
        Assert.Contains("of 2 interleaved runs per side", report);
        Assert.Contains("| 1 | 5.00 |", report);
        Assert.Contains("| 2 | 1.50 |", report);
        // Read at run time: the PyTorch version and Python, LibTorch's version, the Full preset's loss and optimizer, the maps' shape.
        Assert.Contains("PyTorch 1.13.0a0 (`/opt/py/bin/python3`)", report);
        Assert.Contains("bench pytorch --repeats 3` (lib/MultiLevelHashing/README.md section 4.4)", report);
        Assert.Contains($"LibTorch {Version.Parse(TorchSharp.torch.__version__).ToString(3)}, ", report);
        Assert.Contains($"alpha {TrainingConfig.Full.Alpha}, beta {TrainingConfig.Full.Beta}, gamma {TrainingConfig.Full.Gamma}", report);
        Assert.Contains("heads only: 3 pairs on cached maps F (6 x 512 x 3 x 3)", report);
        Assert.Contains("4 JPEG files (the 2 photos", report);
        Assert.Contains("load average 0.10 0.20 0.30 before, 0.40 0.50 0.60 after", report);

        string tsv = PyTorchBenchmark.RunsTsv(result);
        var lines = tsv.TrimEnd('\n').Split('\n');
        Assert.Equal("row\tside\tdecode_threads\tbatch\trate", lines[0]);
        Assert.Equal(1 + runs.Count + sweep.Count, lines.Length);
        Assert.Equal("Inference\tTorchSharp\t\t\t10", lines[1]);
        Assert.Equal("EndToEndSweep\tTorchSharp\t2\t8\t2", lines[^1]);
    }
}
