namespace MultiLevelHashing.Runtime;

/// <summary>Writes files so that a reader sees either the old complete file or the new complete file.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes through <paramref name="write"/> into a temporary file beside <paramref name="path"/>, flushes it
    /// to disk, then renames it over <paramref name="path"/>. On failure the temporary file is removed and the
    /// old file is untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Atomically writes UTF-8 text.</summary>
    public static void WriteAllText(string path, string text)
        => Write(path, s => { using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true); w.Write(text); });

    /// <summary>Atomically writes bytes.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }
}
