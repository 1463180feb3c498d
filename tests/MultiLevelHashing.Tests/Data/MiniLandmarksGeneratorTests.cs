using System.Diagnostics;
using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;
using Xunit.Abstractions;

namespace MultiLevelHashing.Tests.Data;

public class MiniLandmarksGeneratorTests(ITestOutputHelper output)
{
    [Fact]
    public void SmokeGenerationIsByteIdenticalForTheSameSeed()
    {
        string a = TestPaths.NewTempDirectory("ml-a"), b = TestPaths.NewTempDirectory("ml-b");
        try
        {
            var sw = Stopwatch.StartNew();
            var sa = MiniLandmarksGenerator.Generate(MiniLandmarksConfig.Smoke, Path.Combine(a, "smoke"), TestPaths.Photos);
            output.WriteLine($"smoke generation: {sw.Elapsed.TotalSeconds:F2} s, {sa.TrainImages} train + {sa.DatabaseImages} database images");
            var sb = MiniLandmarksGenerator.Generate(MiniLandmarksConfig.Smoke, Path.Combine(b, "smoke"), TestPaths.Photos);
            Assert.Equal(sa.Checksum, sb.Checksum);
            var fa = Directory.GetFiles(Path.Combine(a, "smoke"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Path.Combine(a, "smoke"), f)).Order().ToList();
            var fb = Directory.GetFiles(Path.Combine(b, "smoke"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Path.Combine(b, "smoke"), f)).Order().ToList();
            Assert.Equal(fa, fb);
            foreach (var f in fa)
                Assert.True(File.ReadAllBytes(Path.Combine(a, "smoke", f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, "smoke", f))), f);

            var other = MiniLandmarksGenerator.Generate(MiniLandmarksConfig.Smoke with { Seed = 7 }, Path.Combine(a, "seed7"), TestPaths.Photos);
            Assert.NotEqual(sa.Checksum, other.Checksum);
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }
}
