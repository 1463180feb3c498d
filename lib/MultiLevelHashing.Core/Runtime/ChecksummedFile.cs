using System.Security.Cryptography;
using System.Text;

namespace MultiLevelHashing.Runtime;

/// <summary>
/// The container of the toolkit's binary files (checkpoints, feature caches): an 8-byte magic naming the kind of
/// file, a format version, the payload length, the payload, and a SHA-256 of the payload. Written through
/// <see cref="AtomicFile"/>, so a reader sees the old file or the new one, never a half-written one. Reading checks
/// magic, version, length and checksum before the payload is parsed, and names the file and the problem otherwise.
/// </summary>
public static class ChecksummedFile
{
    private const int HashLength = 32;

    /// <summary>Writes <paramref name="path"/> atomically; <paramref name="writePayload"/> writes the payload.</summary>
    public static void Write(string path, ReadOnlySpan<byte> magic, int version, Action<BinaryWriter> writePayload)
    {
        if (magic.Length != 8) throw new ArgumentException("the magic is 8 bytes", nameof(magic));
        using var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true)) writePayload(w);
        var body = payload.GetBuffer().AsSpan(0, (int)payload.Length);
        byte[] hash = SHA256.HashData(body);
        using var file = AtomicFile.Begin(path);
        file.Stream.Write(magic);
        Span<byte> numbers = stackalloc byte[12];
        BitConverter.TryWriteBytes(numbers[..4], version);
        BitConverter.TryWriteBytes(numbers[4..], (long)body.Length);
        file.Stream.Write(numbers);
        file.Stream.Write(body);
        file.Stream.Write(hash);
        file.Commit();
    }

    /// <summary>
    /// The payload of <paramref name="path"/> as <see cref="ReadPayload"/> reads it, or null when the file does not exist or
    /// fails any check: for caches, whose damaged entries are computed again rather than reported.
    /// </summary>
    public static byte[]? TryReadPayload(string path, ReadOnlySpan<byte> magic, int version, string kind)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return ReadPayload(path, magic, version, kind);
        }
        catch (UserInputException)
        {
            return null;
        }
    }

    /// <summary>
    /// The verified payload of <paramref name="path"/>. <paramref name="kind"/> names the file kind in errors
    /// ("checkpoint", "feature cache"). Throws <see cref="UserInputException"/> naming the file when it is missing,
    /// of another kind or version, truncated, or damaged.
    /// </summary>
    public static byte[] ReadPayload(string path, ReadOnlySpan<byte> magic, int version, string kind)
    {
        if (!File.Exists(path)) throw UserInputException.InFile(path, $"{kind} not found");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            // The header is checked before the payload is read, so a wrong or huge file costs no allocation.
            int header = magic.Length + 4 + 8;
            Span<byte> head = stackalloc byte[header];
            if (stream.ReadAtLeast(head, header, throwOnEndOfStream: false) < header || !head[..magic.Length].SequenceEqual(magic))
                throw UserInputException.InFile(path, $"not a {kind} (bad magic)");
            int found = BitConverter.ToInt32(head[magic.Length..]);
            if (found != version)
                throw UserInputException.InFile(path, $"{kind} format version {found}; this build reads version {version}");
            long length = BitConverter.ToInt64(head[(magic.Length + 4)..]);
            long onDisk = stream.Length - header - HashLength;
            if (length < 0 || length != onDisk || length > Array.MaxLength)
                throw UserInputException.InFile(path, $"truncated or damaged {kind} (header says {length} payload bytes, file has {Math.Max(0, onDisk)})");
            var body = new byte[length];
            stream.ReadExactly(body);
            Span<byte> stored = stackalloc byte[HashLength];
            stream.ReadExactly(stored);
            if (!SHA256.HashData(body).AsSpan().SequenceEqual(stored))
                throw UserInputException.InFile(path, $"damaged {kind} (SHA-256 checksum mismatch)");
            return body;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw UserInputException.InFile(path, $"cannot read the {kind}: {e.Message}");
        }
    }
}
