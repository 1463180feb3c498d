namespace MultiLevelHashing.Runtime;

/// <summary>
/// Writes a file through a temporary sibling and a rename, so readers see either the old complete file or the
/// new complete file: <c>using var f = AtomicFile.Begin(path); f.Stream.Write(...); f.Commit();</c>. Disposing
/// without <see cref="Commit"/> deletes the temporary file and leaves any existing file untouched.
/// </summary>
public sealed class AtomicFile : IDisposable
{
    private readonly string _target;
    private readonly string _temp;
    private bool _committed;

    private AtomicFile(string target)
    {
        _target = Path.GetFullPath(target);
        Directory.CreateDirectory(Path.GetDirectoryName(_target)!);
        _temp = $"{_target}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        Stream = new FileStream(_temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
    }

    /// <summary>The temporary file being written.</summary>
    public FileStream Stream { get; }

    /// <summary>Starts writing <paramref name="path"/>; nothing is visible there until <see cref="Commit"/>.</summary>
    public static AtomicFile Begin(string path) => new(path);

    /// <summary>Flushes to disk and renames the temporary file over the target.</summary>
    public void Commit()
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_temp, _target, overwrite: true);
        _committed = true;
    }

    /// <summary>Removes the temporary file unless committed.</summary>
    public void Dispose()
    {
        Stream.Dispose();
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
}
