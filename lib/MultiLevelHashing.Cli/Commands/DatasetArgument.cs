using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>The <c>--dataset</c> argument of every command that takes one; the library's <see cref="DatasetSpec"/> parses and opens it.</summary>
internal static class DatasetArgument
{
    public const string Help = DatasetSpec.Help;

    /// <summary>Opens the dataset named by <paramref name="value"/>, generating a mini-landmarks preset when needed.</summary>
    public static LandmarkDataset Open(string value, IProgress<ProgressReport>? progress = null) => DatasetSpec.Open(value, progress);
}
