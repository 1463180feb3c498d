using System.CommandLine;
using System.Globalization;
using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh bench decode</c>: JPEG decode + resize throughput with reduced-scale decoding against full decoding, as a
/// ratio of the medians of interleaved runs on one thread (<see cref="DecodeBenchmark"/>).
/// </summary>
public static class DecodeBenchCommand
{
    /// <summary>The command; progress lines and the report go to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var images = new Option<DirectoryInfo?>("--images") { Description = "folder of JPEG photos, subfolders included (default: data/photos)" };
        var sides = new Option<string>("--longer-sides")
        {
            Description = "comma-separated longer sides to re-encode the photos at (JPEG quality 90) besides the files as they are; 0 = only the files as they are",
            DefaultValueFactory = _ => "1024,2048",
        };
        var size = new Option<int>("--size") { Description = "network input side: images are stretched to size x size", DefaultValueFactory = _ => 224 };
        var repeats = new Option<int>("--repeats") { Description = "timed runs per mode and set (interleaved)", DefaultValueFactory = _ => 5 };
        var maxImages = new Option<int>("--max-images") { Description = "use only the first N photos (0 = all)", DefaultValueFactory = _ => 0 };
        var reportFile = new Option<FileInfo?>("--output") { Description = "also write the table as markdown here (e.g. tests/MultiLevelHashing.Benchmarks/results/decode.md)" };
        var command = new Command("decode", "JPEG decode + resize throughput, reduced-scale decoding against full decoding (one thread, interleaved runs).")
        {
            images, sides, size, repeats, maxImages, reportFile,
        };
        command.SetAction(parse =>
        {
            var writer = output ?? System.Console.Out;
            string folder = parse.GetValue(images)?.FullName ?? RepositoryLayout.PhotosDirectory();
            if (!Directory.Exists(folder)) throw new UserInputException($"{folder}: folder not found");
            int s = parse.GetValue(size), runs = parse.GetValue(repeats), max = parse.GetValue(maxImages);
            if (s < 1) throw new UserInputException($"--size must be positive (got {s})");
            if (runs < 1) throw new UserInputException($"--repeats must be at least 1 (got {runs})");
            var photos = DecodeBenchmark.Jpegs(folder);
            if (max > 0) photos = photos.Take(max).ToList();
            if (photos.Count == 0) throw new UserInputException($"{folder}: no JPEG files");
            var longer = new List<int>();
            foreach (var part in parse.GetValue(sides)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int v))
                    throw new UserInputException($"--longer-sides: '{part}' is not a whole number");
                if (v > 0) longer.Add(v);
            }
            string loadBefore = MachineLoad.Average();
            var sets = new List<(string Name, IReadOnlyList<string> Files)> { ($"{Path.GetFileName(folder.TrimEnd('/'))} as they are", photos) };
            string work = Path.Combine(Path.GetTempPath(), $"mlh-decode-bench-{Environment.UserName}");
            foreach (int side in longer)
                sets.Add(($"longer side {side}", DecodeBenchmark.Rescaled(photos, side, Path.Combine(work, side.ToString(CultureInfo.InvariantCulture)))));
            var results = new List<DecodeTiming>();
            foreach (var (name, files) in sets)
            {
                var t = DecodeBenchmark.Run(name, files, s, runs);
                results.Add(t);
                writer.WriteLine($"{name}: full {t.FullRate:0.0} img/s, reduced {t.ReducedRate:0.0} img/s, ratio {t.Ratio:0.00}");
            }
            string report = DecodeBenchmark.Report(results, folder, s, runs, loadBefore, MachineLoad.Average());
            writer.WriteLine();
            writer.Write(report);
            if (parse.GetValue(reportFile) is { } file) AtomicFile.WriteAllText(file.FullName, report);
            return 0;
        });
        return command;
    }
}
