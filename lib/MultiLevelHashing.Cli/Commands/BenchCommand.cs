using MultiLevelHashing.Benchmarks;
using System.CommandLine;
using System.Globalization;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Runtime;
using Spectre.Console;

namespace MultiLevelHashing.Cli.Commands;

/// <summary><c>mlh bench</c>: measurements reported as ratios against a peer in the same run.</summary>
public static class BenchCommand
{
    /// <summary>The command; what its subcommands report goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var command = new Command("bench", "Benchmarks that compare this toolkit against a peer in the same run.");
        command.Subcommands.Add(Allocator(output));
        command.Subcommands.Add(AllocatorWorker(output));
        command.Subcommands.Add(SearchBenchCommand.Create(output));
        command.Subcommands.Add(DecodeBenchCommand.Create(output));
        command.Subcommands.Add(PyTorchBenchCommand.Create(output));
        command.Subcommands.Add(PyTorchBenchCommand.Worker(output));
        return command;
    }

    private static Option<int> StepsOption() => new("--steps") { Description = "timed training steps per run", DefaultValueFactory = _ => 20 };
    private static Option<int> BatchOption() => new("--batch") { Description = "images per step", DefaultValueFactory = _ => 16 };
    private static Option<int> SizeOption() => new("--size") { Description = "image side in pixels", DefaultValueFactory = _ => 128 };

    private static Command Allocator(TextWriter? output)
    {
        var steps = StepsOption();
        var batch = BatchOption();
        var size = SizeOption();
        var repeats = new Option<int>("--repeats") { Description = "alternating runs per setting", DefaultValueFactory = _ => 3 };
        var command = new Command("allocator",
            "LibTorch training throughput with glibc's default malloc thresholds versus the raised ones the library sets at start-up. " +
            "Each run is a fresh process (the setting must precede the first allocation); settings alternate to spread machine noise.")
        { steps, batch, size, repeats };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(repeats);
            var rates = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
            ConsoleProgress.Run(progress =>
            {
                for (int i = 0; i < 2 * n; i++)
                {
                    bool tuned = i % 2 == 1;
                    progress.Report("allocator runs", i, 2 * n, "runs", tuned ? "raised thresholds" : "glibc defaults");
                    rates[tuned].Add(RunWorker(tuned, parse.GetValue(steps), parse.GetValue(batch), parse.GetValue(size)));
                    progress.Report("allocator runs", i + 1, 2 * n, "runs");
                }
            });
            double baseline = Statistics.Median(rates[false]), tunedRate = Statistics.Median(rates[true]);
            var table = new Table().AddColumns("malloc thresholds", "img/s (median)", "runs");
            table.AddRow("glibc defaults (MLH_MALLOC_TUNING=0)", baseline.ToString("0.0"), string.Join(" ", rates[false].Select(r => r.ToString("0.0"))));
            table.AddRow("raised (mmap 32 MiB, trim 1 GiB)", tunedRate.ToString("0.0"), string.Join(" ", rates[true].Select(r => r.ToString("0.0"))));
            CommandOutput.Console(output).Write(table);
            CommandOutput.Writer(output).WriteLine($"speedup: {tunedRate / baseline:0.00}x");
            return 0;
        });
        return command;
    }

    private static Command AllocatorWorker(TextWriter? output)
    {
        var steps = StepsOption();
        var batch = BatchOption();
        var size = SizeOption();
        var command = new Command("allocator-worker", "One timed run of the allocator benchmark in this process (used by 'bench allocator').")
        { steps, batch, size };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            double rate = AllocatorBenchmark.TrainingImagesPerSecond(parse.GetValue(steps), warmup: 3, parse.GetValue(batch), parse.GetValue(size));
            CommandOutput.Writer(output).WriteLine(rate.ToString("R", CultureInfo.InvariantCulture));
            return 0;
        });
        return command;
    }

    private static double RunWorker(bool tuned, int steps, int batch, int size)
    {
        var worker = SelfWorker.Launcher("bench", "allocator-worker");
        var result = ExternalProcess.Run(worker.Program,
            [.. worker.Arguments, "--steps", steps.ToString(), "--batch", batch.ToString(), "--size", size.ToString()], environment: new Dictionary<string, string?>
        {
            ["MLH_MALLOC_TUNING"] = tuned ? "1" : "0", ["MALLOC_MMAP_THRESHOLD_"] = null, ["MALLOC_TRIM_THRESHOLD_"] = null,
        });
        if (result.ExitCode != 0) throw new InvalidOperationException($"allocator benchmark worker failed: {result.StandardError}");
        string stdout = result.StandardOutput;
        return double.Parse(stdout.Trim().Split('\n')[^1], CultureInfo.InvariantCulture);
    }
}
