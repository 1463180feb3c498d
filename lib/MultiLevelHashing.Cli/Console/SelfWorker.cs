using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Cli.Commands;

namespace MultiLevelHashing.Cli.Console;

/// <summary>
/// How a benchmark starts one of its timed runs in a fresh process of this program (<c>mlh bench allocator-worker</c>,
/// <c>mlh bench pytorch-worker</c>): the one place that knows that under <c>dotnet mlh.dll</c> the process path is
/// dotnet itself, so the program's assembly goes first.
/// </summary>
internal static class SelfWorker
{
    /// <summary>This program with <paramref name="subcommand"/> (e.g. <c>bench</c>, <c>pytorch-worker</c>) as the first arguments.</summary>
    public static WorkerLauncher Launcher(params string[] subcommand)
    {
        string self = Environment.ProcessPath!;
        List<string> arguments = [.. subcommand];
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") arguments.Insert(0, typeof(CommandCatalog).Assembly.Location);
        return new WorkerLauncher(self, arguments);
    }
}
