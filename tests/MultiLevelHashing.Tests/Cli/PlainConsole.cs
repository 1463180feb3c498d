using Spectre.Console;

namespace MultiLevelHashing.Tests.Cli;

/// <summary>A console without colours, wrapping or interaction that writes into a string, for reading command output in tests.</summary>
internal static class PlainConsole
{
    /// <summary>A console writing into <paramref name="text"/>, <paramref name="width"/> columns wide.</summary>
    public static IAnsiConsole Into(StringWriter text, int width = 200)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(text),
        });
        console.Profile.Width = width;
        return console;
    }
}
