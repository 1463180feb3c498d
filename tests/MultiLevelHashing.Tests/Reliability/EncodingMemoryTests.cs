using System.Diagnostics;
using System.Text.RegularExpressions;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Regions;
using MultiLevelHashing.Tests.Cli;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;
using Xunit.Abstractions;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary>
/// The peak resident memory of <c>mlh encode</c> and <c>mlh index</c> at two sizes of an image folder, measured with
/// <c>/usr/bin/time -v</c> (README.md, "Past one machine"). A measurement, not a check of this build: it runs only when
/// MLH_MEASURE_MEMORY lists the sizes (e.g. "5000,50000"), on a smoke checkpoint (the small CNN at 64 px) and copies of
/// eight generated 64 x 48 JPEG files, and prints the numbers. MLH_MEASURE_RUNS picks the runs (default
/// "encode,index,dry-run"; dry-run is <c>mlh encode --dry-run</c>: the image list and plan without the network;
/// index-regions is <c>mlh index --regions</c> with a 32-bit PCA-sign region coder fitted here on the eight images' maps,
/// whose region codes are coded chunk by chunk and streamed, so that they add one chunk, not N x h x w codes, to the
/// peak). With MLH_MEASURE_SHARDS=n it also times n shards of
/// <c>mlh encode</c> run one after the other and the joining run, whose files must equal the single run's.
/// </summary>
public sealed class EncodingMemoryTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void PeakMemoryOfEncodeAndIndexAtEachSize()
    {
        string? sizes = Environment.GetEnvironmentVariable("MLH_MEASURE_MEMORY");
        Skip.If(string.IsNullOrEmpty(sizes), "a measurement: set MLH_MEASURE_MEMORY to image counts, e.g. 5000,50000");
        Skip.IfNot(File.Exists("/usr/bin/time"), "needs GNU time (/usr/bin/time -v)");
        string dir = TestPaths.NewTempDirectory("memory");
        try
        {
            string[] runs = (Environment.GetEnvironmentVariable("MLH_MEASURE_RUNS") is { Length: > 0 } r ? r : "encode,index,dry-run").Split(',');
            string ckpt = BenchmarkCommandTests.SmokeCheckpoint(dir).Ckpt;
            string variants = Path.Combine(dir, "variants");
            Directory.CreateDirectory(variants);
            for (int v = 0; v < 8; v++) LandmarkFixture.WriteImage(Path.Combine(variants, $"{v}.jpg"), pattern: v, seed: v);
            string? regionCkpt = runs.Contains("index-regions") ? WithRegionCoder(ckpt, variants) : null;
            foreach (int n in sizes!.Split(',').Select(int.Parse))
            {
                string images = Path.Combine(dir, $"images-{n}");
                Directory.CreateDirectory(images);
                for (int i = 0; i < n; i++) File.Copy(Path.Combine(variants, $"{i % 8}.jpg"), Path.Combine(images, $"img_{i:D7}.jpg"));
                foreach (string run in runs)
                {
                    // dry-run: the image list, its ids and the plan, without the network (what grows with the number of images).
                    string command = run.StartsWith("index", StringComparison.Ordinal) ? "index" : "encode";
                    string target = Path.Combine(dir, $"out-{n}", command == "encode" ? "codes.npy" : $"{run}.mlhidx");
                    string[] extra = run switch { "dry-run" => ["--dry-run"], "index-regions" => ["--regions"], _ => [] };
                    var (rss, wall) = Measure([command, "--images", images, "--checkpoint", run == "index-regions" ? regionCkpt! : ckpt, "--output", target, .. extra]);
                    output.WriteLine($"mlh {command} {string.Join(' ', extra)}, {n} images: peak RSS {rss / 1024.0:F1} MiB, wall {wall}");
                }
                if (Environment.GetEnvironmentVariable("MLH_MEASURE_SHARDS") is { Length: > 0 } shardText)
                {
                    // The same encoding as shards one after the other on this machine, then the joining run.
                    int shards = int.Parse(shardText);
                    string cache = Path.Combine(dir, $"cache-{n}");
                    for (int i = 0; i < shards; i++)
                    {
                        var (rss, wall) = Measure(["encode", "--images", images, "--checkpoint", ckpt, "--cache", cache, "--shard", $"{i}/{shards}"]);
                        output.WriteLine($"mlh encode --shard {i}/{shards}, {n} images: peak RSS {rss / 1024.0:F1} MiB, wall {wall}");
                    }
                    string joined = Path.Combine(dir, $"joined-{n}", "codes.npy");
                    var (joinRss, joinWall) = Measure(["encode", "--images", images, "--checkpoint", ckpt, "--cache", cache, "--output", joined]);
                    output.WriteLine($"mlh encode joining run, {n} images: peak RSS {joinRss / 1024.0:F1} MiB, wall {joinWall}");
                    foreach (string file in new[] { "codes.global.npy", "codes.local.npy", "codes.images.txt" })
                        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, $"out-{n}", file)), File.ReadAllBytes(Path.Combine(dir, $"joined-{n}", file)));
                }
                Directory.Delete(images, true);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>A copy of <paramref name="ckpt"/> with a 32-bit PCA-sign region coder fitted on the maps of the images in <paramref name="folder"/>.</summary>
    internal static string WithRegionCoder(string ckpt, string folder)
    {
        string copy = Path.Combine(Path.GetDirectoryName(ckpt)!, "with-regions.ckpt");
        File.Copy(ckpt, copy);
        var (model, info) = Checkpoint.LoadModel(copy);
        using (model)
        {
            int size = info.Config.ImageSize;
            using var maps = FeatureCache.Compute(model.Backbone, new ImageFileSource(ImageFiles.Of(Directory.GetFiles(folder).Order(StringComparer.Ordinal), folder)), size, 8);
            int bits = Math.Min(32, (int)maps.shape[1]);
            using var coder = RegionHashHead.FromPca(maps, bits);
            Checkpoint.SaveRegionCoder(copy, coder, new RegionCoderInfo(bits, (int)maps.shape[1], size, "the measurement's eight images"));
        }
        return copy;
    }

    /// <summary>Runs mlh under /usr/bin/time -v: the maximum resident set size in KiB and the wall time.</summary>
    private static (long Kib, string Wall) Measure(string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo("/usr/bin/time") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in (string[])["-v", dotnet, Path.Combine(AppContext.BaseDirectory, "mlh.dll"), .. args]) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        info.Environment["TERM"] = "dumb";
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr + stdout.Result);
        long kib = long.Parse(Regex.Match(stderr, @"Maximum resident set size \(kbytes\): (\d+)").Groups[1].Value);
        return (kib, Regex.Match(stderr, @"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)").Groups[1].Value);
    }
}
