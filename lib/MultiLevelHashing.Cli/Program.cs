using System.CommandLine;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Runtime;


var root = new RootCommand(
    "mlh: deep multi-level hashing (DSCNN) for image retrieval. Reproduces Dong, Song, Jia, Tan (2016), " +
    "'Deep Multi-level Hashing Codes for Image Retrieval'.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);

try
{
    // The default handler would print a stack trace and return 1; user errors must reach the handler below.
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (UserInputException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
