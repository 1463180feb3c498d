using System.Globalization;
using System.Text;
using System.Text.Json;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Benchmarks;

/// <summary>What <c>mlh bench pytorch</c> runs: sizes of the work, thread count, the Python side and its script.</summary>
public sealed record PyTorchBenchSettings
{
    /// <summary>The Python of Debian's <c>python3-torch</c> (environment.md, "PyTorch for the side-by-side benchmark").</summary>
    public const string DefaultPython = "/usr/bin/python3";

    /// <summary>LibTorch intra-op threads on both sides.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Images per forward batch (inference and end to end).</summary>
    public int Batch { get; init; } = 16;

    /// <summary>Interleaved runs per side and row.</summary>
    public int Repeats { get; init; } = 3;

    /// <summary>Decoded images per inference run.</summary>
    public int Images { get; init; } = 32;

    /// <summary>Timed inference passes over the images, after one warm-up pass.</summary>
    public int Passes { get; init; } = 2;

    /// <summary>Pairs per heads-only training step (the Full preset's pairs per step).</summary>
    public int HeadsPairs { get; init; } = TrainingConfig.Full.BatchPairs;

    /// <summary>Pairs per layer4 + heads training step.</summary>
    public int Layer4Pairs { get; init; } = 16;

    /// <summary>Timed training steps per run (heads-only runs take ten times as many).</summary>
    public int Steps { get; init; } = 2;

    /// <summary>Also time end-to-end encoding over decode threads x batch sizes.</summary>
    public bool Sweep { get; init; }

    /// <summary>Also time the forward pass stage by stage on both sides (<see cref="PyTorchComparison.StageNames"/>).</summary>
    public bool Stages { get; init; } = true;

    /// <summary>A trained ResNet18 checkpoint to benchmark, or null for the ImageNet backbone with seeded heads.</summary>
    public string? Checkpoint { get; init; }

    /// <summary>Input side S (the Full preset's; a checkpoint brings its own).</summary>
    public int ImageSize { get; init; } = TrainingConfig.Full.ImageSize;

    /// <summary>Python with PyTorch.</summary>
    public string Python { get; init; } = DefaultPython;

    /// <summary>The PyTorch side: <see cref="RepositoryLayout.PyTorchBenchmarkScript"/> of the checkout.</summary>
    public required string Script { get; init; }

    /// <summary>Heads-only steps are short, so they run ten times as many for a comparable measuring time.</summary>
    public int StepsFor(ComparisonWorkload workload) => workload == ComparisonWorkload.TrainHeads ? 10 * Steps : Steps;

    /// <summary>Warm-up steps before the timed ones.</summary>
    public int WarmupFor(ComparisonWorkload workload) => workload == ComparisonWorkload.TrainHeads ? 2 : 1;

    /// <exception cref="UserInputException">A count below 1.</exception>
    public void Validate()
    {
        if (Threads < 1 || Batch < 1 || Repeats < 1 || Images < 1 || Passes < 1 || HeadsPairs < 1 || Layer4Pairs < 1 || Steps < 1)
            throw new UserInputException("--threads, --batch, --repeats, --images, --passes, --heads-pairs, --layer4-pairs and --steps must be at least 1");
    }
}

/// <summary>How to start one TorchSharp run in a fresh process: the program and the arguments before the run's own.</summary>
/// <param name="Program">The executable (mlh, or dotnet).</param>
/// <param name="Arguments">Arguments that select the worker (<c>bench pytorch-worker</c>, after <c>mlh.dll</c> under dotnet).</param>
public sealed record WorkerLauncher(string Program, IReadOnlyList<string> Arguments);

/// <summary>One timed run of a row: the side, its rate (images/s or steps/s) and where the time went (end to end, TorchSharp).</summary>
public sealed record PyTorchBenchRun(ComparisonWorkload Workload, string Side, double Rate, string Detail);

/// <summary>One end-to-end TorchSharp run of the decode threads x batch sweep.</summary>
public sealed record PyTorchSweepRun(int DecodeThreads, int Batch, double Rate);

/// <summary>Everything a run of the comparison measured, with what the report says about the machine.</summary>
public sealed record PyTorchBenchResult(PyTorchBenchSettings Settings, ComparisonInputs Inputs, string TorchVersion, string LoadBefore,
    string LoadAfter, PyTorchComparison.CodeAgreement[] Agreement, IReadOnlyList<PyTorchBenchRun> Runs, IReadOnlyList<PyTorchSweepRun> SweepRuns,
    IReadOnlyList<PyTorchStageRun>? StageRuns = null);

/// <summary>One run of the stage-by-stage forward pass on one side: milliseconds per batch of every timed pass, per stage.</summary>
public sealed record PyTorchStageRun(string Side, IReadOnlyDictionary<string, double[]> Milliseconds);

/// <summary>
/// <c>mlh bench pytorch</c> (lib/MultiLevelHashing/README.md section 4.4): the same DSCNN, weights, inputs and thread
/// count in TorchSharp and in PyTorch, each run a fresh process, the two sides interleaved, medians and ratios. It
/// installs nothing: where PyTorch is missing it stops and names the command that installs it.
/// </summary>
public static class PyTorchBenchmark
{
    /// <summary>
    /// What to run, as root, where <c>import torch</c> fails. Without its recommends: Debian's python3-torch recommends
    /// libtorch-dev, whose libraries would shadow the LibTorch the toolkit ships.
    /// </summary>
    public const string InstallCommand = "apt-get update && apt-get install --no-install-recommends python3-torch python3-pil python3-numpy";

    /// <summary>The side names of the report and the .tsv.</summary>
    public const string TorchSharpSide = "TorchSharp", PyTorchSide = "PyTorch";

    /// <summary>
    /// The end-to-end row's other PyTorch pipelines: PyTorch's standard one (a DataLoader with 2 worker processes, the
    /// aim's reference, target 1.2x), and the same with PIL's reduced-scale decoding (<c>Image.draft</c>), to be fair
    /// to a PyTorch user who decodes as little as the library does. <see cref="PyTorchSide"/> is the 1-worker DataLoader.
    /// </summary>
    public const string PyTorchTwoWorkersSide = "PyTorch, 2 workers", PyTorchDraftSide = "PyTorch, 2 workers, Image.draft";

    /// <summary>The end-to-end target against <see cref="PyTorchTwoWorkersSide"/>.</summary>
    public const double EndToEndTarget = 1.2;

    private static readonly (string Side, int Workers, bool Draft)[] EndToEndPipelines =
        [(PyTorchSide, 1, false), (PyTorchTwoWorkersSide, 2, false), (PyTorchDraftSide, 2, true)];

    private sealed record Row(ComparisonWorkload Workload, string Name, string Unit, double Target, string TargetText);

    private static readonly Row[] Rows =
    [
        new(ComparisonWorkload.Inference, "inference (decoded images)", "img/s", 1.0, ">= 1.00"),
        new(ComparisonWorkload.TrainHeads, "training, heads only (cached maps)", "steps/s", 0.95, ">= 0.95"),
        new(ComparisonWorkload.TrainLayer4, "training, layer4 + heads", "steps/s", 0.95, ">= 0.95"),
        new(ComparisonWorkload.EndToEnd, "end to end from JPEG files", "img/s", 0.0, "-"),
    ];

    private static readonly int[] SweepDecodeThreads = [1, 2];
    private static readonly int[] SweepBatches = [8, 16, 32];

    /// <summary>
    /// The PyTorch version of <see cref="PyTorchBenchSettings.Python"/>, from the script's check mode.
    /// </summary>
    /// <exception cref="UserInputException">PyTorch (or numpy) is missing, or the check fails; the message names <see cref="InstallCommand"/>.</exception>
    public static string CheckPyTorch(PyTorchBenchSettings settings)
    {
        var (code, stdout, stderr) = Execute(settings.Python, [settings.Script, "--mode", "check"]);
        if (code == 3 || code == -1)
            throw new UserInputException($"{settings.Python}: PyTorch is missing ({stderr.Trim()}). The benchmark installs nothing; install it as root with: {InstallCommand}");
        if (code != 0) throw new UserInputException($"{settings.Script}: the PyTorch side failed its check: {stderr.Trim()}");
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return json.RootElement.GetProperty("torch").GetString()!;
    }

    /// <summary>
    /// Runs the comparison: checks PyTorch, prepares the inputs in <paramref name="work"/> from the photos of
    /// <paramref name="photos"/>, compares the codes of both sides, then runs every row <see cref="PyTorchBenchSettings.Repeats"/>
    /// times per side, the sides alternating which goes first, and the sweep when asked for.
    /// </summary>
    public static PyTorchBenchResult Run(PyTorchBenchSettings settings, string work, string photos, WorkerLauncher worker,
        IProgress<ProgressReport>? progress = null)
    {
        settings.Validate();
        string torchVersion = CheckPyTorch(settings);
        string loadBefore = MachineLoad.Average();
        progress.Report("prepare inputs", 0, 1, "steps");
        var inputs = PyTorchComparison.Prepare(work, photos, settings.ImageSize, settings.Images,
            2 * settings.Layer4Pairs, 2 * settings.HeadsPairs, settings.Checkpoint);
        progress.Report("prepare inputs", 1, 1, "steps");
        var agreement = CompareCodes(settings, inputs);

        var runs = new List<PyTorchBenchRun>();
        int total = settings.Repeats * (Rows.Length * 2 + EndToEndPipelines.Length - 1), done = 0;
        for (int r = 0; r < settings.Repeats; r++)
        {
            foreach (var row in Rows)
            {
                // Alternate which side goes first, so drift in the machine's load falls on both.
                string[] theirs = row.Workload == ComparisonWorkload.EndToEnd ? [.. EndToEndPipelines.Select(p => p.Side)] : [PyTorchSide];
                string[] sides = r % 2 == 0 ? [TorchSharpSide, .. theirs] : [.. theirs, TorchSharpSide];
                foreach (string side in sides)
                {
                    progress.Report("interleaved runs", done, total, "runs", $"{row.Name}, {side}");
                    var (rate, detail) = side == TorchSharpSide ? RunTorchSharp(worker, row.Workload, inputs, settings, null, settings.Batch)
                                                                : RunPyTorch(row.Workload, inputs, settings, side);
                    runs.Add(new PyTorchBenchRun(row.Workload, side, rate, detail));
                    progress.Report("interleaved runs", ++done, total, "runs");
                }
            }
        }

        var stageRuns = new List<PyTorchStageRun>();
        if (settings.Stages)
            for (int r = 0; r < settings.Repeats; r++)
                foreach (string side in r % 2 == 0 ? new[] { TorchSharpSide, PyTorchSide } : [PyTorchSide, TorchSharpSide])
                {
                    progress.Report("forward pass by stage", 2 * r + (side == TorchSharpSide ? 0 : 1), 2 * settings.Repeats, "runs", side);
                    stageRuns.Add(side == TorchSharpSide ? StagesTorchSharp(worker, inputs, settings) : StagesPyTorch(inputs, settings));
                }

        var sweepRuns = new List<PyTorchSweepRun>();
        if (settings.Sweep)
        {
            int sweepTotal = 2 * SweepDecodeThreads.Length * SweepBatches.Length, sweepDone = 0;
            for (int r = 0; r < 2; r++)
                foreach (int d in SweepDecodeThreads)
                    foreach (int b in SweepBatches)
                    {
                        progress.Report("decode threads x batch", sweepDone, sweepTotal, "runs", $"{d} decode thread(s), batch {b}");
                        sweepRuns.Add(new PyTorchSweepRun(d, b, RunTorchSharp(worker, ComparisonWorkload.EndToEnd, inputs, settings, d, b).Rate));
                        progress.Report("decode threads x batch", ++sweepDone, sweepTotal, "runs");
                    }
        }
        return new PyTorchBenchResult(settings, inputs, torchVersion, loadBefore, MachineLoad.Average(), agreement, runs, sweepRuns, stageRuns);
    }

    private static PyTorchStageRun StagesTorchSharp(WorkerLauncher worker, ComparisonInputs inputs, PyTorchBenchSettings settings)
    {
        var (_, detail) = RunTorchSharp(worker, ComparisonWorkload.Stages, inputs, settings, null, settings.Batch);
        var stages = JsonSerializer.Deserialize<Dictionary<string, double[]>>(detail)
                     ?? throw new InvalidOperationException("the TorchSharp stage profile printed no stages");
        return new PyTorchStageRun(TorchSharpSide, stages);
    }

    private static PyTorchStageRun StagesPyTorch(ComparisonInputs inputs, PyTorchBenchSettings settings)
    {
        var (code, stdout, stderr) = Execute(settings.Python, [settings.Script, "--weights", inputs.Weights, "--threads", Text(settings.Threads),
            "--batch", Text(settings.Batch), "--size", Text(inputs.ImageSize), "--mode", "stages", "--input", inputs.Pixels,
            "--repeats", Text(settings.Passes)]);
        if (code != 0) throw new InvalidOperationException($"PyTorch stage profile failed: {stderr}");
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var stages = json.RootElement.GetProperty("stages").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => v.GetDouble()).ToArray());
        return new PyTorchStageRun(PyTorchSide, stages);
    }

    private static PyTorchComparison.CodeAgreement[] CompareCodes(PyTorchBenchSettings settings, ComparisonInputs inputs)
    {
        string prefix = Path.Combine(inputs.Folder, "pytorch-codes");
        var (code, _, stderr) = Execute(settings.Python, [settings.Script, "--mode", "infer", "--weights", inputs.Weights, "--input", inputs.Pixels,
            "--threads", Text(settings.Threads), "--batch", Text(settings.Batch), "--repeats", "0", "--codes-out", prefix]);
        if (code != 0) throw new InvalidOperationException($"PyTorch codes run failed: {stderr}");
        var (global, local) = PyTorchComparison.Codes(inputs, settings.Batch);
        return
        [
            PyTorchComparison.Compare(global, NpyFile.ReadFloat32(prefix + ".global.npy").Data),
            PyTorchComparison.Compare(local, NpyFile.ReadFloat32(prefix + ".local.npy").Data),
        ];
    }

    /// <summary>The worker's arguments for one TorchSharp run (what <c>bench pytorch-worker</c> parses).</summary>
    public static List<string> WorkerArguments(ComparisonWorkload workload, ComparisonInputs inputs, PyTorchBenchSettings settings, int? decodeThreads, int batch)
    {
        var args = new List<string> { "--workload", workload.ToString(), "--folder", inputs.Folder,
            "--threads", Text(settings.Threads), "--batch", Text(batch), "--repeats", Text(settings.Passes), "--steps", Text(settings.StepsFor(workload)),
            "--warmup", Text(settings.WarmupFor(workload)) };
        if (decodeThreads is int d) args.AddRange(["--decode-threads", Text(d)]);
        return args;
    }

    private static (double Rate, string Detail) RunTorchSharp(WorkerLauncher worker, ComparisonWorkload workload, ComparisonInputs inputs,
        PyTorchBenchSettings settings, int? decodeThreads, int batch)
    {
        var (code, stdout, stderr) = Execute(worker.Program, [.. worker.Arguments, .. WorkerArguments(workload, inputs, settings, decodeThreads, batch)]);
        if (code != 0) throw new InvalidOperationException($"TorchSharp benchmark worker ({workload}) failed: {stderr}");
        var lines = stdout.Trim().Split('\n');
        return (double.Parse(lines[^1], CultureInfo.InvariantCulture), lines.Length > 1 ? lines[^2].Trim() : "");
    }

    private static (double Rate, string Detail) RunPyTorch(ComparisonWorkload workload, ComparisonInputs inputs, PyTorchBenchSettings settings, string side)
    {
        var args = new List<string> { settings.Script, "--weights", inputs.Weights, "--threads", Text(settings.Threads),
            "--batch", Text(settings.Batch), "--size", Text(inputs.ImageSize) };
        switch (workload)
        {
            case ComparisonWorkload.Inference: args.AddRange(["--mode", "infer", "--input", inputs.Pixels, "--repeats", Text(settings.Passes)]); break;
            case ComparisonWorkload.TrainHeads:
            case ComparisonWorkload.TrainLayer4:
                args.AddRange(["--mode", workload == ComparisonWorkload.TrainHeads ? "train-heads" : "train-layer4",
                    "--input", workload == ComparisonWorkload.TrainHeads ? inputs.Features : inputs.TrainPixels,
                    "--steps", Text(settings.StepsFor(workload)), "--warmup", Text(settings.WarmupFor(workload))]);
                break;
            case ComparisonWorkload.EndToEnd:
                var pipeline = EndToEndPipelines.Single(p => p.Side == side);
                args.AddRange(["--mode", "e2e", "--images", inputs.Images, "--workers", Text(pipeline.Workers)]);
                if (pipeline.Draft) args.Add("--draft");
                break;
        }
        var (code, stdout, stderr) = Execute(settings.Python, args);
        if (code != 0) throw new InvalidOperationException($"PyTorch benchmark ({workload}) failed: {stderr}");
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return (json.RootElement.GetProperty("rate").GetDouble(), "");
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs <paramref name="program"/> to its end; exit code -1 when it cannot start.</summary>
    private static (int Code, string Stdout, string Stderr) Execute(string program, IEnumerable<string> args)
    {
        try
        {
            var result = ExternalProcess.Run(program, args);
            return (result.ExitCode, result.StandardOutput, result.StandardError);
        }
        catch (FileNotFoundException e)
        {
            return (-1, "", e.Message);
        }
    }

    /// <summary>The LibTorch release TorchSharp runs on, as TorchSharp reports it (<c>torch.__version__</c>), and its device.</summary>
    private static string LibTorchVersion()
    {
        string version = Version.TryParse(TorchSharp.torch.__version__, out var v) ? v.ToString(3) : TorchSharp.torch.__version__;
        return $"{version}, {(TorchSharp.torch.cuda.is_available() ? "CUDA" : "CPU")}";
    }

    /// <summary>How the TorchSharp side decodes JPEG files in this process (MLH_JPEG_DECODE, section 1.4).</summary>
    private static string DecodingText() => ImageLoadOptions.Default.JpegDecoding == JpegDecoding.Reduced
        ? "JPEG files decoded at libjpeg-turbo's reduced n/8 scale through SkiaSharp where the size allows, ImageSharp otherwise (MLH_JPEG_DECODE=reduced, the default)"
        : "ImageSharp decoding of every pixel (MLH_JPEG_DECODE=full)";

    private static string F(double v) => v.ToString(v >= 100 ? "0.0" : "0.00", CultureInfo.InvariantCulture);

    private static string G(double v) => v.ToString("G", CultureInfo.InvariantCulture);

    /// <summary>The Markdown report of <paramref name="result"/>: set-up, medians and ratios, every run, code agreement, sweep.</summary>
    public static string Report(PyTorchBenchResult result)
    {
        var (s, inputs, runs, sweepRuns) = (result.Settings, result.Inputs, result.Runs, result.SweepRuns);
        var info = StateDictFile.ReadInfo(inputs.Weights);
        var architecture = info.Architecture;
        var loss = TrainingConfig.Full;
        var features = PyTorchComparison.FeatureShape(inputs);
        var sb = new StringBuilder();
        int jpegs = Directory.GetFiles(inputs.Images, "*.jpg").Length;
        string model = s.Checkpoint is null
            ? $"ImageNet {architecture.Backbone} (CNTK export) + global head ({architecture.GlobalBits} bits) + local head ({architecture.LocalBits} bits), heads seeded"
            : $"the {architecture.Backbone} DSCNN of `{Path.GetFileName(s.Checkpoint)}`: global head ({architecture.GlobalBits} bits) + local head ({architecture.LocalBits} bits)";
        sb.AppendLine("# DSCNN throughput: TorchSharp against PyTorch");
        sb.AppendLine();
        // The command that made this report, so that rerunning it repeats the measurement.
        sb.AppendLine($"Regenerate: `dotnet run --project lib/MultiLevelHashing.Cli -c Release -- bench pytorch --repeats {s.Repeats}{(s.Sweep ? " --sweep" : "")}` (lib/MultiLevelHashing/README.md section 4.4).");
        sb.AppendLine();
        sb.AppendLine($"- machine: {MachineLoad.CpuModel()}, {Environment.ProcessorCount} cores, {MachineLoad.OperatingSystem()}; " +
                      $"load average {result.LoadBefore} before, {result.LoadAfter} after (1, 5, 15 min). {MachineLoad.Note(result.LoadBefore)} The sides alternate which goes first and the table gives medians.");
        sb.AppendLine($"- TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version} (LibTorch {LibTorchVersion()}) on .NET {Environment.Version}; PyTorch {result.TorchVersion} (`{s.Python}`).");
        sb.AppendLine($"- the same network and weights on both sides: {model}, exported by the library as `{Path.GetFileName(inputs.Weights)}` and loaded by `tests/MultiLevelHashing.Benchmarks/pytorch/dscnn_benchmark.py`; " +
                      $"input {inputs.ImageSize} x {inputs.ImageSize}, {s.Threads} intra-op thread(s) on both sides, each run a fresh process, {s.Repeats} runs per side and row.");
        sb.AppendLine($"- inference: {s.Images} images decoded once by the library (the same uint8 bytes on both sides), batch {s.Batch}, {s.Passes} timed passes after one warm-up pass. " +
                      $"Training: pairs (2i, 2i+1), the Full preset's loss (alpha {G(loss.Alpha)}, beta {G(loss.Beta)}, gamma {G(loss.Gamma)}, m = {G(loss.MarginPerBit)}K) " +
                      $"and optimizer ({loss.Optimizer}, lr {G(loss.LearningRate)}, weight decay {G(loss.WeightDecay)}); " +
                      $"heads only: {s.HeadsPairs} pairs on cached maps F ({features.Images} x {features.Channels} x {features.Height} x {features.Width}), {s.StepsFor(ComparisonWorkload.TrainHeads)} timed steps after {s.WarmupFor(ComparisonWorkload.TrainHeads)} warm-up steps; " +
                      $"layer4 + heads: {s.Layer4Pairs} pairs ({2 * s.Layer4Pairs} images through the whole backbone, layer4 and heads trained, batch norm statistics kept), {s.StepsFor(ComparisonWorkload.TrainLayer4)} timed steps after {s.WarmupFor(ComparisonWorkload.TrainLayer4)} warm-up step.");
        sb.AppendLine($"- end to end: {jpegs} JPEG files (the {jpegs / 2} photos of data/photos and their mirror images, longer side 1024 px like Oxford/Paris, quality 90) to packed codes, batch {s.Batch}. " +
                      $"TorchSharp: the library's encoding pipeline ({DecodingText()} and bicubic resizing on the default decode threads and schedule: on the CPU, decoding " +
                      "uses every core between forward passes and pauses during them (lib/MultiLevelHashing/README.md section 1.4); bounded channel, network on the calling thread); " +
                      "PyTorch: a DataLoader with 1 worker process (PIL decoding, bicubic resize) feeding the network, the same with 2 workers (PyTorch's standard pipeline, the aim's reference), " +
                      "and 2 workers with PIL's reduced-scale decoding (`Image.draft`). The decoders resize differently, so end-to-end codes are not compared; inference codes are.");
        sb.AppendLine();
        var medians = new MarkdownTable(["row", "unit", "TorchSharp (median)", "PyTorch (median)", "ratio TorchSharp / PyTorch", "target", "met"]);
        double Med(ComparisonWorkload w, string side) => Statistics.Median(runs.Where(x => x.Workload == w && x.Side == side).Select(x => x.Rate));
        foreach (var row in Rows)
        {
            double ours = Med(row.Workload, TorchSharpSide), theirs = Med(row.Workload, PyTorchSide);
            double ratio = ours / theirs;
            string met = row.Target > 0 ? (ratio >= row.Target ? "yes" : $"no ({(1 - ratio / row.Target) * 100:0.0}% short)") : "-";
            medians.Row([row.Name, row.Unit, F(ours), F(theirs), $"{ratio:0.00}", row.TargetText, met]);
        }
        double e2e = Med(ComparisonWorkload.EndToEnd, TorchSharpSide), inference = Med(ComparisonWorkload.Inference, TorchSharpSide);
        foreach (var (side, _, draft) in EndToEndPipelines.Skip(1))
        {
            if (!runs.Any(x => x.Workload == ComparisonWorkload.EndToEnd && x.Side == side)) continue;
            double ratio = e2e / Med(ComparisonWorkload.EndToEnd, side);
            string target = draft ? "-" : $">= {EndToEndTarget:0.00}";
            string met = draft ? "-" : ratio >= EndToEndTarget ? "yes" : $"no ({(1 - ratio / EndToEndTarget) * 100:0.0}% short)";
            medians.Row([$"end to end against {side}", "img/s", F(e2e), F(Med(ComparisonWorkload.EndToEnd, side)), $"{ratio:0.00}", target, met]);
        }
        double share = e2e / inference;
        medians.Row(["end to end / inference, TorchSharp", "-", $"{share * 100:0.0}%",
            $"{Med(ComparisonWorkload.EndToEnd, PyTorchSide) / Med(ComparisonWorkload.Inference, PyTorchSide) * 100:0.0}%", "-", ">= 80%",
            share >= 0.8 ? "yes" : $"no ({(0.8 - share) * 100:0.0} points short)"]);
        sb.Append(medians);
        sb.AppendLine();
        sb.AppendLine("All runs (img/s or steps/s, in the order they ran):");
        sb.AppendLine();
        var allRuns = new MarkdownTable(["row", "TorchSharp", "PyTorch"]);
        foreach (var row in Rows)
            allRuns.Row([row.Name, string.Join(" ", runs.Where(x => x.Workload == row.Workload && x.Side == TorchSharpSide).Select(x => F(x.Rate))),
                string.Join(" ", runs.Where(x => x.Workload == row.Workload && x.Side == PyTorchSide).Select(x => F(x.Rate)))]);
        foreach (var (side, _, _) in EndToEndPipelines.Skip(1).Where(p => runs.Any(x => x.Side == p.Side)))
            allRuns.Row([$"end to end, {side}", "", string.Join(" ", runs.Where(x => x.Side == side).Select(x => F(x.Rate)))]);
        sb.Append(allRuns);
        var spreads = runs.GroupBy(x => (x.Workload, x.Side)).Where(g => g.Count() > 1)
            .Select(g => (Name: $"{Rows.Single(r => r.Workload == g.Key.Workload).Name}, {g.Key.Side}", Ratio: g.Max(x => x.Rate) / g.Min(x => x.Rate))).ToList();
        if (spreads.Count > 0)
        {
            var widest = spreads.MaxBy(x => x.Ratio);
            sb.AppendLine();
            sb.AppendLine($"How much single runs vary: the fastest run of a row and side is up to {widest.Ratio:0.00}x its slowest ({widest.Name}); " +
                          $"the median over rows and sides is {Statistics.Median(spreads.Select(x => x.Ratio)):0.00}x. A ratio of medians closer to its target than that is within the noise of this machine.");
        }
        sb.AppendLine();
        var e2eRuns = runs.Where(x => x.Workload == ComparisonWorkload.EndToEnd && x.Side == TorchSharpSide).OrderBy(x => x.Rate).ToList();
        if (e2eRuns.Count > 0)
        {
            sb.AppendLine("Where the time of the median TorchSharp end-to-end run went (the pipeline's own timings; decoding includes resizing, and " +
                          "its seconds are summed over the decoding threads):");
            sb.AppendLine();
            sb.AppendLine($"    {e2eRuns[e2eRuns.Count / 2].Detail}");
            sb.AppendLine();
        }
        if (result.StageRuns is { Count: > 0 } stageRuns)
        {
            sb.AppendLine($"The forward pass stage by stage (inference, batch {s.Batch}, {s.Threads} thread(s); milliseconds per batch, the median over " +
                          $"every timed pass of {stageRuns.Count / 2} interleaved runs per side; `PyTorchComparison.ProfileStages` and `dscnn_benchmark.py --mode stages` " +
                          "time the same stages of the same module tree, each a stopwatch around synchronous CPU work):");
            sb.AppendLine();
            var byStage = new MarkdownTable(["stage", "TorchSharp ms", "PyTorch ms", "ratio TorchSharp / PyTorch", "share of TorchSharp's pass"]);
            double StageMedian(string side, string stage) =>
                Statistics.Median(stageRuns.Where(x => x.Side == side && x.Milliseconds.ContainsKey(stage)).SelectMany(x => x.Milliseconds[stage]));
            var stageNames = PyTorchComparison.StageNames;
            double[] ours = [.. stageNames.Select(n => StageMedian(TorchSharpSide, n))], theirs = [.. stageNames.Select(n => StageMedian(PyTorchSide, n))];
            double oursTotal = ours.Sum(), theirsTotal = theirs.Sum();
            for (int i = 0; i < stageNames.Length; i++)
                byStage.Row([stageNames[i], $"{ours[i]:0.00}", $"{theirs[i]:0.00}", $"{ours[i] / theirs[i]:0.00}", $"{100 * ours[i] / oursTotal:0.0}%"]);
            byStage.Row(["sum of the stages", $"{oursTotal:0.00}", $"{theirsTotal:0.00}", $"{oursTotal / theirsTotal:0.00}", "100%"]);
            sb.Append(byStage.ToString());
            sb.AppendLine();
        }
        string[] names = [$"global ({architecture.GlobalBits} bits)", $"local ({architecture.LocalBits} bits)"];
        sb.AppendLine($"Codes of the {s.Images} inference images, TorchSharp against PyTorch (same weights, same bytes):");
        sb.AppendLine();
        var agreement = new MarkdownTable(["code", "values", "max abs difference of u", "bits that differ", "largest \\|u\\| at a differing bit"]);
        for (int i = 0; i < result.Agreement.Length; i++)
        {
            var a = result.Agreement[i];
            agreement.Row([names[i], $"{a.BitsCompared}", $"{a.MaxAbsDifference:0.0e+0}", $"{a.BitsDiffering}",
                a.BitsDiffering > 0 ? a.MaxAbsAtDifferingBit.ToString("0.0e+0", CultureInfo.InvariantCulture) : "-"]);
        }
        sb.Append(agreement);
        if (sweepRuns.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine($"End-to-end encoding, TorchSharp, by decode threads and batch size ({s.Threads} LibTorch threads; median of {sweepRuns.Count / (SweepDecodeThreads.Length * SweepBatches.Length)} runs; img/s). Read it with the pipeline's waiting time above: while the network thread does not wait for images, more decode threads only take cores from the forward pass:");
            sb.AppendLine();
            var batches = sweepRuns.Select(x => x.Batch).Distinct().Order().ToList();
            var sweep = new MarkdownTable(["decode threads", .. batches.Select(b => $"batch {b}")]);
            foreach (int d in sweepRuns.Select(x => x.DecodeThreads).Distinct().Order())
                sweep.Row([$"{d}", .. batches.Select(b => F(Statistics.Median(sweepRuns.Where(x => x.DecodeThreads == d && x.Batch == b).Select(x => x.Rate))))]);
            sb.Append(sweep);
        }
        return sb.ToString().Replace("\r\n", "\n");
    }

    /// <summary>Every run as tab-separated values (row, side, decode threads, batch, rate), the sweep's as row <c>EndToEndSweep</c>.</summary>
    public static string RunsTsv(PyTorchBenchResult result)
    {
        var sb = new StringBuilder("row\tside\tdecode_threads\tbatch\trate\n");
        foreach (var r in result.Runs) sb.Append($"{r.Workload}\t{r.Side}\t\t\t{r.Rate.ToString("R", CultureInfo.InvariantCulture)}\n");
        foreach (var r in result.SweepRuns) sb.Append($"EndToEndSweep\t{TorchSharpSide}\t{r.DecodeThreads}\t{r.Batch}\t{r.Rate.ToString("R", CultureInfo.InvariantCulture)}\n");
        return sb.ToString();
    }
}
