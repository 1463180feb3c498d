using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using Spectre.Console;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh bench pytorch</c>: the same DSCNN, weights, inputs and thread count in TorchSharp and in PyTorch, each run a
/// fresh process, the two sides interleaved, medians and ratios (lib/MultiLevelHashing/README.md section 4.4).
/// </summary>
public static class PyTorchBenchCommand
{
    private const string DefaultPython = "/usr/bin/python3";
    private const string InstallCommand = "apt-get update && apt-get install -y python3-torch python3-pil";

    private sealed record Row(ComparisonWorkload Workload, string Name, string Unit, double Target, string TargetText);

    private static readonly Row[] Rows =
    [
        new(ComparisonWorkload.Inference, "inference (decoded images)", "img/s", 1.0, ">= 1.00"),
        new(ComparisonWorkload.TrainHeads, "training, heads only (cached maps)", "steps/s", 0.95, ">= 0.95"),
        new(ComparisonWorkload.TrainLayer4, "training, layer4 + heads", "steps/s", 0.95, ">= 0.95"),
        new(ComparisonWorkload.EndToEnd, "end to end from JPEG files", "img/s", 0.0, "-"),
    ];

    public static Command Create()
    {
        var threads = new Option<int>("--threads") { Description = "LibTorch intra-op threads on both sides", DefaultValueFactory = _ => Environment.ProcessorCount };
        var batch = new Option<int>("--batch") { Description = "images per forward batch (inference and end to end)", DefaultValueFactory = _ => 16 };
        var repeats = new Option<int>("--repeats") { Description = "interleaved runs per side and row", DefaultValueFactory = _ => 3 };
        var images = new Option<int>("--images") { Description = "decoded images per inference run", DefaultValueFactory = _ => 32 };
        var passes = new Option<int>("--passes") { Description = "timed inference passes over the images, after one warm-up pass", DefaultValueFactory = _ => 2 };
        var headsPairs = new Option<int>("--heads-pairs") { Description = "pairs per heads-only training step (the Full preset's 64)", DefaultValueFactory = _ => 64 };
        var layer4Pairs = new Option<int>("--layer4-pairs") { Description = "pairs per layer4 + heads training step", DefaultValueFactory = _ => 16 };
        var steps = new Option<int>("--steps") { Description = "timed training steps per run (heads-only runs take 10 times as many)", DefaultValueFactory = _ => 2 };
        var sweep = new Option<bool>("--sweep") { Description = "also time end-to-end encoding over decode threads x batch sizes (the measurement behind the defaults)" };
        var checkpoint = new Option<FileInfo?>("--checkpoint") { Description = "benchmark this trained ResNet18 model (default: ImageNet backbone with seeded heads)" };
        var python = new Option<string>("--python") { Description = "Python with PyTorch", DefaultValueFactory = _ => DefaultPython };
        var output = new Option<FileInfo?>("--output") { Description = "results table (default tests/MultiLevelHashing.Benchmarks/results/pytorch.md; .tsv beside it)" };
        var install = new Option<bool>("--no-install") { Description = $"do not run '{InstallCommand}' when PyTorch is missing" };
        var command = new Command("pytorch",
            "The DSCNN in TorchSharp against the same network in PyTorch: inference, training (heads only; layer4 + heads) and " +
            "end-to-end encoding from JPEG files; same weights (mlh export), inputs and threads, interleaved runs, medians, ratios, code agreement.")
        { threads, batch, repeats, images, passes, headsPairs, layer4Pairs, steps, sweep, checkpoint, python, output, install };
        command.SetAction(parse =>
        {
            string root = RepositoryLayout.FindRoot();
            var settings = new Settings(parse.GetValue(threads), parse.GetValue(batch), parse.GetValue(repeats), parse.GetValue(images),
                parse.GetValue(passes), parse.GetValue(headsPairs), parse.GetValue(layer4Pairs), parse.GetValue(steps), parse.GetValue(python)!,
                Path.Combine(root, "tests", "MultiLevelHashing.Benchmarks", "pytorch", "dscnn_benchmark.py"));
            if (settings.Threads < 1 || settings.Batch < 1 || settings.Repeats < 1 || settings.Images < 1 || settings.Passes < 1 || settings.HeadsPairs < 1
                || settings.Layer4Pairs < 1 || settings.Steps < 1)
                throw new UserInputException("--threads, --batch, --repeats, --images, --passes, --heads-pairs, --layer4-pairs and --steps must be at least 1");
            string target = parse.GetValue(output)?.FullName ?? Path.Combine(root, "tests", "MultiLevelHashing.Benchmarks", "results", "pytorch.md");
            string torchVersion = EnsurePyTorch(settings, !parse.GetValue(install));
            string load = LoadAverage();
            var work = Path.Combine(RepositoryLayout.ArtifactsDirectory(root), "bench", "pytorch");
            var inputs = ConsoleProgress.Run(progress =>
            {
                progress.Report("prepare inputs", 0, 1, "steps");
                var prepared = PyTorchComparison.Prepare(work, RepositoryLayout.PhotosDirectory(), 160, settings.Images,
                    2 * settings.Layer4Pairs, 2 * settings.HeadsPairs, parse.GetValue(checkpoint)?.FullName);
                progress.Report("prepare inputs", 1, 1, "steps");
                return prepared;
            });
            var agreement = CompareCodes(settings, inputs);
            var runs = new List<(Row Row, string Side, double Rate, string Detail)>();
            var sweepRuns = new List<(int DecodeThreads, int Batch, double Rate)>();
            ConsoleProgress.Run(progress =>
            {
                int total = settings.Repeats * Rows.Length * 2, done = 0;
                for (int r = 0; r < settings.Repeats; r++)
                {
                    foreach (var row in Rows)
                    {
                        // Alternate which side goes first, so drift in the machine's load falls on both.
                        var sides = r % 2 == 0 ? new[] { "TorchSharp", "PyTorch" } : new[] { "PyTorch", "TorchSharp" };
                        foreach (string side in sides)
                        {
                            progress.Report("interleaved runs", done, total, "runs", $"{row.Name}, {side}");
                            var (rate, detail) = side == "TorchSharp" ? RunCSharp(row.Workload, inputs, settings, null, settings.Batch)
                                                                      : RunPython(row.Workload, inputs, settings);
                            runs.Add((row, side, rate, detail));
                            progress.Report("interleaved runs", ++done, total, "runs");
                        }
                    }
                }
                if (!parse.GetValue(sweep)) return;
                int[] decodeChoices = [1, 2];
                int[] batchChoices = [8, 16, 32];
                int sweepTotal = 2 * decodeChoices.Length * batchChoices.Length, sweepDone = 0;
                for (int r = 0; r < 2; r++)
                    foreach (int d in decodeChoices)
                        foreach (int b in batchChoices)
                        {
                            progress.Report("decode threads x batch", sweepDone, sweepTotal, "runs", $"{d} decode thread(s), batch {b}");
                            sweepRuns.Add((d, b, RunCSharp(ComparisonWorkload.EndToEnd, inputs, settings, d, b).Rate));
                            progress.Report("decode threads x batch", ++sweepDone, sweepTotal, "runs");
                        }
            });
            string table = Report(settings, inputs, torchVersion, load, LoadAverage(), agreement, runs, sweepRuns);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            AtomicFile.WriteAllText(target, table);
            AtomicFile.WriteAllText(Path.ChangeExtension(target, ".tsv"), RunsTsv(runs, sweepRuns));
            System.Console.WriteLine(table);
            System.Console.WriteLine($"written: {target} and {Path.ChangeExtension(target, ".tsv")}");
            return 0;
        });
        return command;
    }

    /// <summary><c>mlh bench pytorch-worker</c>: one timed TorchSharp run in a fresh process, as the Python side runs.</summary>
    public static Command Worker()
    {
        var workload = new Option<ComparisonWorkload>("--workload") { Required = true };
        var folder = new Option<string>("--folder") { Required = true };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 16 };
        var repeats = new Option<int>("--repeats") { DefaultValueFactory = _ => 2 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 2 };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 1 };
        var decodeThreads = new Option<int?>("--decode-threads");
        var command = new Command("pytorch-worker", "One timed TorchSharp run of the PyTorch comparison (used by 'bench pytorch').")
        { workload, folder, threads, batch, repeats, steps, warmup, decodeThreads };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            var inputs = InputsIn(parse.GetValue(folder)!);
            var kind = parse.GetValue(workload);
            int steps_ = parse.GetValue(steps);
            double rate = PyTorchComparison.Run(kind, inputs, parse.GetValue(threads), parse.GetValue(batch), parse.GetValue(repeats),
                steps_, parse.GetValue(warmup), parse.GetValue(decodeThreads), out string detail);
            System.Console.WriteLine(detail);
            System.Console.WriteLine(rate.ToString("R", CultureInfo.InvariantCulture));
            return 0;
        });
        return command;
    }

    private sealed record Settings(int Threads, int Batch, int Repeats, int Images, int Passes, int HeadsPairs, int Layer4Pairs, int Steps,
        string Python, string Script)
    {
        // Heads-only steps are short, so they run ten times as many for a comparable measuring time.
        public int StepsFor(ComparisonWorkload workload) => workload == ComparisonWorkload.TrainHeads ? 10 * Steps : Steps;

        public int WarmupFor(ComparisonWorkload workload) => workload == ComparisonWorkload.TrainHeads ? 2 : 1;
    }

    private static ComparisonInputs InputsIn(string folder) => new(folder, Path.Combine(folder, "dscnn.safetensors"), Path.Combine(folder, "jpg"),
        Path.Combine(folder, "pixels.npy"), Path.Combine(folder, "train-pixels.npy"), Path.Combine(folder, "features.npy"), 160);

    private static string EnsurePyTorch(Settings settings, bool install)
    {
        var (code, stdout, stderr) = Execute(settings.Python, [settings.Script, "--mode", "check"]);
        if (code == 3 || code == -1)
        {
            if (!install)
                throw new UserInputException($"{settings.Python}: PyTorch is missing ({stderr.Trim()}); install it with: {InstallCommand}");
            System.Console.WriteLine($"PyTorch missing for {settings.Python}; running: {InstallCommand}");
            var (aptCode, _, aptErr) = Execute("/bin/sh", ["-c", (Environment.UserName == "root" ? "" : "sudo -n ") + InstallCommand.Replace("&&", "&& " + (Environment.UserName == "root" ? "" : "sudo -n "))]);
            if (aptCode != 0)
                throw new UserInputException($"could not install PyTorch ({aptErr.Trim().Split('\n')[^1]}); run as root: {InstallCommand}");
            (code, stdout, stderr) = Execute(settings.Python, [settings.Script, "--mode", "check"]);
        }
        if (code != 0) throw new UserInputException($"{settings.Script}: the PyTorch side failed its check: {stderr.Trim()}");
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return json.RootElement.GetProperty("torch").GetString()!;
    }

    private static PyTorchComparison.CodeAgreement[] CompareCodes(Settings settings, ComparisonInputs inputs)
    {
        string prefix = Path.Combine(inputs.Folder, "pytorch-codes");
        var (code, _, stderr) = Execute(settings.Python, [settings.Script, "--mode", "infer", "--weights", inputs.Weights, "--input", inputs.Pixels,
            "--threads", settings.Threads.ToString(), "--batch", settings.Batch.ToString(), "--repeats", "0", "--codes-out", prefix]);
        if (code != 0) throw new InvalidOperationException($"PyTorch codes run failed: {stderr}");
        var (global, local) = PyTorchComparison.Codes(inputs, settings.Batch);
        return
        [
            PyTorchComparison.Compare(global, NpyFile.ReadFloat32(prefix + ".global.npy").Data),
            PyTorchComparison.Compare(local, NpyFile.ReadFloat32(prefix + ".local.npy").Data),
        ];
    }

    private static (double Rate, string Detail) RunCSharp(ComparisonWorkload workload, ComparisonInputs inputs, Settings settings, int? decodeThreads, int batch)
    {
        var args = new List<string> { "bench", "pytorch-worker", "--workload", workload.ToString(), "--folder", inputs.Folder,
            "--threads", settings.Threads.ToString(), "--batch", batch.ToString(), "--repeats", settings.Passes.ToString(), "--steps", settings.StepsFor(workload).ToString(),
            "--warmup", settings.WarmupFor(workload).ToString() };
        if (decodeThreads is int d) { args.Add("--decode-threads"); args.Add(d.ToString()); }
        string self = Environment.ProcessPath!;
        // Under `dotnet mlh.dll` the process path is dotnet itself; pass the entry assembly along.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") args.Insert(0, typeof(PyTorchBenchCommand).Assembly.Location);
        var (code, stdout, stderr) = Execute(self, args);
        if (code != 0) throw new InvalidOperationException($"TorchSharp benchmark worker ({workload}) failed: {stderr}");
        var lines = stdout.Trim().Split('\n');
        return (double.Parse(lines[^1], CultureInfo.InvariantCulture), lines.Length > 1 ? lines[^2].Trim() : "");
    }

    private static (double Rate, string Detail) RunPython(ComparisonWorkload workload, ComparisonInputs inputs, Settings settings)
    {
        var args = new List<string> { settings.Script, "--weights", inputs.Weights, "--threads", settings.Threads.ToString(),
            "--batch", settings.Batch.ToString(), "--size", inputs.ImageSize.ToString() };
        switch (workload)
        {
            case ComparisonWorkload.Inference: args.AddRange(["--mode", "infer", "--input", inputs.Pixels, "--repeats", settings.Passes.ToString()]); break;
            case ComparisonWorkload.TrainHeads:
            case ComparisonWorkload.TrainLayer4:
                args.AddRange(["--mode", workload == ComparisonWorkload.TrainHeads ? "train-heads" : "train-layer4",
                    "--input", workload == ComparisonWorkload.TrainHeads ? inputs.Features : inputs.TrainPixels,
                    "--steps", settings.StepsFor(workload).ToString(), "--warmup", settings.WarmupFor(workload).ToString()]);
                break;
            case ComparisonWorkload.EndToEnd: args.AddRange(["--mode", "e2e", "--images", inputs.Images, "--workers", "1"]); break;
        }
        var (code, stdout, stderr) = Execute(settings.Python, args);
        if (code != 0) throw new InvalidOperationException($"PyTorch benchmark ({workload}) failed: {stderr}");
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return (json.RootElement.GetProperty("rate").GetDouble(), "");
    }

    private static (int Code, string Stdout, string Stderr) Execute(string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout, stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, "", $"{program}: {e.Message}");
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>What the 1-minute load average before the runs says about the measurement.</summary>
    private static string LoadNote(string load) =>
        double.TryParse(load.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double oneMinute)
            ? oneMinute < 0.5 * Environment.ProcessorCount
                ? "Nothing else ran on the machine before the runs started."
                : $"The cores were shared with other work ({oneMinute.ToString("0.0", CultureInfo.InvariantCulture)} runnable tasks on average over the minute before), so single runs are noisy."
            : "The load of the machine is unknown.";

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string CpuModel() => File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
        : "unknown";

    private static string F(double v) => v.ToString(v >= 100 ? "0.0" : "0.00", CultureInfo.InvariantCulture);

    private static string Report(Settings s, ComparisonInputs inputs, string torchVersion, string loadBefore, string loadAfter,
        PyTorchComparison.CodeAgreement[] agreement, List<(Row Row, string Side, double Rate, string Detail)> runs,
        List<(int DecodeThreads, int Batch, double Rate)> sweepRuns)
    {
        var sb = new StringBuilder();
        int jpegs = Directory.GetFiles(inputs.Images, "*.jpg").Length;
        sb.AppendLine("# DSCNN throughput: TorchSharp against PyTorch");
        sb.AppendLine();
        sb.AppendLine("Regenerate: `dotnet run --project lib/MultiLevelHashing.Cli -c Release -- bench pytorch --sweep` (lib/MultiLevelHashing/README.md section 4.4).");
        sb.AppendLine();
        sb.AppendLine($"- machine: {CpuModel()}, {Environment.ProcessorCount} cores, {(File.Exists("/etc/debian_version") ? "Debian " + File.ReadAllText("/etc/debian_version").Trim() : Environment.OSVersion.ToString())}; " +
                      $"load average {loadBefore} before, {loadAfter} after (1, 5, 15 min). {LoadNote(loadBefore)} The sides alternate which goes first and the table gives medians.");
        sb.AppendLine($"- TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version} (LibTorch 2.10.0, CPU) on .NET {Environment.Version}; PyTorch {torchVersion} (Debian python3-torch, `/usr/bin/python3`).");
        sb.AppendLine($"- the same network and weights on both sides: ImageNet ResNet18 (CNTK export) + global head (64 bits) + local head (256 bits), exported by the library as `{Path.GetFileName(inputs.Weights)}` and loaded by `tests/MultiLevelHashing.Benchmarks/pytorch/dscnn_benchmark.py`; " +
                      $"input {inputs.ImageSize} x {inputs.ImageSize}, {s.Threads} intra-op thread(s) on both sides, each run a fresh process, {s.Repeats} runs per side and row.");
        sb.AppendLine($"- inference: {s.Images} images decoded once by the library (the same uint8 bytes on both sides), batch {s.Batch}, {s.Passes} timed passes after one warm-up pass. " +
                      $"Training: pairs (2i, 2i+1), the Full preset's loss (alpha 0.01, beta 0.25, gamma 10, m = 2K) and AdamW (lr 3e-4, weight decay 0.05); " +
                      $"heads only: {s.HeadsPairs} pairs on cached maps F ({2 * s.HeadsPairs} x 512 x 5 x 5), {s.StepsFor(ComparisonWorkload.TrainHeads)} timed steps after {s.WarmupFor(ComparisonWorkload.TrainHeads)} warm-up steps; " +
                      $"layer4 + heads: {s.Layer4Pairs} pairs ({2 * s.Layer4Pairs} images through the whole backbone, layer4 and heads trained, batch norm statistics kept), {s.StepsFor(ComparisonWorkload.TrainLayer4)} timed steps after {s.WarmupFor(ComparisonWorkload.TrainLayer4)} warm-up step.");
        sb.AppendLine($"- end to end: {jpegs} JPEG files (the {jpegs / 2} photos of data/photos and their mirror images, longer side 1024 px like Oxford/Paris, quality 90) to packed codes, batch {s.Batch}. " +
                      "TorchSharp: the library's encoding pipeline (ImageSharp decoding and bicubic resizing on the default decode threads, bounded channel, network on the calling thread); " +
                      "PyTorch: a DataLoader with 1 worker process (PIL decoding, bicubic resize) feeding the network. The two decoders resize differently, so end-to-end codes are not compared; inference codes are.");
        sb.AppendLine();
        sb.AppendLine("| row | unit | TorchSharp (median) | PyTorch (median) | ratio TorchSharp / PyTorch | target | met |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        double Med(ComparisonWorkload w, string side) => Median(runs.Where(x => x.Row.Workload == w && x.Side == side).Select(x => x.Rate));
        foreach (var row in Rows)
        {
            double ours = Med(row.Workload, "TorchSharp"), theirs = Med(row.Workload, "PyTorch");
            double ratio = ours / theirs;
            string met = row.Target > 0 ? (ratio >= row.Target ? "yes" : $"no ({(1 - ratio / row.Target) * 100:0.0}% short)") : "-";
            sb.AppendLine($"| {row.Name} | {row.Unit} | {F(ours)} | {F(theirs)} | {ratio:0.00} | {row.TargetText} | {met} |");
        }
        double e2e = Med(ComparisonWorkload.EndToEnd, "TorchSharp"), inference = Med(ComparisonWorkload.Inference, "TorchSharp");
        double share = e2e / inference;
        sb.AppendLine($"| end to end / inference, TorchSharp | - | {share * 100:0.0}% | {Med(ComparisonWorkload.EndToEnd, "PyTorch") / Med(ComparisonWorkload.Inference, "PyTorch") * 100:0.0}% | - | >= 80% | {(share >= 0.8 ? "yes" : $"no ({(0.8 - share) * 100:0.0} points short)")} |");
        sb.AppendLine();
        sb.AppendLine("All runs (img/s or steps/s, in the order they ran):");
        sb.AppendLine();
        sb.AppendLine("| row | TorchSharp | PyTorch |");
        sb.AppendLine("|---|---|---|");
        foreach (var row in Rows)
            sb.AppendLine($"| {row.Name} | {string.Join(" ", runs.Where(x => x.Row == row && x.Side == "TorchSharp").Select(x => F(x.Rate)))} | " +
                          $"{string.Join(" ", runs.Where(x => x.Row == row && x.Side == "PyTorch").Select(x => F(x.Rate)))} |");
        sb.AppendLine();
        var e2eRuns = runs.Where(x => x.Row.Workload == ComparisonWorkload.EndToEnd && x.Side == "TorchSharp").OrderBy(x => x.Rate).ToList();
        if (e2eRuns.Count > 0)
        {
            sb.AppendLine("Where the time of the median TorchSharp end-to-end run went (the pipeline's own timings):");
            sb.AppendLine();
            sb.AppendLine($"    {e2eRuns[e2eRuns.Count / 2].Detail}");
            sb.AppendLine();
        }
        string[] names = ["global (64 bits)", "local (256 bits)"];
        sb.AppendLine($"Codes of the {s.Images} inference images, TorchSharp against PyTorch (same weights, same bytes):");
        sb.AppendLine();
        sb.AppendLine("| code | values | max abs difference of u | bits that differ | largest \\|u\\| at a differing bit |");
        sb.AppendLine("|---|---|---|---|---|");
        for (int i = 0; i < agreement.Length; i++)
        {
            var a = agreement[i];
            sb.AppendLine($"| {names[i]} | {a.BitsCompared} | {a.MaxAbsDifference:0.0e+0} | {a.BitsDiffering} | {(a.BitsDiffering > 0 ? a.MaxAbsAtDifferingBit.ToString("0.0e+0", CultureInfo.InvariantCulture) : "-")} |");
        }
        if (sweepRuns.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine($"End-to-end encoding, TorchSharp, by decode threads and batch size ({s.Threads} LibTorch threads; median of {sweepRuns.Count / 6} runs; img/s). Read it with the pipeline's waiting time above: while the network thread does not wait for images, more decode threads only take cores from the forward pass:");
            sb.AppendLine();
            var batches = sweepRuns.Select(x => x.Batch).Distinct().Order().ToList();
            sb.AppendLine("| decode threads | " + string.Join(" | ", batches.Select(b => $"batch {b}")) + " |");
            sb.AppendLine("|---|" + string.Concat(batches.Select(_ => "---|")));
            foreach (int d in sweepRuns.Select(x => x.DecodeThreads).Distinct().Order())
                sb.AppendLine($"| {d} | " + string.Join(" | ", batches.Select(b => F(Median(sweepRuns.Where(x => x.DecodeThreads == d && x.Batch == b).Select(x => x.Rate))))) + " |");
        }
        return sb.ToString().Replace("\r\n", "\n");
    }

    private static string RunsTsv(List<(Row Row, string Side, double Rate, string Detail)> runs, List<(int DecodeThreads, int Batch, double Rate)> sweepRuns)
    {
        var sb = new StringBuilder("row\tside\tdecode_threads\tbatch\trate\n");
        foreach (var r in runs) sb.Append($"{r.Row.Workload}\t{r.Side}\t\t\t{r.Rate.ToString("R", CultureInfo.InvariantCulture)}\n");
        foreach (var r in sweepRuns) sb.Append($"EndToEndSweep\tTorchSharp\t{r.DecodeThreads}\t{r.Batch}\t{r.Rate.ToString("R", CultureInfo.InvariantCulture)}\n");
        return sb.ToString();
    }
}
