using System.Diagnostics;
using System.Globalization;

namespace MultiLevelHashing.Runtime;

/// <summary>
/// Writes a file through a temporary sibling and a rename, so readers see either the old complete file or the
/// new complete file: <c>using var f = AtomicFile.Begin(path); f.Stream.Write(...); f.Commit();</c>. Disposing
/// without <see cref="Commit"/> deletes the temporary file and leaves any existing file untouched; a failed write
/// (disk full, an exception in the writer) therefore never damages the previous version
/// (lib/MultiLevelHashing/README.md section 1.6). Temporary files left by a process that was killed are removed the
/// next time the same target is written. A temporary file's name carries the writer's process id and machine name, so
/// on a folder that several machines share (a sharded encoding's cache) no machine removes another's file in progress.
/// </summary>
public sealed class AtomicFile : IDisposable
{
    private const string TempMarker = ".tmp-";

    private readonly string _target;
    private readonly string _temp;
    private readonly FileStream _file;
    private bool _committed;

    /// <summary>
    /// Test seam: wraps the temporary file's stream (e.g. in one that fails like a full disk). Flows with the async
    /// context, so parallel tests do not see each other's wrapper.
    /// </summary>
    internal static readonly AsyncLocal<Func<Stream, Stream>?> StreamWrapper = new();

    private AtomicFile(string target)
    {
        _target = Path.GetFullPath(target);
        Directory.CreateDirectory(Path.GetDirectoryName(_target)!);
        RemoveStaleTemporaries(_target);
        _temp = $"{_target}{TempMarker}{Environment.ProcessId}-{Guid.NewGuid():N}-{Host}";
        _file = new FileStream(_temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        Stream = StreamWrapper.Value?.Invoke(_file) ?? _file;
    }

    /// <summary>The temporary file being written.</summary>
    public Stream Stream { get; }

    /// <summary>Starts writing <paramref name="path"/>; nothing is visible there until <see cref="Commit"/>.</summary>
    public static AtomicFile Begin(string path) => new(path);

    /// <summary>Flushes to disk and renames the temporary file over the target.</summary>
    public void Commit()
    {
        Stream.Flush();
        _file.Flush(flushToDisk: true);
        Stream.Dispose();
        _file.Dispose();
        File.Move(_temp, _target, overwrite: true);
        _committed = true;
    }

    /// <summary>Removes the temporary file unless committed.</summary>
    public void Dispose()
    {
        try { Stream.Dispose(); }
        catch (IOException) { } // a wrapper that failed on write may fail again on its final flush
        _file.Dispose();
        if (!_committed)
            try { File.Delete(_temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Writes through <paramref name="write"/> and commits; on an exception the old file is untouched.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        using var file = Begin(path);
        write(file.Stream);
        file.Commit();
    }

    /// <summary>Atomically writes UTF-8 text (no byte-order mark).</summary>
    public static void WriteAllText(string path, string text)
        => WriteAllBytes(path, new System.Text.UTF8Encoding(false).GetBytes(text));

    /// <summary>Atomically writes bytes.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var file = Begin(path);
        file.Stream.Write(bytes);
        file.Commit();
    }

    /// <summary>
    /// Fails with a <see cref="UserInputException"/> naming <paramref name="directory"/> when a file cannot be created
    /// there (a read-only file system or folder, no permission, a file in the way), so that a command stops before any
    /// work rather than after it. Creates the folder when it is missing; the probe file is removed again.
    /// </summary>
    public static void CheckWritable(string directory)
    {
        string full = Path.GetFullPath(directory);
        string probe = Path.Combine(full, $".mlh-write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(full);
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw UserInputException.InFile(full, $"cannot write files in this folder ({Reason(e)}); give a writable folder");
        }
    }

    /// <summary>
    /// The error of a write to <paramref name="path"/> that failed (a full disk, a file system gone read-only): the file,
    /// the system's reason, and <paramref name="consequence"/> (what is left and what to do).
    /// </summary>
    public static UserInputException WriteFailure(string path, Exception e, string consequence) =>
        new($"{Path.GetFullPath(path)}: cannot write ({Reason(e)}); {consequence}", e);

    /// <summary>The system's reason in an I/O exception's message, without the file name .NET appends.</summary>
    public static string Reason(Exception e)
    {
        string message = e.Message;
        int at = message.IndexOf(" : '", StringComparison.Ordinal);
        return (at > 0 ? message[..at] : message).Trim().TrimEnd('.');
    }

    /// <summary>The temporary siblings of <paramref name="target"/> that some process (alive or not) has left.</summary>
    internal static IEnumerable<string> Temporaries(string target)
    {
        string full = Path.GetFullPath(target);
        string? dir = Path.GetDirectoryName(full);
        if (dir is null || !Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, Path.GetFileName(full) + TempMarker + "*");
    }

    /// <summary>Deletes temporary siblings of <paramref name="target"/> whose writing process no longer runs (killed mid-write).</summary>
    private static void RemoveStaleTemporaries(string target)
    {
        foreach (string temp in Temporaries(target))
        {
            string rest = Path.GetFileName(temp)[(Path.GetFileName(target).Length + TempMarker.Length)..];
            int dash = rest.IndexOf('-');
            if (dash <= 0 || !int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            // <pid>-<guid>-<host>: another machine's file is left alone (its process ids mean nothing here).
            string afterGuid = rest[(dash + 1)..];
            int hostDash = afterGuid.IndexOf('-');
            if (hostDash > 0 && afterGuid[(hostDash + 1)..] != Host) continue;
            if (pid == Environment.ProcessId || IsRunning(pid)) continue;
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>This machine's name as it appears in temporary file names (letters, digits, '.' and '_' kept).</summary>
    private static readonly string Host = new([.. Environment.MachineName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' ? c : '_')]);

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
