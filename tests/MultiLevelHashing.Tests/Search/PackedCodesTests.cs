using MultiLevelHashing.Search;

namespace MultiLevelHashing.Tests.Search;

public class PackedCodesTests
{
    [Fact]
    public void PackMatchesFaissFvec2bitvec()
    {
        // fvec2bitvec: bit j in byte j/8 at position j%8, set where x_j > 0 (0 and negatives give 0).
        float[] real = [1, -1, 0, 0.5f, -0.1f, 2, 0, 0, /* byte 1 */ -1, -1, -1, -1, -1, -1, -1, 3];
        var packed = new byte[2];
        BitPacking.Pack(real, packed);
        Assert.Equal(0b0010_1001, packed[0]);
        Assert.Equal(0b1000_0000, packed[1]);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(72)]
    [InlineData(256)]
    [InlineData(1024)]
    public void BytesRoundTripAndBitsAgree(int bits)
    {
        var rng = new Random(bits);
        var bytes = new byte[5 * bits / 8];
        rng.NextBytes(bytes);
        var codes = PackedCodes.FromBytes(bytes, bits);
        Assert.Equal(5, codes.Count);
        Assert.Equal((bits + 63) / 64, codes.WordsPerCode);
        Assert.Equal(bytes, codes.ToArray().Data);
        for (int i = 0; i < 5; i++)
        {
            var row = bytes.AsSpan(i * bits / 8, bits / 8);
            for (int j = 0; j < bits; j++)
                Assert.Equal(BitPacking.GetBit(row, j), BitPacking.GetBit(codes.Code(i), j));
        }
    }

    [Fact]
    public void AppendGrowsTheDatabase()
    {
        var codes = new PackedCodes(72);
        var rng = new Random(1);
        var all = new List<byte>();
        for (int batch = 0; batch < 50; batch++)
        {
            var b = new byte[(batch % 7) * 9];
            rng.NextBytes(b);
            codes.Append(b);
            all.AddRange(b);
        }
        Assert.Equal(all.Count / 9, codes.Count);
        Assert.Equal(all.ToArray(), codes.ToArray().Data);
    }

    [Fact]
    public void HammingEqualsCountOfDifferingBits()
    {
        var rng = new Random(3);
        var a = new byte[9];
        var b = new byte[9];
        rng.NextBytes(a);
        rng.NextBytes(b);
        int expected = 0;
        for (int j = 0; j < 72; j++) if (BitPacking.GetBit(a, j) != BitPacking.GetBit(b, j)) expected++;
        var codes = PackedCodes.FromBytes([.. a, .. b], 72);
        Assert.Equal(expected, BitPacking.Hamming(codes.Code(0), codes.Code(1)));
        Assert.Equal(expected, BitPacking.Hamming(a, b));
    }

    [Fact]
    public void FromRealUsesSignConvention()
    {
        var real = new float[16];
        real[3] = 0.2f;
        real[9] = -4f;
        real[15] = 1e-9f;
        var codes = PackedCodes.FromReal(real, 8);
        Assert.Equal(new byte[] { 0b0000_1000, 0b1000_0000 }, codes.ToArray().Data);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(12)]
    [InlineData(1032)]
    public void InvalidCodeLengthsAreRejected(int bits)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new PackedCodes(bits));

    [Fact]
    public void NpyRoundTrip()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlh-codes-{Guid.NewGuid():N}.npy");
        try
        {
            var bytes = new byte[3 * 32];
            new Random(5).NextBytes(bytes);
            PackedCodes.FromBytes(bytes, 256).WriteNpy(path);
            var back = PackedCodes.ReadNpy(path);
            Assert.Equal(256, back.Bits);
            Assert.Equal(bytes, back.ToArray().Data);
        }
        finally { File.Delete(path); }
    }
}
