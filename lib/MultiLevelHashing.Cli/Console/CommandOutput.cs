using Spectre.Console;

namespace MultiLevelHashing.Cli.Console;

/// <summary>
/// The one output convention of <c>mlh</c>'s commands: every <c>Create(TextWriter? output = null)</c> writes what it
/// reports to <c>output</c>, standard output when null (tests pass a <see cref="StringWriter"/>). Tables are drawn by
/// Spectre.Console on a console over that writer; errors and progress go to standard error as before.
/// </summary>
internal static class CommandOutput
{
    // Wide enough that no table of mlh wraps when it goes to a file or a test's writer.
    private const int WriterWidth = 250;

    /// <summary><paramref name="output"/>, or standard output.</summary>
    public static TextWriter Writer(TextWriter? output) => output ?? System.Console.Out;

    /// <summary>
    /// A console that draws tables and markup into <paramref name="output"/>: without colours or interaction and
    /// <see cref="WriterWidth"/> columns wide for a writer; the process console when null.
    /// </summary>
    public static IAnsiConsole Console(TextWriter? output)
    {
        if (output is null) return AnsiConsole.Console;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = WriterWidth;
        return console;
    }
}
