using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Notebooks;
using MultiLevelHashing.Runtime;

namespace Notebooks.Tests;

/// <summary>The session opens the benchmark of its mode, so no notebook chooses smoke or full by itself.</summary>
public class SessionTests
{
    private static string TempFolder(string prefix)
    {
        string path = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    [Fact]
    public void OpenBenchmarkReturnsTheSmokeBenchmarkInSmokeMode()
    {
        var session = NotebookSession.Start(RunMode.Smoke, TempFolder("mlh-session-"));
        Assert.Same(MiniLandmarksConfig.Smoke, session.BenchmarkConfig);

        var dataset = session.OpenBenchmark();

        Assert.Equal("mini-landmarks/" + MiniLandmarksConfig.Smoke.Name, dataset.Name);
        string expected = MiniLandmarksGenerator.Ensure(MiniLandmarksConfig.Smoke).Directory;
        Assert.Equal(Path.GetFullPath(expected), Path.GetFullPath(dataset.Root));
        Assert.NotEmpty(dataset.Queries);
        Assert.NotEmpty(dataset.Train);
    }

    [Fact]
    public void FullModeSessionChoosesTheFullBenchmark()
    {
        // Only the choice: generating the full benchmark takes minutes.
        var session = NotebookSession.Start(RunMode.Full, TempFolder("mlh-session-"));
        Assert.Same(MiniLandmarksConfig.Full, session.BenchmarkConfig);
    }
}
