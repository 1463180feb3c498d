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
    /// The verified payload of <paramref name="path"/>. <paramref name="kind"/> names the file kind in errors
    /// ("checkpoint", "feature cache"). Throws <see cref="UserInputException"/> naming the file when it is missing,
    /// of another kind or version, truncated, or damaged.
    /// </summary>
    public static byte[] ReadPayload(string path, ReadOnlySpan<byte> magic, int version, string kind)
    {
        if (!File.Exists(path)) throw UserInputException.InFile(path, $"{kind} not found");
        byte[] all;
        try
        {
            all = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw UserInputException.InFile(path, $"cannot read the {kind}: {e.Message}");
        }
        int header = magic.Length + 4 + 8;
        if (all.Length < header || !all.AsSpan(0, magic.Length).SequenceEqual(magic))
            throw UserInputException.InFile(path, $"not a {kind} (bad magic)");
        int found = BitConverter.ToInt32(all, magic.Length);
        if (found != version)
            throw UserInputException.InFile(path, $"{kind} format version {found}; this build reads version {version}");
        long length = BitConverter.ToInt64(all, magic.Length + 4);
        if (length < 0 || header + length + HashLength != all.Length)
            throw UserInputException.InFile(path,
                $"truncated or damaged {kind} (header says {length} payload bytes, file has {all.Length - header - HashLength})");
        var body = all.AsSpan(header, (int)length);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(all.AsSpan(header + (int)length, HashLength)))
            throw UserInputException.InFile(path, $"damaged {kind} (SHA-256 checksum mismatch)");
        return body.ToArray();
    }
}
