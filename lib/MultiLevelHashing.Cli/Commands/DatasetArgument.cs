using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>The <c>--dataset</c> argument of every command that takes one; the library's <see cref="DatasetSpec"/> parses and opens it.</summary>
internal static class DatasetArgument
{
    public const string Help = DatasetSpec.Help;

    /// <summary>Opens the dataset named by <paramref name="value"/>, generating a mini-landmarks preset when needed.</summary>
    public static LandmarkDataset Open(string value, IProgress<ProgressReport>? progress = null)
    {
        try
        {
            return DatasetSpec.Open(value, progress);
        }
        catch (DatasetSpecException e)
        {
            throw Named(e);
        }
    }

    /// <summary>Parses <paramref name="value"/> without opening it.</summary>
    public static DatasetSpec Parse(string value)
    {
        try
        {
            return DatasetSpec.Parse(value);
        }
        catch (DatasetSpecException e)
        {
            throw Named(e);
        }
    }

    private static UserInputException Named(DatasetSpecException e) => new($"--dataset {e.Message}", e);
}
