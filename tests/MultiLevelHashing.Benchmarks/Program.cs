using BenchmarkDotNet.Running;

// Runs the kernel benchmarks (BenchmarkDotNet arguments, e.g. --filter '*' --job short),
// or `calibrate` to measure the multi-index cost model constants.
if (args.Length > 0 && args[0] == "calibrate") { MultiLevelHashing.KernelBenchmarks.Calibration.Run(args); return; }

BenchmarkSwitcher.FromAssembly(typeof(MultiLevelHashing.KernelBenchmarks.DistanceKernelBenchmarks).Assembly).Run(args);
