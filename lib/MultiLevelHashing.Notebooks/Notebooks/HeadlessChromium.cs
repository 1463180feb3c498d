using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Notebooks;

/// <summary>
/// Debian's Chromium, headless: renders HTML files (executed notebooks converted by nbconvert, saved figures) as a
/// browser does, scripts included, and returns the document after its scripts ran or a screenshot. Used to check that
/// charts draw and to make the static PNG of each chart in published notebooks.
/// </summary>
public static class HeadlessChromium
{
    /// <summary>Program names tried on <c>PATH</c>, in order.</summary>
    public static IReadOnlyList<string> ProgramNames { get; } = ["chromium", "chromium-browser", "google-chrome"];

    /// <summary>Virtual time a page gets to run its scripts before the DOM or the screenshot is taken (ms).</summary>
    public const int DefaultVirtualTimeMs = 20_000;

    /// <summary>The Chromium on <c>PATH</c>, or null.</summary>
    public static string? Find() => ProgramNames.Select(ExternalProcess.FindOnPath).FirstOrDefault(p => p is not null);

    private static string Require() => Find()
        ?? throw new UserInputException($"no Chromium on PATH (tried {string.Join(", ", ProgramNames)}); on Debian: apt-get install --no-install-recommends chromium");

    /// <summary>The document of <paramref name="htmlFile"/> after its scripts ran (Chromium's <c>--dump-dom</c>).</summary>
    public static async Task<string> DumpDomAsync(string htmlFile, int virtualTimeMs = DefaultVirtualTimeMs, CancellationToken cancellation = default)
    {
        var result = await RunAsync(htmlFile, ["--dump-dom"], virtualTimeMs, cancellation);
        if (result.StandardOutput.Length == 0)
            throw new InvalidOperationException($"{htmlFile}: Chromium could not render it: {result.Tail()}");
        return result.StandardOutput;
    }

    /// <summary>A PNG screenshot of <paramref name="htmlFile"/> in a window of <paramref name="width"/> x <paramref name="height"/> pixels.</summary>
    public static async Task ScreenshotAsync(string htmlFile, string pngFile, int width, int height,
        int virtualTimeMs = DefaultVirtualTimeMs, CancellationToken cancellation = default)
    {
        string target = Path.GetFullPath(pngFile);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var result = await RunAsync(htmlFile, [$"--window-size={width},{height}", $"--screenshot={target}"], virtualTimeMs, cancellation);
        if (!File.Exists(target))
            throw new InvalidOperationException($"{htmlFile}: Chromium made no screenshot: {result.Tail()}");
    }

    /// <summary>
    /// Opens <paramref name="htmlFile"/> headless with <paramref name="action"/>'s arguments, in a private profile folder so that
    /// concurrent runs share no lock. <c>--no-sandbox</c>: the pages are our own files, and Chromium's sandbox refuses to
    /// start as root (CI runs as root).
    /// </summary>
    private static async Task<ProcessResult> RunAsync(string htmlFile, IEnumerable<string> action, int virtualTimeMs, CancellationToken cancellation)
    {
        string profile = Directory.CreateTempSubdirectory("mlh-chromium-").FullName;
        try
        {
            string[] arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
                "--no-first-run", "--allow-file-access-from-files", $"--user-data-dir={profile}", $"--virtual-time-budget={virtualTimeMs}",
                .. action, new Uri(Path.GetFullPath(htmlFile)).AbsoluteUri,
            ];
            var result = await ExternalProcess.RunAsync(Require(), arguments, timeout: TimeSpan.FromMinutes(3), cancellation: cancellation);
            if (!result.Succeeded)
                throw new InvalidOperationException($"{htmlFile}: Chromium failed (exit {result.ExitCode}): {result.Tail()}");
            return result;
        }
        finally
        {
            TryDelete(profile);
        }
    }

    private static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
