using System.Diagnostics;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary>How a file is damaged: cut short, bits flipped, a run overwritten with random bytes or zeros, bytes inserted.</summary>
public enum DamageKind { Truncate, FlipBits, RandomRun, ZeroRun, Insert }

/// <summary>
/// One damage of a file. <see cref="Where"/> picks the position in millionths of the length; when <see cref="InHeader"/>
/// is set it is taken within the first 256 bytes instead, where length fields and shapes live.
/// </summary>
public sealed record Damage(DamageKind Kind, int Where, bool InHeader, int Count, int Seed)
{
    /// <summary>The damaged copy of <paramref name="original"/>.</summary>
    public byte[] Apply(byte[] original)
    {
        int span = InHeader ? Math.Min(256, original.Length) : original.Length;
        int at = (int)((long)Where * Math.Max(1, span) / 1_000_000);
        at = Math.Clamp(at, 0, Math.Max(0, original.Length - 1));
        var random = new Random(Seed);
        var b = (byte[])original.Clone();
        if (b.Length == 0 && Kind != DamageKind.Insert) return b; // nothing to cut, flip or overwrite
        switch (Kind)
        {
            case DamageKind.Truncate:
                return original[..at];
            case DamageKind.FlipBits:
                for (int i = 0; i < Count; i++)
                {
                    int p = Math.Clamp(at + random.Next(-8, 9), 0, b.Length - 1);
                    b[p] ^= (byte)(1 << random.Next(8));
                }
                return b;
            case DamageKind.RandomRun:
                for (int i = at; i < Math.Min(b.Length, at + Count); i++) b[i] = (byte)random.Next(256);
                return b;
            case DamageKind.ZeroRun:
                Array.Clear(b, at, Math.Min(Count, b.Length - at));
                return b;
            default:
                var extra = new byte[Count];
                random.NextBytes(extra);
                return [.. original[..at], .. extra, .. original[at..]];
        }
    }
}

/// <summary>FsCheck generators of <see cref="Damage"/>.</summary>
public static class DamageArbitrary
{
    public static Arbitrary<Damage> Damages() => Arb.From(
        from kind in Gen.Elements(DamageKind.Truncate, DamageKind.FlipBits, DamageKind.RandomRun, DamageKind.ZeroRun, DamageKind.Insert)
        from position in Gen.Choose(0, 999_999)
        from inHeader in Gen.Elements(true, false)
        from count in Gen.Choose(1, 24)
        from seed in Gen.Choose(0, int.MaxValue)
        select new Damage(kind, position, inHeader, count, seed));
}

/// <summary>What a reader did with a damaged file.</summary>
public enum Verdict { Rejected, Accepted }

/// <summary>
/// Runs a reader on damaged bytes and holds it to the rules: it either returns or raises a <see cref="UserInputException"/>
/// whose message names the file; any other exception fails; it allocates at most a bounded multiple of the file's size and
/// finishes within seconds. Counts every case per format.
/// </summary>
public static class FuzzHarness
{
    private static readonly Dictionary<(string Format, Verdict Verdict), int> Counts = new();

    /// <summary>Cases run so far, by format and verdict.</summary>
    public static IReadOnlyDictionary<(string Format, Verdict Verdict), int> CasesRun
    {
        get { lock (Counts) return new Dictionary<(string, Verdict), int>(Counts); }
    }

    /// <summary>Managed bytes a read of <paramref name="fileBytes"/> bytes may allocate: 8 times the file plus 4 MiB.</summary>
    public static long AllocationBound(long fileBytes) => 8 * fileBytes + (4 << 20);

    public static Verdict Run(string format, string path, byte[] bytes, Action<string> read)
    {
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        Verdict verdict;
        try
        {
            read(path);
            verdict = Verdict.Accepted;
        }
        catch (UserInputException e)
        {
            Assert.Contains(path, e.Message);
            verdict = Verdict.Rejected;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= AllocationBound(bytes.Length), $"{format}: reading {bytes.Length} bytes allocated {allocated} bytes");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{format}: reading took {watch.Elapsed}");
        lock (Counts) Counts[(format, verdict)] = Counts.GetValueOrDefault((format, verdict)) + 1;
        return verdict;
    }

    /// <summary>A <see cref="ChecksummedFile"/> whose payload is replaced and whose checksum is recomputed (a crafted, well-sealed file).</summary>
    public static byte[] Reseal(byte[] container, Func<byte[], byte[]> changePayload)
    {
        const int header = 8 + 4 + 8;
        byte[] payload = changePayload(container[header..^32]);
        var result = new byte[header + payload.Length + 32];
        container.AsSpan(0, 12).CopyTo(result);
        BitConverter.TryWriteBytes(result.AsSpan(12, 8), (long)payload.Length);
        payload.CopyTo(result, header);
        SHA256.HashData(payload).CopyTo(result, header + payload.Length);
        return result;
    }
}
