using MultiLevelHashing.Baselines;
using MultiLevelHashing.Model;
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
        foreach (var p in Enum.GetValues<FeaturePooling>())
        {
            using var d = FloatDescriptors.Pool(f, p);
            Assert.Equal(new long[] { 2, 8 }, d.shape);
            using var norms = d.norm(1);
            Assert.True(norms.allclose(ones(2), rtol: 1e-5, atol: 1e-5));
        }
        using (var gap = FloatDescriptors.Pool(f, FeaturePooling.Gap))
        using (var manual = nn.functional.normalize(f.mean([2, 3]), dim: 1))
            Assert.True(gap.allclose(manual));
        var regions = FloatDescriptors.Regions(7, 10).ToList();
        Assert.All(regions, r => Assert.True(r.Y >= 0 && r.X >= 0 && r.Y + r.Side <= 7 && r.X + r.Side <= 10));
        Assert.Equal(1 + 4 + 9, FloatDescriptors.Regions(7, 7).Count()); // l x l regions at scale l on a square map
        Assert.Contains((0L, 0L, 7L), FloatDescriptors.Regions(7, 7));
    }

    [Fact]
    public void GemIsOnePoolingForTheHeadAndTheFloatDescriptorsAndMatchesItsDefinition()
    {
        // Negative and zero values too: GeM clamps at 1e-6 before the power.
        using var f = rand(3, 5, 4, 6, generator: new Generator(7)) * 4 - 1;
        using var head = GlobalHashHead.Pool(f, FeaturePooling.GeM);
        using var descriptor = FloatDescriptors.Pool(f, FeaturePooling.GeM);

        // Brute force, in double: (mean over positions of max(F, 1e-6)^3)^(1/3) per image and channel.
        var values = f.data<float>().ToArray();
        var expected = new double[3 * 5];
        for (int n = 0; n < 3; n++)
            for (int c = 0; c < 5; c++)
            {
                double sum = 0;
                for (int i = 0; i < 4 * 6; i++) sum += Math.Pow(Math.Max(values[(n * 5 + c) * 24 + i], 1e-6f), 3);
                expected[n * 5 + c] = Math.Pow(sum / 24, 1.0 / 3);
            }
        var pooled = head.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], pooled[i], 1e-5);

        // The float descriptor is the head's pooling, L2-normalised, bit for bit.
        using (var normalized = nn.functional.normalize(head, dim: 1))
            Assert.True(descriptor.equal(normalized).all().item<bool>());
        // And bit for bit what the two separate implementations computed before they were one.
        using (var formerDescriptor = nn.functional.normalize(f.clamp_min(1e-6).pow(3).mean([2, 3]).pow(1.0 / 3), dim: 1))
            Assert.True(descriptor.equal(formerDescriptor).all().item<bool>());
        using (var formerHead = f.clamp_min(1e-6).pow(3.0).mean([2, 3]).pow(1.0 / 3.0))
            Assert.True(head.equal(formerHead).all().item<bool>());
    }

    [Fact]
    public void TheGlobalHeadRefusesRMacAndArchitectureFilesKeepTheirPoolingNames()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GlobalHashHead(8, 16, FeaturePooling.RMac));
        var options = new System.Text.Json.JsonSerializerOptions { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };
        Assert.Equal("\"Average\"", System.Text.Json.JsonSerializer.Serialize(FeaturePooling.Gap, options));
        Assert.Equal("\"GeM\"", System.Text.Json.JsonSerializer.Serialize(FeaturePooling.GeM, options));
        Assert.Equal(FeaturePooling.Gap, System.Text.Json.JsonSerializer.Deserialize<FeaturePooling>("\"Average\"", options));
    }
}
