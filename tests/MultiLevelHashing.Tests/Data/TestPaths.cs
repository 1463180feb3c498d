using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Tests.Data;

/// <summary>Where tests find the real ground truth, the shipped photos and scratch space.</summary>
internal static class TestPaths
{
    public static string RepositoryRoot => RepositoryLayout.TryFindRoot() ?? throw new InvalidOperationException("Research.sln not found above the test folder");

    public static string Photos => Path.Combine(RepositoryRoot, "data", "photos");

    /// <summary>MLH_GROUND_TRUTH, else ../shared/data/landmarks-ground-truth next to the repository; null when neither exists.</summary>
    public static string? GroundTruthDirectory
    {
        get
        {
            if (Environment.GetEnvironmentVariable("MLH_GROUND_TRUTH") is { Length: > 0 } env && Directory.Exists(env)) return env;
            string shared = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data", "landmarks-ground-truth"));
            return Directory.Exists(shared) ? shared : null;
        }
    }

    public const string MissingGroundTruth = "real ground truth not found: set MLH_GROUND_TRUTH or provide ../shared/data/landmarks-ground-truth (tests that need it are skipped)";

    /// <summary>
    /// Generates a small mini-landmarks benchmark named "tiny" from the shipped photos into <c>parent/tiny</c> (seconds)
    /// and returns its folder.
    /// </summary>
    public static string TinyBenchmark(string parent, int landmarks, int viewsPerLandmark, int distractors, int viewSize)
    {
        string folder = Path.Combine(parent, "tiny");
        MiniLandmarksGenerator.Generate(MiniLandmarksConfig.Smoke with
        {
            Name = "tiny", LandmarkCount = landmarks, ViewsPerLandmark = viewsPerLandmark, DistractorCount = distractors, ViewSize = viewSize,
        }, folder, Photos);
        return folder;
    }

    /// <summary>A fresh empty folder under the system temp folder.</summary>
    public static string NewTempDirectory(string prefix)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mlh-{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
