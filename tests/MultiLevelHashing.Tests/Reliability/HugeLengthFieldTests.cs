using System.Buffers.Binary;
using System.Text;
using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Data;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary>
/// Length fields that claim 2^40 rows (or a 2^40-byte payload) are refused from the header, before anything of that size
/// is allocated: each read allocates less than 1 MiB of managed memory.
/// </summary>
public sealed class HugeLengthFieldTests : IDisposable
{
    private const long Rows = 1L << 40;
    private const long Budget = 1 << 20;
    private readonly string _dir = TestPaths.NewTempDirectory("huge");

    public void Dispose() => Directory.Delete(_dir, true);

    private void RefusedWithoutAllocating(string name, byte[] bytes, Action<string> read, string phrase)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<UserInputException>(() => read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith(path, e.Message);
        Assert.True(e.Message.Contains(phrase), e.Message);
        Assert.True(allocated < Budget, $"{name}: {allocated} bytes allocated");
    }

    [Fact]
    public void NpyShapesOf2Pow40RowsAreRefused()
    {
        foreach (string shape in new[] { $"({Rows}, 8)", $"({Rows},)", "(2147483647, 2147483647)", $"(8, {Rows})" })
        {
            string dict = $"{{'descr': '|u1', 'fortran_order': False, 'shape': {shape}, }}";
            string text = dict.PadRight(118) + "\n";
            var bytes = new byte[10 + text.Length + 64];
            new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' }.CopyTo(bytes, 0);
            bytes[6] = 1;
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)text.Length);
            Encoding.ASCII.GetBytes(text).CopyTo(bytes, 10);
            RefusedWithoutAllocating($"huge-{shape.Length}.npy", bytes, p => NpyFile.ReadUInt8(p), shape.Contains(Rows.ToString()) ? "out of range" : "truncated");
        }
    }

    [Fact]
    public void IndexCountsOf2Pow40And2Pow30ImagesAreRefused()
    {
        string seed = Path.Combine(_dir, "seed.mlhidx");
        CodeIndexFile.Write(seed, ["a", "b"], [SyntheticCodes.Uniform(2, 64, 1)]);
        var bytes = File.ReadAllBytes(seed);
        // Header: magic (8), version (4), levels (4), bits (4 per level), then N as int64.
        foreach (long n in new[] { Rows, 1L << 30 })
        {
            var b = (byte[])bytes.Clone();
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(20), n);
            RefusedWithoutAllocating($"huge-{n}.mlhidx", b, p => CodeIndexFile.Open(p, verifyChecksum: false).Dispose(), "images");
            RefusedWithoutAllocating($"huge-{n}-checked.mlhidx", b, p => CodeIndexFile.Open(p).Dispose(), "images");
        }
    }

    [Fact]
    public void ContainerPayloadOf2Pow40BytesIsRefused()
    {
        var bytes = FileFuzzTests.SmallCheckpoint()[..4096];
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(12), Rows);
        RefusedWithoutAllocating("huge-payload.ckpt", bytes, p => Checkpoint.Read(p).Dispose(), "truncated or damaged");
    }

    [Fact]
    public void TensorShapesOf2Pow40RowsAreRefusedBehindAValidChecksum()
    {
        var checkpoint = FileFuzzTests.SmallCheckpoint();
        var crafted = FuzzHarness.Reseal(checkpoint, payload =>
        {
            using var r = new BinaryReader(new MemoryStream(payload), Encoding.UTF8);
            string header = r.ReadString();
            using var ms = new MemoryStream();
            using var w = new BinaryWriter(ms, Encoding.UTF8);
            w.Write(header);
            w.Write(1);
            w.Write("model.global_head.weight");
            w.Write((byte)1); // float32
            w.Write((byte)2);
            w.Write(Rows);
            w.Write(8L);
            w.Write(new byte[64]);
            w.Flush();
            return ms.ToArray();
        });
        RefusedWithoutAllocating("huge-tensor.ckpt", crafted, p => Checkpoint.Read(p).Dispose(), "needs more bytes than the file holds");
    }
}
