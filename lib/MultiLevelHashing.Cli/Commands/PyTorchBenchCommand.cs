using System.CommandLine;
using System.Globalization;
using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh bench pytorch</c>: the same DSCNN, weights, inputs and thread count in TorchSharp and in PyTorch
/// (<see cref="PyTorchBenchmark"/>; lib/MultiLevelHashing/README.md section 4.4). It installs nothing.
/// </summary>
public static class PyTorchBenchCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var defaults = new PyTorchBenchSettings { Script = "" };
        var threads = new Option<int>("--threads") { Description = "LibTorch intra-op threads on both sides", DefaultValueFactory = _ => defaults.Threads };
        var batch = new Option<int>("--batch") { Description = "images per forward batch (inference and end to end)", DefaultValueFactory = _ => defaults.Batch };
        var repeats = new Option<int>("--repeats") { Description = "interleaved runs per side and row", DefaultValueFactory = _ => defaults.Repeats };
        var images = new Option<int>("--images") { Description = "decoded images per inference run", DefaultValueFactory = _ => defaults.Images };
        var passes = new Option<int>("--passes") { Description = "timed inference passes over the images, after one warm-up pass", DefaultValueFactory = _ => defaults.Passes };
        var headsPairs = new Option<int>("--heads-pairs") { Description = $"pairs per heads-only training step (the Full preset's {defaults.HeadsPairs})", DefaultValueFactory = _ => defaults.HeadsPairs };
        var layer4Pairs = new Option<int>("--layer4-pairs") { Description = "pairs per layer4 + heads training step", DefaultValueFactory = _ => defaults.Layer4Pairs };
        var steps = new Option<int>("--steps") { Description = "timed training steps per run (heads-only runs take 10 times as many)", DefaultValueFactory = _ => defaults.Steps };
        var sweep = new Option<bool>("--sweep") { Description = "also time end-to-end encoding over decode threads x batch sizes (the measurement behind the defaults)" };
        var stages = new Option<bool>("--stages")
        {
            Description = "time the forward pass stage by stage on both sides (padding, convolutions, stages, heads; on by default, --stages false leaves it out)",
            DefaultValueFactory = _ => true,
        };
        var checkpoint = new Option<FileInfo?>("--checkpoint") { Description = "benchmark this trained ResNet18 model (default: ImageNet backbone with seeded heads)" };
        var python = new Option<string>("--python") { Description = "Python with PyTorch (installed beforehand; the command installs nothing)", DefaultValueFactory = _ => defaults.Python };
        var outputFile = new Option<FileInfo?>("--output") { Description = "results table (default tests/MultiLevelHashing.Benchmarks/results/pytorch.md, its runs in notebooks/results/benchmarks/pytorch.tsv; " +
            "a given path gets its .tsv beside it)" };
        // Accepted for scripts written when the command could install PyTorch; it installs nothing now, so the option changes nothing.
        var noInstall = new Option<bool>("--no-install") { Hidden = true };
        var command = new Command("pytorch",
            "The DSCNN in TorchSharp against the same network in PyTorch: inference, training (heads only; layer4 + heads) and " +
            "end-to-end encoding from JPEG files; same weights (mlh export), inputs and threads, interleaved runs, medians, ratios, code agreement. " +
            $"Where PyTorch is missing it stops and prints the command that installs it: {PyTorchBenchmark.InstallCommand}")
        { threads, batch, repeats, images, passes, headsPairs, layer4Pairs, steps, sweep, stages, checkpoint, python, outputFile, noInstall };
        command.SetAction(parse =>
        {
            string root = RepositoryLayout.FindRoot();
            var settings = new PyTorchBenchSettings
            {
                Threads = parse.GetValue(threads), Batch = parse.GetValue(batch), Repeats = parse.GetValue(repeats), Images = parse.GetValue(images),
                Passes = parse.GetValue(passes), HeadsPairs = parse.GetValue(headsPairs), Layer4Pairs = parse.GetValue(layer4Pairs),
                Steps = parse.GetValue(steps), Sweep = parse.GetValue(sweep), Stages = parse.GetValue(stages), Checkpoint = parse.GetValue(checkpoint)?.FullName,
                Python = parse.GetValue(python)!, Script = RepositoryLayout.PyTorchBenchmarkScript(root),
            };
            string? chosen = parse.GetValue(outputFile)?.FullName;
            string target = chosen ?? Path.Combine(RepositoryLayout.BenchmarkResultsDirectory(root), "pytorch.md");
            // The committed runs go where notebook 08 reads them; a run written elsewhere keeps its table beside its report.
            string runs = chosen is null ? RepositoryLayout.PyTorchBenchmarkTable(root) : Path.ChangeExtension(target, ".tsv");
            string work = Path.Combine(RepositoryLayout.ArtifactsDirectory(root), "bench", "pytorch");
            var result = ConsoleProgress.Run(progress => PyTorchBenchmark.Run(settings, work, RepositoryLayout.PhotosDirectory(), SelfWorker.Launcher("bench", "pytorch-worker"), progress));
            string table = PyTorchBenchmark.Report(result);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            Directory.CreateDirectory(Path.GetDirectoryName(runs)!);
            AtomicFile.WriteAllText(target, table);
            AtomicFile.WriteAllText(runs, PyTorchBenchmark.RunsTsv(result));
            CommandOutput.Writer(output).WriteLine(table);
            CommandOutput.Writer(output).WriteLine($"written: {target} and {runs}");
            return 0;
        });
        return command;
    }

    /// <summary><c>mlh bench pytorch-worker</c>: one timed TorchSharp run in a fresh process, as the Python side runs.</summary>
    /// <param name="output">Where the command reports (default: standard output).</param>
    public static Command Worker(TextWriter? output = null)
    {
        var workload = new Option<ComparisonWorkload>("--workload") { Required = true };
        var folder = new Option<string>("--folder") { Required = true };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 16 };
        var repeats = new Option<int>("--repeats") { DefaultValueFactory = _ => 2 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 2 };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 1 };
        var decodeThreads = new Option<int?>("--decode-threads");
        var schedule = new Option<DecodeSchedule>("--decode-schedule") { DefaultValueFactory = _ => DecodeSchedule.Auto };
        var command = new Command("pytorch-worker", "One timed TorchSharp run of the PyTorch comparison (used by 'bench pytorch').")
        { workload, folder, threads, batch, repeats, steps, warmup, decodeThreads, schedule };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            var inputs = PyTorchComparison.InputsIn(parse.GetValue(folder)!);
            var kind = parse.GetValue(workload);
            int steps_ = parse.GetValue(steps);
            double rate = PyTorchComparison.Run(kind, inputs, parse.GetValue(threads), parse.GetValue(batch), parse.GetValue(repeats),
                steps_, parse.GetValue(warmup), parse.GetValue(decodeThreads), out string detail, parse.GetValue(schedule));
            CommandOutput.Writer(output).WriteLine(detail);
            CommandOutput.Writer(output).WriteLine(rate.ToString("R", CultureInfo.InvariantCulture));
            return 0;
        });
        return command;
    }
}
