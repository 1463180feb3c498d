using System.Text;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;

namespace MultiLevelHashing.Tests.Search;

public sealed class NpyFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mlh-npy-" + Guid.NewGuid().ToString("N"));

    public NpyFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    // Bytes numpy 1.24 writes for np.save(f, np.array([[1, 2, 3], [250, 0, 7]], dtype=np.uint8)):
    // the header is fixed by the format spec (magic, version 1.0, little-endian length, dict padded to 64 bytes).
    private static byte[] NumpyUInt8Example()
    {
        string dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }";
        string text = dict.PadRight(128 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange(Encoding.ASCII.GetBytes("NUMPY"));
        bytes.AddRange([1, 0, (byte)text.Length, 0]);
        bytes.AddRange(Encoding.ASCII.GetBytes(text));
        bytes.AddRange([1, 2, 3, 250, 0, 7]);
        return bytes.ToArray();
    }

    [Fact]
    public void ReadsTheNumpyLayoutOfAUInt8Matrix()
    {
        File.WriteAllBytes(PathOf("a.npy"), NumpyUInt8Example());
        var a = NpyFile.ReadUInt8(PathOf("a.npy"));
        Assert.Equal(2, a.Rows);
        Assert.Equal(3, a.Columns);
        Assert.Equal(new byte[] { 1, 2, 3, 250, 0, 7 }, a.Data);
    }

    [Fact]
    public void WritesExactlyTheBytesNumpyWrites()
    {
        NpyFile.WriteUInt8(PathOf("b.npy"), new Array2D<byte>(2, 3, [1, 2, 3, 250, 0, 7]));
        Assert.Equal(NumpyUInt8Example(), File.ReadAllBytes(PathOf("b.npy")));
    }

    [Fact]
    public void HeaderIsPaddedToSixtyFourBytes()
    {
        NpyFile.WriteInt64(PathOf("c.npy"), new Array2D<long>(123456, 0));
        var header = NpyFile.ReadHeader(PathOf("c.npy"));
        Assert.Equal(0, header.DataOffset % 64);
        Assert.Equal("<i8", header.Descr);
        Assert.Equal(new long[] { 123456, 0 }, header.Shape);
    }

    [Fact]
    public void RoundTripsEveryElementType()
    {
        var l = new Array2D<long>(2, 2, [-1, long.MaxValue, 0, 42]);
        var i = new Array2D<int>(1, 3, [int.MinValue, 5, -7]);
        var f = new Array2D<float>(3, 1, [1.5f, float.NegativeInfinity, -0f]);
        NpyFile.WriteInt64(PathOf("l.npy"), l);
        NpyFile.WriteInt32(PathOf("i.npy"), i);
        NpyFile.WriteFloat32(PathOf("f.npy"), f);
        Assert.Equal(l.Data, NpyFile.ReadInt64(PathOf("l.npy")).Data);
        Assert.Equal(i.Data, NpyFile.ReadInt32(PathOf("i.npy")).Data);
        var fr = NpyFile.ReadFloat32(PathOf("f.npy"));
        Assert.Equal((3, 1), (fr.Rows, fr.Columns));
        Assert.Equal(f.Data, fr.Data);
    }

    [Fact]
    public void FortranOrderIsTransposedIntoRowMajor()
    {
        // (2, 3) array [[1,2,3],[4,5,6]] stored column-major: 1 4 2 5 3 6.
        string dict = "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }";
        string text = dict.PadRight(128 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange(Encoding.ASCII.GetBytes("NUMPY"));
        bytes.AddRange([1, 0, (byte)text.Length, 0]);
        bytes.AddRange(Encoding.ASCII.GetBytes(text));
        foreach (int v in new[] { 1, 4, 2, 5, 3, 6 }) bytes.AddRange(BitConverter.GetBytes(v));
        File.WriteAllBytes(PathOf("fo.npy"), bytes.ToArray());
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6 }, NpyFile.ReadInt32(PathOf("fo.npy")).Data);
    }

    [Fact]
    public void WrongTypeNamesTheFileAndBothTypes()
    {
        NpyFile.WriteInt32(PathOf("d.npy"), new Array2D<int>(1, 1, [3]));
        var e = Assert.Throws<UserInputException>(() => NpyFile.ReadUInt8(PathOf("d.npy")));
        Assert.Contains("d.npy", e.Message);
        Assert.Contains("int32", e.Message);
        Assert.Contains("uint8", e.Message);
    }

    [Fact]
    public void TruncatedDataIsReported()
    {
        NpyFile.WriteInt64(PathOf("t.npy"), new Array2D<long>(4, 4));
        var bytes = File.ReadAllBytes(PathOf("t.npy"));
        File.WriteAllBytes(PathOf("t.npy"), bytes[..^9]);
        var e = Assert.Throws<UserInputException>(() => NpyFile.ReadInt64(PathOf("t.npy")));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void NotANpyFileAndMissingFileAreReported()
    {
        File.WriteAllText(PathOf("x.npy"), "hello world, not numpy");
        Assert.Contains("not a .npy file", Assert.Throws<UserInputException>(() => NpyFile.ReadInt64(PathOf("x.npy"))).Message);
        Assert.Contains("not found", Assert.Throws<UserInputException>(() => NpyFile.ReadInt64(PathOf("missing.npy"))).Message);
    }

    [Fact]
    public void ThreeDimensionalArrayIsRejected()
    {
        string dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1, 1), }";
        string text = dict.PadRight(128 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange(Encoding.ASCII.GetBytes("NUMPY"));
        bytes.AddRange([1, 0, (byte)text.Length, 0]);
        bytes.AddRange(Encoding.ASCII.GetBytes(text));
        bytes.Add(9);
        File.WriteAllBytes(PathOf("3d.npy"), bytes.ToArray());
        Assert.Contains("2-D", Assert.Throws<UserInputException>(() => NpyFile.ReadUInt8(PathOf("3d.npy"))).Message);
    }

    [Fact]
    public void WriteLeavesNoTemporaryFiles()
    {
        NpyFile.WriteInt32(PathOf("w.npy"), new Array2D<int>(2, 2));
        NpyFile.WriteInt32(PathOf("w.npy"), new Array2D<int>(3, 2));
        Assert.Equal(["w.npy"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.Equal(3, NpyFile.ReadInt32(PathOf("w.npy")).Rows);
    }
}
