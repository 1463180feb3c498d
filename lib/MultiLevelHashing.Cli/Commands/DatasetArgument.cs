using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>Resolves the <c>--dataset</c> argument of training and encoding commands.</summary>
internal static class DatasetArgument
{
    public const string Help =
        "a generated mini-landmarks benchmark: 'mini-landmarks/smoke', 'mini-landmarks/full' or 'mini-landmarks/large' (generated under data/generated on first use), " +
        "or the folder of one (it holds views.tsv)";

    /// <summary>Opens the dataset named by <paramref name="value"/>, generating a mini-landmarks preset when needed.</summary>
    public static LandmarkDataset Open(string value, IProgress<ProgressReport>? progress = null)
    {
        string v = value.Replace('\\', '/').TrimEnd('/');
        foreach (string prefix in new[] { "mini-landmarks/", "mini-landmarks:" })
            if (v.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && !Directory.Exists(value))
            {
                var config = MiniLandmarksConfig.Preset(v[prefix.Length..]);
                var summary = MiniLandmarksGenerator.Ensure(config, progress: progress);
                return LandmarkDataset.OpenMiniLandmarks(summary.Directory);
            }
        if (!Directory.Exists(value))
            throw new UserInputException($"{value}: dataset folder not found (expected {Help})");
        if (!File.Exists(Path.Combine(value, MiniLandmarksLayout.ViewsFileName)))
            throw UserInputException.InFile(value, $"not a mini-landmarks benchmark (no {MiniLandmarksLayout.ViewsFileName}); expected {Help}");
        return LandmarkDataset.OpenMiniLandmarks(value);
    }
}
