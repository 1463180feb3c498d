using MultiLevelHashing.Search;
using static TorchSharp.torch;

namespace MultiLevelHashing.Baselines;

/// <summary>
/// Unsupervised hashing by a learned linear projection of centred descriptors, bit k = [((x - mu) P)_k &gt; 0]
/// (lib/MultiLevelHashing/README.md section 2.9): PCA hashing (PCAH: P = the K leading principal directions) and
/// iterative quantization (ITQ, Gong and Lazebnik, CVPR 2011: P = the principal directions times the orthogonal
/// rotation R that minimises the quantization loss ||B - V R||_F^2, B = sign(V R), V the centred PCA projections).
/// Both are fitted on descriptors only (no labels), in float64.
/// </summary>
public sealed class QuantizationHashing
{
    private readonly double[] _projection; // dimension x bits, row-major
    private readonly double[] _mean;

    /// <summary>Code length K.</summary>
    public int Bits { get; }

    /// <summary>P, dimension x K, row-major (column k is bit k's direction).</summary>
    internal double[] ProjectionMatrix => _projection;

    /// <summary>mu, the mean of the fitted descriptors.</summary>
    internal double[] DescriptorMean => _mean;

    /// <summary>Descriptor dimension.</summary>
    public int Dimension { get; }

    /// <summary>ITQ's quantization loss ||B - V R||_F^2 / n after each iteration (empty for PCAH).</summary>
    public IReadOnlyList<double> Losses { get; }

    /// <summary>ITQ's rotation R (K x K, row-major), or the identity for PCAH.</summary>
    public double[] Rotation { get; }

    private QuantizationHashing(int bits, int dimension, double[] projection, double[] mean, double[] rotation, IReadOnlyList<double> losses)
    {
        Bits = bits; Dimension = dimension; _projection = projection; _mean = mean; Rotation = rotation; Losses = losses;
    }

    /// <summary>PCAH: the <paramref name="bits"/> leading principal directions of <paramref name="fitDescriptors"/> (n x dimension).</summary>
    public static QuantizationHashing Pca(int bits, int dimension, ReadOnlySpan<float> fitDescriptors)
    {
        using var scope = NewDisposeScope();
        var (centred, mean, directions) = PrincipalDirections(bits, dimension, fitDescriptors);
        return new QuantizationHashing(bits, dimension, directions.data<double>().ToArray(), mean, Identity(bits), []);
    }

    /// <summary>ITQ with <paramref name="iterations"/> alternations from a seeded random rotation.</summary>
    public static QuantizationHashing Itq(int bits, int dimension, ReadOnlySpan<float> fitDescriptors, int seed, int iterations = 50)
    {
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations));
        using var scope = NewDisposeScope();
        var (centred, mean, directions) = PrincipalDirections(bits, dimension, fitDescriptors);
        var v = centred.matmul(directions);
        var rotation = RandomRotation(bits, seed);
        var losses = new List<double>();
        for (int t = 0; t < iterations; t++)
        {
            // Fix R, the best B is sign(V R); fix B, the best orthogonal R is the Procrustes solution U W^T of V^T B = U S W^T.
            var b = Sign(v.matmul(rotation));
            var (u, _, wt) = linalg.svd(v.T.matmul(b), fullMatrices: false);
            rotation = u.matmul(wt);
            losses.Add(QuantizationLoss(v, rotation));
        }
        var projection = directions.matmul(rotation);
        return new QuantizationHashing(bits, dimension, projection.data<double>().ToArray(), mean, rotation.data<double>().ToArray(), losses);
    }

    /// <summary>||sign(V R) - V R||_F^2 / n: how far the rotated projections are from their bits.</summary>
    public static double QuantizationLoss(Tensor v, Tensor rotation)
    {
        using var scope = NewDisposeScope();
        var vr = v.matmul(rotation);
        return (Sign(vr) - vr).pow(2).sum().item<double>() / v.shape[0];
    }

    /// <summary>The quantization loss of this hash on <paramref name="descriptors"/>: ||sign(P(x)) - P(x)||^2 averaged over rows.</summary>
    internal double QuantizationLossOn(ReadOnlySpan<float> descriptors)
    {
        var p = Project(descriptors);
        double sum = 0;
        foreach (double x in p)
        {
            double error = (x > 0 ? 1 : -1) - x;
            sum += error * error;
        }
        return sum / (p.Length / Bits);
    }

    /// <summary>Real-valued projections (x - mu) P of n descriptors (n x K, row-major).</summary>
    public double[] Project(ReadOnlySpan<float> descriptors)
    {
        if (descriptors.Length % Dimension != 0) throw new ArgumentException("descriptors must be n x dimension");
        int n = descriptors.Length / Dimension;
        var output = new double[n * Bits];
        for (int r = 0; r < n; r++)
            for (int d = 0; d < Dimension; d++)
            {
                double c = descriptors[r * Dimension + d] - _mean[d];
                for (int k = 0; k < Bits; k++) output[r * Bits + k] += c * _projection[d * Bits + k];
            }
        return output;
    }

    /// <summary>Packed codes of n descriptors.</summary>
    public PackedCodes Encode(ReadOnlySpan<float> descriptors) =>
        PackedCodes.FromReal([.. Project(descriptors).Select(x => (float)x)], Bits);

    private static Tensor Sign(Tensor x) => where(x > 0, ones_like(x), -ones_like(x));

    private static double[] Identity(int k)
    {
        var r = new double[k * k];
        for (int i = 0; i < k; i++) r[i * k + i] = 1;
        return r;
    }

    private static (Tensor Centred, double[] Mean, Tensor Directions) PrincipalDirections(int bits, int dimension, ReadOnlySpan<float> fit)
    {
        BitPacking.ValidateBits(bits);
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension));
        if (fit.Length == 0 || fit.Length % dimension != 0) throw new ArgumentException("descriptors must be n x dimension, n >= 1");
        if (bits > dimension) throw new ArgumentException($"{bits} bits need at least {bits} dimensions, the descriptors have {dimension}");
        int n = fit.Length / dimension;
        var x = tensor(fit.ToArray(), [n, dimension]).to(ScalarType.Float64);
        var mean = x.mean([0]);
        var centred = x - mean;
        var (values, vectors) = linalg.eigh(centred.T.matmul(centred) / Math.Max(1, n - 1));
        // eigh sorts ascending: the last columns are the leading directions, taken in decreasing order.
        var directions = vectors[.., TensorIndex.Slice(dimension - bits, dimension)].flip(1).contiguous();
        return (centred.MoveToOuterDisposeScope(), mean.data<double>().ToArray(), directions.MoveToOuterDisposeScope());
    }

    private static Tensor RandomRotation(int k, int seed)
    {
        var rng = new Random(seed);
        var g = new double[k * k];
        for (int i = 0; i < g.Length; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            g[i] = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        var (q, _) = linalg.qr(tensor(g, [k, k]));
        return q;
    }
}
