namespace MultiLevelHashing.Search;

/// <summary>
/// Writes a file through a temporary sibling and a rename, so readers never see a half-written file:
/// <c>using var f = AtomicFile.Begin(path); f.Stream.Write(...); f.Commit();</c>. Disposing without
/// <see cref="Commit"/> deletes the temporary file and leaves any existing file untouched.
/// </summary>
internal sealed class AtomicFile : IDisposable
{
    private readonly string _target;
    private readonly string _temp;
    private bool _committed;

    private AtomicFile(string target)
    {
        _target = Path.GetFullPath(target);
        string? dir = Path.GetDirectoryName(_target);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        _temp = _target + $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        Stream = new FileStream(_temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
    }

    /// <summary>The temporary file being written.</summary>
    public FileStream Stream { get; }

    public static AtomicFile Begin(string path) => new(path);

    /// <summary>Flushes to disk and renames the temporary file over the target.</summary>
    public void Commit()
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_temp, _target, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        Stream.Dispose();
        if (!_committed)
            try { File.Delete(_temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
