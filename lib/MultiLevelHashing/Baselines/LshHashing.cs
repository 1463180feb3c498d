using MultiLevelHashing.Search;

namespace MultiLevelHashing.Baselines;

/// <summary>
/// Locality-sensitive hashing by random projections (Charikar's sign random projections): bit k = [w_k . (x - mu) &gt; 0]
/// with w_k ~ N(0, I). The unsupervised hashing baseline of the paper's tables (lib/MultiLevelHashing/README.md section 2.9) at the same bit
/// count as the DSCNN codes, applied to the same backbone's float descriptors. Centering on the mean mu of the fit
/// descriptors (the training views' everywhere in the tables and notebooks) matters: ReLU features are all
/// non-negative, and uncentered projections of them waste bits on a shared offset.
/// </summary>
public sealed class LshHashing
{
    private readonly float[] _projections; // bits x dimension, row-major
    private readonly float[] _mean;

    /// <summary>Code length K.</summary>
    public int Bits { get; }

    /// <summary>Descriptor dimension.</summary>
    public int Dimension { get; }

    private LshHashing(int bits, int dimension, float[] projections, float[] mean)
    {
        Bits = bits;
        Dimension = dimension;
        _projections = projections;
        _mean = mean;
    }

    /// <summary>
    /// Draws <paramref name="bits"/> Gaussian projections of <paramref name="dimension"/>-D descriptors from
    /// <paramref name="seed"/>; centers on the mean of <paramref name="fitDescriptors"/> (n x dimension) when given.
    /// </summary>
    public static LshHashing Create(int bits, int dimension, int seed, ReadOnlySpan<float> fitDescriptors = default)
    {
        BitPacking.ValidateBits(bits);
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension));
        var rng = new Random(seed);
        var w = new float[bits * dimension];
        for (int i = 0; i < w.Length; i++)
        {
            // Box-Muller: deterministic across platforms for a seeded System.Random.
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            w[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        var mean = new float[dimension];
        if (!fitDescriptors.IsEmpty)
        {
            if (fitDescriptors.Length % dimension != 0) throw new ArgumentException("descriptors must be n x dimension");
            int n = fitDescriptors.Length / dimension;
            var sum = new double[dimension];
            for (int r = 0; r < n; r++)
                for (int d = 0; d < dimension; d++) sum[d] += fitDescriptors[r * dimension + d];
            for (int d = 0; d < dimension; d++) mean[d] = (float)(sum[d] / n);
        }
        return new LshHashing(bits, dimension, w, mean);
    }

    /// <summary>Real-valued projections w_k . (x - mu) of n descriptors (n x K).</summary>
    public float[] Project(ReadOnlySpan<float> descriptors)
    {
        if (descriptors.Length % Dimension != 0) throw new ArgumentException("descriptors must be n x dimension");
        int n = descriptors.Length / Dimension;
        var output = new float[n * Bits];
        var centered = new float[Dimension];
        for (int r = 0; r < n; r++)
        {
            for (int d = 0; d < Dimension; d++) centered[d] = descriptors[r * Dimension + d] - _mean[d];
            for (int k = 0; k < Bits; k++)
            {
                var row = _projections.AsSpan(k * Dimension, Dimension);
                double dot = 0;
                for (int d = 0; d < Dimension; d++) dot += row[d] * centered[d];
                output[r * Bits + k] = (float)dot;
            }
        }
        return output;
    }

    /// <summary>Packed codes of n descriptors (n x dimension).</summary>
    public PackedCodes Encode(ReadOnlySpan<float> descriptors) => PackedCodes.FromReal(Project(descriptors), Bits);
}
