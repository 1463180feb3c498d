using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Training;

public class LearnedWhiteningTests
{
    /// <summary>
    /// Synthetic landmarks in 6-D: landmark identity lives in dimensions 0-2 (class means far apart), a strong
    /// nuisance (think: background clutter) varies every image along dimension 3 regardless of landmark, and
    /// dimensions 4-5 carry faint noise.
    /// </summary>
    private static (float[] X, int[] Labels) Landmarks(int perLandmark, int seed)
    {
        var rng = new Random(seed);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var means = new[] { new[] { 3.0, 0, 0 }, new[] { 0, 3.0, 0 }, new[] { 0, 0, 3.0 }, new[] { -3.0, 0, 0 }, new[] { 0, -3.0, 0 } };
        var x = new List<float>();
        var labels = new List<int>();
        for (int l = 0; l < means.Length; l++)
            for (int i = 0; i < perLandmark; i++)
            {
                for (int d = 0; d < 3; d++) x.Add((float)(means[l][d] + 0.1 * Gauss()));
                x.Add((float)(5 * Gauss()));
                x.Add((float)(0.1 * Gauss()));
                x.Add((float)(0.1 * Gauss()));
                labels.Add(l);
            }
        return (x.ToArray(), labels.ToArray());
    }

    private static double[] Project(LinearProjection p, float[] x, int row)
    {
        var z = new double[p.Bits];
        for (int k = 0; k < p.Bits; k++)
        {
            double s = p.Bias[k];
            for (int c = 0; c < p.Dimension; c++) s += p.Weight[k * p.Dimension + c] * x[row * p.Dimension + c];
            z[k] = s;
        }
        return z;
    }

    [Fact]
    public void SuppressesTheWithinLandmarkNuisanceThatPcaWouldKeep()
    {
        var (x, labels) = Landmarks(40, 1);
        var fit = LearnedWhitening.Fit(x, labels, bits: 3, shrinkage: 0.01, seed: 0);
        // PCA's leading direction would be the nuisance (variance 25 against about 3.6 for the landmark axes).
        // After whitening by the within-landmark scatter, the kept directions must hardly read dimension 3.
        double nuisance = 0, identity = 0;
        for (int k = 0; k < 3; k++)
        {
            nuisance += Math.Abs(fit.Weight[k * 6 + 3]);
            for (int d = 0; d < 3; d++) identity += Math.Abs(fit.Weight[k * 6 + d]);
        }
        Assert.True(nuisance < 0.02 * identity, $"weight on the nuisance {nuisance:g3} vs on the landmark axes {identity:g3}");
    }

    [Fact]
    public void ProjectionsAreCentredWithUnitVarianceOnTheFittedData()
    {
        var (x, labels) = Landmarks(30, 2);
        var fit = LearnedWhitening.Fit(x, labels, bits: 4, shrinkage: 1.0, seed: 5);
        int n = labels.Length;
        var rows = Enumerable.Range(0, n).Select(i => Project(fit, x, i)).ToArray();
        for (int k = 0; k < 4; k++)
        {
            double mean = rows.Average(r => r[k]);
            double sd = Math.Sqrt(rows.Sum(r => (r[k] - mean) * (r[k] - mean)) / (n - 1));
            Assert.Equal(0, mean, 4);
            Assert.Equal(1, sd, 3);
        }
    }

    [Fact]
    public void SameSeedSameProjectionOtherSeedOtherRotation()
    {
        var (x, labels) = Landmarks(20, 3);
        var a = LearnedWhitening.Fit(x, labels, 4, 1.0, seed: 7);
        var b = LearnedWhitening.Fit(x, labels, 4, 1.0, seed: 7);
        var c = LearnedWhitening.Fit(x, labels, 4, 1.0, seed: 8);
        Assert.Equal(a.Weight, b.Weight);
        Assert.Equal(a.Bias, b.Bias);
        Assert.NotEqual(a.Weight, c.Weight);
    }

    [Fact]
    public void RejectsImpossibleRequests()
    {
        var (x, labels) = Landmarks(5, 4);
        Assert.Throws<ArgumentException>(() => LearnedWhitening.Fit(x, labels, bits: 7, shrinkage: 1, seed: 0));
        Assert.Throws<ArgumentException>(() => LearnedWhitening.Fit(x, labels.Select((_, i) => i).ToArray(), 2, 1, 0));
        Assert.Throws<ArgumentException>(() => LearnedWhitening.Fit(x[..^1], labels, 2, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearnedWhitening.Fit(x, labels, 2, -1, 0));
    }
}
