using MultiLevelHashing.Baselines;

namespace MultiLevelHashing.Tests.Baselines;

public class QuantizationHashingTests
{
    /// <summary>n Gaussian rows whose 16 dimensions have the standard deviations <see cref="Spread"/>, plus an offset.</summary>
    private static float[] Data(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n * Spread.Length];
        for (int r = 0; r < n; r++)
            for (int d = 0; d < Spread.Length; d++)
            {
                double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
                x[r * Spread.Length + d] = (float)(3 + Spread[d] * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
        return x;
    }

    private static readonly double[] Spread = [1, 5, 2, 8, 3, 7, 0.5, 6, 0.2, 4, 0.3, 0.1, 0.4, 0.6, 0.7, 0.8];

    /// <summary>Row j of the projection: Project(e_j) - Project(0), since the projection is affine.</summary>
    private static double[] Row(QuantizationHashing hash, int j)
    {
        var e = new float[hash.Dimension];
        e[j] = 1;
        var a = hash.Project(e);
        var b = hash.Project(new float[hash.Dimension]);
        return [.. a.Zip(b, (p, q) => p - q)];
    }

    [Fact]
    public void PcaHashingProjectsOnTheAxesOfLargestVarianceInOrder()
    {
        var hash = QuantizationHashing.Pca(8, 16, Data(4000, 1));
        // Axes by decreasing spread: 3 (8), 5 (7), 7 (6), 1 (5), 9 (4), 4 (3), 2 (2), 0 (1).
        int[] expected = [3, 5, 7, 1, 9, 4, 2, 0];
        for (int k = 0; k < 8; k++)
        {
            int axis = expected[k];
            Assert.True(Math.Abs(Row(hash, axis)[k]) > 0.99, $"bit {k} should project on axis {axis}");
        }
    }

    [Fact]
    public void ItqLossNeverIncreasesItsRotationStaysOrthogonalAndItBeatsPcah()
    {
        var data = Data(2000, 2);
        var itq = QuantizationHashing.Itq(8, 16, data, seed: 3);
        Assert.Equal(50, itq.Losses.Count);
        for (int t = 1; t < itq.Losses.Count; t++)
            Assert.True(itq.Losses[t] <= itq.Losses[t - 1] + 1e-9, $"loss rose at iteration {t}: {itq.Losses[t - 1]} -> {itq.Losses[t]}");
        var r = itq.Rotation;
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
            {
                double dot = 0;
                for (int k = 0; k < 8; k++) dot += r[i * 8 + k] * r[j * 8 + k];
                Assert.Equal(i == j ? 1.0 : 0.0, dot, 9);
            }
        var pcah = QuantizationHashing.Pca(8, 16, data);
        Assert.True(itq.QuantizationLossOn(data) < pcah.QuantizationLossOn(data),
            $"ITQ {itq.QuantizationLossOn(data)} should quantize better than PCAH {pcah.QuantizationLossOn(data)}");
        // The library's own loss of the last iteration is the loss of the fitted hash on the same data.
        Assert.Equal(itq.Losses[^1], itq.QuantizationLossOn(data), 6);
        // Same seed, same codes.
        using var a = itq.Encode(data);
        using var b = QuantizationHashing.Itq(8, 16, data, seed: 3).Encode(data);
        Assert.Equal(a.AllWords.ToArray(), b.AllWords.ToArray());
    }

    [Fact]
    public void RefusesMoreBitsThanDimensions()
    {
        Assert.Throws<ArgumentException>(() => QuantizationHashing.Pca(32, 16, Data(10, 0)));
    }
}
