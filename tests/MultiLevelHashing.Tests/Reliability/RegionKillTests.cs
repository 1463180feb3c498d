using System.Diagnostics;
using System.Text.RegularExpressions;
using MultiLevelHashing.Tests.Cli;
using MultiLevelHashing.Tests.Data;
using Xunit.Abstractions;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary>
/// <c>mlh index --regions</c> killed by SIGKILL while it codes region chunks, with real <c>mlh</c> processes
/// (lib/MultiLevelHashing/README.md section 3.5): the run started again keeps the chunks the killed one stored and codes
/// only the others, and the run that writes the output gives the bytes of an uninterrupted run.
/// </summary>
public sealed class RegionKillTests(ITestOutputHelper output) : IDisposable
{
    private const int Images = 48;
    private readonly string _dir = TestPaths.NewTempDirectory("region-kill");

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void AKilledRegionRunResumesWithTheMissingChunksAndWritesTheUninterruptedBytes()
    {
        string variants = Path.Combine(_dir, "variants"), images = Path.Combine(_dir, "images");
        Directory.CreateDirectory(variants);
        Directory.CreateDirectory(images);
        for (int v = 0; v < 8; v++) LandmarkFixture.WriteImage(Path.Combine(variants, $"{v}.jpg"), pattern: v, seed: v);
        for (int i = 0; i < Images; i++) File.Copy(Path.Combine(variants, $"{i % 8}.jpg"), Path.Combine(images, $"img_{i:D3}.jpg"));
        string ckpt = EncodingMemoryTests.WithRegionCoder(BenchmarkCommandTests.SmokeCheckpoint(_dir).Ckpt, variants);
        string[] Index(string cache, params string[] rest) =>
            ["index", "--images", images, "--checkpoint", ckpt, "--regions", "--batch", "1", "--chunk", "1", "--cache", cache, .. rest];

        string reference = Path.Combine(_dir, "reference.mlhidx");
        var uninterrupted = MlhProcess.Run(Index(Path.Combine(_dir, "reference-cache"), "--output", reference));
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Stderr + uninterrupted.Stdout);

        // One chunk per image; the region chunks lie under <index>.regions-<key>.mlhidx.parts/, the codes' under <index>.parts/.
        string cache = Path.Combine(_dir, "cache");
        int RegionChunks() => Directory.Exists(cache)
            ? Directory.EnumerateFiles(cache, "chunk-*.bin", SearchOption.AllDirectories).Count(p => p.Contains(".regions-", StringComparison.Ordinal))
            : 0;
        int storedAtKill = 0;
        bool killed = false;
        for (int attempt = 0; attempt < 4 && !(killed && storedAtKill is > 0 and < Images); attempt++)
        {
            if (Directory.Exists(cache)) Directory.Delete(cache, true);
            using var child = MlhProcess.Start(Index(cache, "--shard", "0/1"));
            var clock = Stopwatch.StartNew();
            while (!child.HasExited && RegionChunks() == 0 && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(5);
            killed = child.KillHard();
            storedAtKill = RegionChunks();
        }
        Assert.True(killed, "the run finished before it could be killed in 4 attempts");
        Assert.InRange(storedAtKill, 1, Images - 1);

        var resumed = MlhProcess.Run(Index(cache, "--shard", "0/1"));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr + resumed.Stdout);
        var work = Regex.Match(resumed.Stdout, @"region codes: encoded (\d+) chunks \(\d+ images\), (\d+) chunks");
        Assert.True(work.Success, resumed.Stdout);
        Assert.Equal((Images - storedAtKill, storedAtKill), (int.Parse(work.Groups[1].Value), int.Parse(work.Groups[2].Value)));

        string joined = Path.Combine(_dir, "joined.mlhidx");
        var join = MlhProcess.Run(Index(cache, "--output", joined));
        Assert.True(join.ExitCode == 0, join.Stderr + join.Stdout);
        Assert.Contains("nothing encoded", join.Stdout);
        Assert.Equal(File.ReadAllBytes(reference), File.ReadAllBytes(joined));
        output.WriteLine($"killed with {storedAtKill} of {Images} region chunks stored; the resumed run coded the other {Images - storedAtKill}");
    }
}
