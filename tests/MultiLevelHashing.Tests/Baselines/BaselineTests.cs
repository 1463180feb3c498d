using MultiLevelHashing.Baselines;
using MultiLevelHashing.Search;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Baselines;

public class BaselineTests
{
    [Fact]
    public void LshBitsAreSignsOfCenteredGaussianProjections()
    {
        var rng = new Random(3);
        int n = 20, dim = 12;
        var x = Enumerable.Range(0, n * dim).Select(_ => (float)rng.NextDouble() * 5).ToArray();
        var lsh = LshHashing.Create(bits: 16, dimension: dim, seed: 9, fitDescriptors: x);
        var real = lsh.Project(x);
        using var codes = lsh.Encode(x);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 16; k++)
                Assert.Equal(real[i * 16 + k] > 0, BitPacking.GetBit(codes.Code(i), k));
        // Centred on the fitted mean: the projections of the mean itself are zero.
        var mean = Enumerable.Range(0, dim).Select(d => Enumerable.Range(0, n).Average(r => x[r * dim + d])).Select(v => (float)v).ToArray();
        Assert.All(lsh.Project(mean), v => Assert.True(Math.Abs(v) < 1e-4));
        // Bits are balanced-ish on centred data and the code is seeded.
        Assert.Equal(real, LshHashing.Create(16, dim, 9, x).Project(x));
        Assert.NotEqual(real, LshHashing.Create(16, dim, 10, x).Project(x));
    }

    [Fact]
    public void LshPreservesAngularNeighbourhoods()
    {
        // Sign random projections: P[bit differs] = angle / pi; near-duplicates differ in far fewer bits.
        var rng = new Random(1);
        int dim = 64, n = 200;
        var a = Enumerable.Range(0, n * dim).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var near = a.Select(v => v + (float)(rng.NextDouble() - 0.5) * 0.1f).ToArray();
        var lsh = LshHashing.Create(256, dim, seed: 2);
        using var ca = lsh.Encode(a);
        using var cn = lsh.Encode(near);
        double nearD = Enumerable.Range(0, n).Average(i => BitPacking.Hamming(ca.Code(i), cn.Code(i)));
        double farD = Enumerable.Range(0, n - 1).Average(i => BitPacking.Hamming(ca.Code(i), ca.Code(i + 1)));
        Assert.True(nearD < 0.25 * farD, $"near {nearD}, far {farD}");
        Assert.InRange(farD, 0.4 * 256, 0.6 * 256); // independent random vectors: about K/2
    }

    [Fact]
    public void DescriptorsAreUnitLengthAndRMacRegionsCoverTheMap()
    {
        using var f = rand(2, 8, 7, 10);
        foreach (var p in Enum.GetValues<DescriptorPooling>())
        {
            using var d = FloatDescriptors.Pool(f, p);
            Assert.Equal(new long[] { 2, 8 }, d.shape);
            using var norms = d.norm(1);
            Assert.True(norms.allclose(ones(2), rtol: 1e-5, atol: 1e-5));
        }
        using (var gap = FloatDescriptors.Pool(f, DescriptorPooling.Gap))
        using (var manual = nn.functional.normalize(f.mean([2, 3]), dim: 1))
            Assert.True(gap.allclose(manual));
        var regions = FloatDescriptors.Regions(7, 10).ToList();
        Assert.All(regions, r => Assert.True(r.Y >= 0 && r.X >= 0 && r.Y + r.Side <= 7 && r.X + r.Side <= 10));
        Assert.Equal(1 + 4 + 9, FloatDescriptors.Regions(7, 7).Count()); // l x l regions at scale l on a square map
        Assert.Contains((0L, 0L, 7L), FloatDescriptors.Regions(7, 7));
    }
}
