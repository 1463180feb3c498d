using System.Diagnostics;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary>
/// A small tmpfs mounted on a test folder, for real file-system faults (full, read-only). Needs Linux and root; elsewhere
/// <see cref="TryMount"/> says why not, and the test is skipped with that reason.
/// </summary>
internal sealed class TmpfsMount : IDisposable
{
    private TmpfsMount(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> on <paramref name="path"/> (created); null and the reason when it cannot.</summary>
    public static (TmpfsMount? Mount, string? Reason) TryMount(string path, long bytes)
    {
        if (!OperatingSystem.IsLinux()) return (null, "needs Linux to mount a tmpfs");
        if (Environment.UserName != "root") return (null, "needs root to mount a tmpfs");
        Directory.CreateDirectory(path);
        var (code, error) = Run("mount", "-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", path);
        return code == 0 ? (new TmpfsMount(path), null) : (null, $"mount -t tmpfs failed ({error.Trim()})");
    }

    /// <summary>Mounts as <see cref="TryMount"/>, or skips the test with the reason.</summary>
    public static TmpfsMount MountOrSkip(string path, long bytes)
    {
        var (mount, reason) = TryMount(path, bytes);
        Skip.If(mount is null, reason);
        return mount!;
    }

    /// <summary>Remounts with other options, e.g. "ro" or "size=1m".</summary>
    public void Remount(string options)
    {
        var (code, error) = Run("mount", "-o", $"remount,{options}", Path);
        if (code != 0) throw new InvalidOperationException($"mount -o remount,{options} {Path} failed: {error}");
    }

    /// <summary>Bytes free on the mount (tmpfs keeps no reserve for root).</summary>
    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    public void Dispose() => Run("umount", "-l", Path);

    private static (int Code, string Error) Run(params string[] args)
    {
        var info = new ProcessStartInfo(args[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in args[1..]) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        string error = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, error);
    }
}
