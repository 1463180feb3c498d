using System.Diagnostics;
using System.Globalization;

namespace MultiLevelHashing.Runtime;

/// <summary>
/// Writes a file through a temporary sibling and a rename, so readers see either the old complete file or the
/// new complete file: <c>using var f = AtomicFile.Begin(path); f.Stream.Write(...); f.Commit();</c>. Disposing
/// without <see cref="Commit"/> deletes the temporary file and leaves any existing file untouched; a failed write
/// (disk full, an exception in the writer) therefore never damages the previous version
/// (lib/MultiLevelHashing/README.md section 1.6). Temporary files left by a process that was killed are removed the
/// next time the same target is written.
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
        _temp = $"{_target}{TempMarker}{Environment.ProcessId}-{Guid.NewGuid():N}";
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
            if (pid == Environment.ProcessId || IsRunning(pid)) continue;
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

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
