using System.Diagnostics;
using System.Text;

namespace MultiLevelHashing.Runtime;

/// <summary>What a finished external program returned.</summary>
/// <param name="ExitCode">The exit code; -1 when it was killed at the time limit.</param>
/// <param name="StandardOutput">Everything it wrote to standard output.</param>
/// <param name="StandardError">Everything it wrote to standard error.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="TimedOut">True when it ran past the time limit and was killed.</param>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed, bool TimedOut)
{
    /// <summary>True for exit code 0 within the time limit.</summary>
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>The last <paramref name="lines"/> lines of standard error (else standard output), for error messages.</summary>
    public string Tail(int lines = 20)
    {
        string text = StandardError.Trim().Length > 0 ? StandardError : StandardOutput;
        return string.Join('\n', text.TrimEnd().Split('\n').TakeLast(lines));
    }
}

/// <summary>Runs an external program (Jupyter, Chromium, Python) with arguments passed as a list, never through a shell.</summary>
public static class ExternalProcess
{
    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>, with
    /// <paramref name="environment"/> added to (or, for null values, removed from) this process's environment, and
    /// waits for it, at most <paramref name="timeout"/>; the whole process tree is killed past it.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, CancellationToken cancellation = default)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }

        var output = new StringBuilder();
        var error = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new FileNotFoundException($"{program}: cannot start it ({e.Message})", program, e);
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        if (timeout is { } t) limit.CancelAfter(t);
        bool timedOut = false;
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellation.ThrowIfCancellationRequested();
            timedOut = true;
        }
        process.WaitForExit(); // flushes the asynchronous readers
        return new ProcessResult(timedOut ? -1 : process.ExitCode, output.ToString(), error.ToString(), clock.Elapsed, timedOut);
    }

    /// <summary><see cref="RunAsync"/> for callers that wait on a console thread.</summary>
    public static ProcessResult Run(string program, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
        => RunAsync(program, arguments, workingDirectory, environment, timeout).GetAwaiter().GetResult();

    /// <summary>The full path of <paramref name="program"/> on <c>PATH</c>, or null.</summary>
    public static string? FindOnPath(string program)
    {
        if (Path.IsPathRooted(program)) return File.Exists(program) ? program : null;
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
