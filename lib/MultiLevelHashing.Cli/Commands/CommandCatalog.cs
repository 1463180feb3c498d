using System.CommandLine;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>Every subcommand of <c>mlh</c>, in the order --help lists them.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return PrepareCommand.Create();
        yield return TrainCommand.Create();
        yield return EncodeCommand.Create();
        yield return ExportCommand.Create();
        yield return EvaluateCommand.Create();
        yield return ReproduceCommand.Create();
        yield return SummaryCommand.Create();
        yield return IndexCommand.Create();
        yield return BenchmarkCommand.Create();
        yield return SelectCommand.Create();
        yield return RegionsCommand.Create();
        yield return QueryCommand.Create();
        yield return MapsCommand.Create();
        yield return KnnCommand.Create();
        yield return BenchCommand.Create();
    }
}
