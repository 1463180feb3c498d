using System.CommandLine;
using MultiLevelHashing.Attention;
using MultiLevelHashing.Cli.Console;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;
using MultiLevelHashing.Torch;
using MultiLevelHashing.Training;
using Spectre.Console;

namespace MultiLevelHashing.Cli.Commands;

/// <summary><c>mlh benchmark</c>: a trained DSCNN on a whole benchmark, mAP under every protocol its ground truth carries.</summary>
public static class BenchmarkCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var dataset = new Option<string>("--dataset") { Description = DatasetArgument.Help, Required = true };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "checkpoint written by mlh train", Required = true };
        var levels = new Option<bool>("--levels") { Description = "also the multi-level search: rank by the global code, re-rank the top --candidates by d_g/Kg + lambda * d_sel/L over the selected local bits (--select)" };
        var select = new Option<string?>("--select")
        {
            Description = "with --levels: 'dataset' (the selection stored in the checkpoint by mlh select; the default when it has one) or 'all' local bits",
        };
        var regions = new Option<bool>("--regions")
        {
            Description = "also the multi-level search with region codes (the coder mlh regions stored in the checkpoint): rank by the global code, re-rank the top " +
                          $"--candidates (default {RegionSearch.DefaultCandidates} here) by region score ({SelectiveKernel.Default})",
        };
        var candidates = new Option<int>("--candidates") { Description = $"with --levels or --regions: how many stage-1 results are re-ranked (when not given: this default for --levels, {RegionSearch.DefaultCandidates} for --regions)", DefaultValueFactory = _ => MultiLevelSetting.Default.Candidates };
        var inverted = new Option<int>("--inverted")
        {
            Description = "with --regions: also re-rank the M images a region-level inverted file ranks best (vocabulary fitted on the database's region codes), " +
                          "so that images the global code ranks far down can be found by their regions (0: the global shortlist only)",
        };
        var probes = new Option<int>("--probes") { Description = "with --inverted: nearest words each query region visits", DefaultValueFactory = _ => 4 };
        var lambda = new Option<double>("--lambda") { Description = "with --levels: weight of the local bits", DefaultValueFactory = _ => MultiLevelSetting.Default.Lambda };
        var outputFolder = new Option<DirectoryInfo?>("--output") { Description = "folder for results.json and results.md (default: artifacts/benchmark/<dataset>-<checkpoint name>)" };
        var cache = new Option<DirectoryInfo?>("--cache")
        {
            Description = "folder of the encoded database and queries, one index file per checkpoint and image list, resumed after an interruption " +
                          "(default: data/generated/codes)",
        };
        var batch = new Option<int>("--batch") { Description = "images per forward batch", DefaultValueFactory = _ => 16 };
        var chunk = new Option<int>("--chunk")
        {
            Description = "images per stored chunk of codes (the most decoded images held in memory; an interruption loses at most one chunk; " +
                          "every shard and the joining run must use the same)",
            DefaultValueFactory = _ => 512,
        };
        var shard = EncodingOptions.Shard();
        shard.Description = "i/n: encode only shard i (0..n-1) of the database and the queries into --cache (chunk c belongs to shard c mod n), " +
                            "search nothing (with --regions also the region codes of its chunks); a later run without --shard on the same cache (any machine) " +
                            "encodes what is missing and scores";
        var dryRun = EncodingOptions.DryRun();
        var threads = new Option<int>("--threads") { Description = "search threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var allowOverlap = new Option<bool>("--allow-training-overlap")
        {
            Description = "score the checkpoint even when it was trained on some of the benchmark's test landmarks (refused otherwise)",
        };
        var command = new Command("benchmark",
            "Encode a benchmark's database and cropped queries with a trained DSCNN (cached, resumable), rank the whole database for every query, " +
            "and print mAP and mP@1/5/10 under every protocol the ground truth carries (classic; easy, medium, hard); writes results.json and results.md.")
        { dataset, checkpoint, levels, regions, select, candidates, inverted, probes, lambda, outputFolder, cache, batch, chunk, threads, shard, dryRun, allowOverlap };
        command.SetAction(parse =>
        {
            int batchSize = parse.GetValue(batch), chunkSize = parse.GetValue(chunk), candidateCount = parse.GetValue(candidates), threadCount = parse.GetValue(threads);
            double weight = parse.GetValue(lambda);
            if (batchSize < 1) throw new UserInputException($"--batch must be at least 1, got {batchSize}");
            if (chunkSize < 1) throw new UserInputException($"--chunk must be at least 1, got {chunkSize}");
            if (candidateCount < 0) throw new UserInputException($"--candidates must be at least 0, got {candidateCount}");
            if (!double.IsFinite(weight)) throw new UserInputException($"--lambda must be a finite number, got {weight}");
            if (threadCount < 0) throw new UserInputException($"--threads must be at least 0, got {threadCount}");
            var ckpt = parse.GetValue(checkpoint)!;
            if (!ckpt.Exists) throw new UserInputException($"{ckpt.FullName}: checkpoint not found");
            var spec = DatasetArgument.Parse(parse.GetValue(dataset)!);
            string? root = RepositoryLayout.TryFindRoot();
            string cacheDir = parse.GetValue(cache)?.FullName
                ?? (root is null ? Path.Combine(Environment.CurrentDirectory, "mlh-codes") : RepositoryLayout.CodeCacheDirectory(root));
            string outDir = parse.GetValue(outputFolder)?.FullName ?? Path.Combine(
                root is null ? Environment.CurrentDirectory : RepositoryLayout.ArtifactsDirectory(root), "benchmark",
                $"{spec.Name}-{Path.GetFileNameWithoutExtension(ckpt.Name)}");
            CodeShard? shardValue = parse.GetValue(shard) is { } shardText ? CodeShard.Parse(shardText) : null;
            bool dry = parse.GetValue(dryRun);
            var writer = CommandOutput.Writer(output);
            // Plans, shard summaries and the lines under the table are plain lines for logs: never wrapped at a console width.
            void Print(string line) => writer.WriteLine(line);
            var encodeOptions = new DatasetBenchmarkOptions(cacheDir, batchSize, chunkSize, null, TorchDevice.Default());
            if (dry)
            {
                var plans = ConsoleProgress.Run(progress => DatasetBenchmark.Plan(spec.Open(progress), ckpt.FullName, encodeOptions, shardValue ?? CodeShard.All,
                    parse.GetValue(regions)));
                foreach (var plan in plans) Print(EncodingOptions.PlanText(plan, shardValue ?? CodeShard.All, chunkSize));
                return 0;
            }
            // Folders that cannot be written are named before any work.
            AtomicFile.CheckWritable(cacheDir);
            if (shardValue is { } only)
            {
                var work = ConsoleProgress.Run(progress => DatasetBenchmark.EncodeShard(spec.Open(progress), ckpt.FullName, encodeOptions, only, progress,
                    regions: parse.GetValue(regions)));
                Print($"{EncodingOptions.ShardText(only, work.Parts)} in {work.Seconds:0.0} s");
                Print("run mlh benchmark without --shard (same --cache, --chunk and --batch) once every shard is done");
                return 0;
            }
            AtomicFile.CheckWritable(outDir);
            var stored = Checkpoint.ReadInfo(ckpt.FullName);
            BitMask? mask = (parse.GetValue(select) ?? (stored.Selection is null ? "all" : "dataset")).ToLowerInvariant() switch
            {
                "all" => null,
                "dataset" => stored.Selection?.ToMask(stored.Config.LocalBits)
                             ?? throw new UserInputException("--select dataset: the checkpoint stores no bit selection; run mlh select --checkpoint C --dataset D first"),
                var other => throw new UserInputException($"--select {other}: expected dataset or all"),
            };
            // --candidates given on the command line applies to both searches; left out, each keeps its own default.
            var regionSearch = parse.GetValue(regions)
                ? new RegionBenchmarkOptions(parse.GetResult(candidates) is { Implicit: false } ? candidateCount : RegionSearch.DefaultCandidates, SelectiveKernel.Default)
                {
                    InvertedCandidates = parse.GetValue(inverted),
                    Probes = parse.GetValue(probes),
                }
                : null;
            if (parse.GetValue(inverted) < 0) throw new UserInputException($"--inverted must be at least 0, got {parse.GetValue(inverted)}");
            if (parse.GetValue(probes) < 1) throw new UserInputException($"--probes must be at least 1, got {parse.GetValue(probes)}");
            if (parse.GetValue(inverted) > 0 && regionSearch is null) throw new UserInputException("--inverted applies only with --regions");
            var search = new CodeBenchmarkOptions(Levels: parse.GetValue(levels), LevelOptions: new MultiLevelOptions { Setting = new MultiLevelSetting(candidateCount, weight, mask is null ? 1.0 : mask.Count / (double)mask.Bits) },
                                                  LocalMask: mask, Threads: threadCount, Regions: regionSearch);

            var report = ConsoleProgress.Run(progress =>
            {
                var ds = spec.Open(progress);
                if (!parse.GetValue(allowOverlap)) TrainingOverlap.Ensure(ckpt.FullName, stored, ds);
                return DatasetBenchmark.Run(ds, spec.Text, ckpt.FullName,
                    new DatasetBenchmarkOptions(cacheDir, batchSize, chunkSize, search, TorchDevice.Default()), progress);
            });

            Directory.CreateDirectory(outDir);
            string json = Path.Combine(outDir, "results.json"), markdown = Path.Combine(outDir, "results.md");
            AtomicFile.WriteAllText(json, report.ToJson());
            AtomicFile.WriteAllText(markdown, report.ToMarkdown());

            var protocols = report.Methods.SelectMany(m => m.Protocols.Select(p => p.Protocol)).Distinct().ToList();
            var table = new Table().AddColumn("method").AddColumn("bits");
            foreach (var p in protocols) table.AddColumn(new TableColumn($"{p} mAP").RightAligned());
            // mP@10 of the headline protocol: classic where the ground truth has it, else medium.
            string headline = protocols.Contains("classic") ? "classic" : protocols.Contains("medium") ? "medium" : protocols[0];
            table.AddColumn(new TableColumn($"{headline} mP@10").RightAligned());
            foreach (var m in report.Methods)
            {
                string bits = m.Method switch
                {
                    "global" => $"{report.GlobalBits}",
                    "regions" => $"{report.GlobalBits} + {report.RegionBits} per region",
                    _ => $"{report.GlobalBits} + {report.LocalBits}",
                };
                var cells = new List<string> { m.Method, bits };
                cells.AddRange(protocols.Select(p => m.Protocols.FirstOrDefault(s => s.Protocol == p) is { } s ? BenchmarkReport.Percent(s.Map) : ""));
                var scores = m.Protocols.FirstOrDefault(s => s.Protocol == headline);
                cells.Add(scores is not null && scores.MeanPrecisionAt.TryGetValue("10", out double p10) ? BenchmarkReport.Percent(p10) : "");
                table.AddRow([.. cells]);
            }
            CommandOutput.Console(output).Write(table);
            foreach (var m in report.Methods) Print($"{m.Method}: {m.Description}");
            Print($"{report.Dataset}: {report.DatabaseImages} database images, {report.Queries} queries; checkpoint {report.Checkpoint} (config {report.ConfigHash})");
            Print($"results: {json}, {markdown}");
            return 0;
        });
        return command;
    }
}
