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

    // --no-sandbox: the pages are our own files, and Chromium's sandbox refuses to start as root (CI runs as root).
    // A private profile folder per run, so that concurrent runs do not share a lock.
    private static List<string> Arguments(string profile, int virtualTimeMs) =>
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
        "--no-first-run", "--allow-file-access-from-files", $"--user-data-dir={profile}", $"--virtual-time-budget={virtualTimeMs}",
    ];

    /// <summary>The document of <paramref name="htmlFile"/> after its scripts ran (Chromium's <c>--dump-dom</c>).</summary>
    public static async Task<string> DumpDomAsync(string htmlFile, int virtualTimeMs = DefaultVirtualTimeMs, CancellationToken cancellation = default)
    {
        string profile = Directory.CreateTempSubdirectory("mlh-chromium-").FullName;
        try
        {
            var arguments = Arguments(profile, virtualTimeMs);
            arguments.AddRange(["--dump-dom", new Uri(Path.GetFullPath(htmlFile)).AbsoluteUri]);
            var result = await ExternalProcess.RunAsync(Require(), arguments, timeout: TimeSpan.FromMinutes(3), cancellation: cancellation);
            if (!result.Succeeded || result.StandardOutput.Length == 0)
                throw new InvalidOperationException($"{htmlFile}: Chromium could not render it (exit {result.ExitCode}): {result.Tail()}");
            return result.StandardOutput;
        }
        finally
        {
            TryDelete(profile);
        }
    }

    /// <summary>A PNG screenshot of <paramref name="htmlFile"/> in a window of <paramref name="width"/> x <paramref name="height"/> pixels.</summary>
    public static async Task ScreenshotAsync(string htmlFile, string pngFile, int width, int height,
        int virtualTimeMs = DefaultVirtualTimeMs, CancellationToken cancellation = default)
    {
        string profile = Directory.CreateTempSubdirectory("mlh-chromium-").FullName;
        try
        {
            string target = Path.GetFullPath(pngFile);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var arguments = Arguments(profile, virtualTimeMs);
            arguments.AddRange([$"--window-size={width},{height}", $"--screenshot={target}", new Uri(Path.GetFullPath(htmlFile)).AbsoluteUri]);
            var result = await ExternalProcess.RunAsync(Require(), arguments, timeout: TimeSpan.FromMinutes(3), cancellation: cancellation);
            if (!result.Succeeded || !File.Exists(target))
                throw new InvalidOperationException($"{htmlFile}: Chromium made no screenshot (exit {result.ExitCode}): {result.Tail()}");
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
