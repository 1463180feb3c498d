using System.Diagnostics;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary>
/// Runs the built <c>mlh</c> in a child process: the test project references the CLI project, so <c>mlh.dll</c> and its
/// runtime configuration sit next to the test assembly.
/// </summary>
internal sealed class MlhProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private MlhProcess(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mlh.dll"));
        foreach (string a in args) info.ArgumentList.Add(a);
        // No colours or live progress redraws: plain lines in the redirected output.
        info.Environment["NO_COLOR"] = "1";
        info.Environment["TERM"] = "dumb";
        if (environment is not null)
            foreach (var (k, v) in environment) info.Environment[k] = v;
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start mlh");
        _stdout = _process.StandardOutput.ReadToEndAsync();
        _stderr = _process.StandardError.ReadToEndAsync();
    }

    /// <summary>Starts <c>mlh</c> with <paramref name="args"/>.</summary>
    public static MlhProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) => new(args, environment);

    /// <summary>Runs to the end; exit code and both outputs.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null)
    {
        using var p = Start(args, environment);
        return p.WaitForExit(timeout ?? TimeSpan.FromMinutes(3));
    }

    /// <summary>Waits for the end (kills the process and fails after <paramref name="timeout"/>).</summary>
    public (int ExitCode, string Stdout, string Stderr) WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill();
            throw new TimeoutException($"mlh did not finish within {timeout}");
        }
        _process.WaitForExit();
        return (_process.ExitCode, _stdout.Result, _stderr.Result);
    }

    /// <summary>
    /// Sends SIGKILL (what <see cref="Process.Kill()"/> does on Unix) unless the process has already ended, and waits
    /// for it to be gone. True when the kill landed.
    /// </summary>
    public bool KillHard()
    {
        if (_process.HasExited) return false;
        try { _process.Kill(); }
        catch (InvalidOperationException) { return false; } // it ended between the check and the kill
        _process.WaitForExit();
        return _process.ExitCode == 128 + 9; // ended by SIGKILL, not by finishing first
    }

    /// <summary>Waits up to <paramref name="timeout"/>; true when the process ended by then.</summary>
    public bool WaitForExitOrTimeout(TimeSpan timeout) => _process.WaitForExit(timeout);

    /// <summary>True once the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        if (!_process.HasExited) try { _process.Kill(); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
