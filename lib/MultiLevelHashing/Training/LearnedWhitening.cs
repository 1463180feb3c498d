using static TorchSharp.torch;

namespace MultiLevelHashing.Training;

/// <summary>How the global hash head's linear layer starts before siamese training.</summary>
public enum GlobalHeadInit
{
    /// <summary>TorchSharp's default (Kaiming-uniform weights and bias): random projections of uncentred descriptors.</summary>
    Random,

    /// <summary>
    /// Random weights, bias -W m with m the mean training descriptor: every bit starts by splitting the data near its
    /// mean, as centred LSH does (on non-negative ReLU features most uncentred bits start constant).
    /// </summary>
    Centered,

    /// <summary>
    /// Supervised learned whitening fitted on the labelled training descriptors (<see cref="LearnedWhitening"/>):
    /// within-landmark variation (clutter, occluders, blur) is whitened away, the Kg leading directions of what
    /// remains are kept and mixed by a seeded random rotation so that every bit carries a similar share of variance.
    /// </summary>
    LearnedWhitening,
}

/// <summary>A linear hash function z = W x + b fitted on descriptors: the initial weights of the global head.</summary>
/// <param name="Weight">Kg x C.</param>
/// <param name="Bias">Kg.</param>
/// <param name="Bits">Kg, the code length.</param>
/// <param name="Dimension">C, the descriptor length.</param>
public sealed record LinearProjection(float[] Weight, float[] Bias, int Bits, int Dimension);

/// <summary>
/// Learned whitening in the sense of Radenović, Tolias and Chum (ECCV 2016, "CNN image retrieval learns from BoW"),
/// used as the data-dependent start of the DSCNN's global head (lib/MultiLevelHashing/README.md section 2.5, global-level code; this
/// initialisation is our addition to the reconstruction). From labelled descriptors x_i with landmark labels:
/// <list type="number">
/// <item>the within-landmark scatter S_w = mean over labelled i of (x_i - m_label(i))(x_i - m_label(i))^T, shrunk
/// towards the identity, S = S_w + lambda (tr S_w / C) I, and the whitening P = S^(-1/2);</item>
/// <item>the leading Kg eigenvectors V of the covariance of P (x - m), m the mean of all descriptors;</item>
/// <item>a random rotation R (Kg x Kg, seeded), because the leading directions carry very unequal variance and one
/// bit per direction (PCA hashing) wastes bits on the weak ones (Gong and Lazebnik's ITQ motivation);</item>
/// <item>a scale s that gives every projection unit variance on the data, so tanh starts unsaturated.</item>
/// </list>
/// Result: W = s R^T V^T P and b = -W m. Fitted on training landmarks only; nothing of the test set is seen.
/// </summary>
public static class LearnedWhitening
{
    /// <summary>Fits the projection. <paramref name="descriptors"/>: N x C floats (row-major); <paramref name="labels"/>: N, negative = unlabelled.</summary>
    /// <param name="descriptors">Descriptors the head sees (after pooling and normalisation).</param>
    /// <param name="labels">Landmark per row; unlabelled rows count for the mean and covariance, not for S_w.</param>
    /// <param name="bits">Kg; at most C.</param>
    /// <param name="shrinkage">lambda above: 0 is plain S_w^(-1/2) (noisy with few images), large tends to PCA.</param>
    /// <param name="seed">Seed of the rotation.</param>
    public static LinearProjection Fit(float[] descriptors, IReadOnlyList<int> labels, int bits, double shrinkage, int seed)
    {
        int n = labels.Count;
        if (n == 0 || descriptors.Length % n != 0) throw new ArgumentException($"{descriptors.Length} values are not {n} rows");
        int c = descriptors.Length / n;
        if (bits > c) throw new ArgumentException($"learned whitening keeps at most {c} directions, {bits} bits asked");
        if (shrinkage < 0) throw new ArgumentOutOfRangeException(nameof(shrinkage), "must be >= 0");
        var groups = Enumerable.Range(0, n).Where(i => labels[i] >= 0).GroupBy(i => labels[i]).Where(g => g.Count() >= 2).ToList();
        if (groups.Count == 0) throw new ArgumentException("learned whitening needs a landmark with at least two images");

        using var scope = NewDisposeScope();
        var x = tensor(descriptors, [n, c]).to_type(ScalarType.Float64);
        var mean = x.mean([0], keepdim: true);

        var deviations = new List<Tensor>();
        foreach (var g in groups)
        {
            var rows = x.index_select(0, tensor(g.Select(i => (long)i).ToArray()));
            deviations.Add(rows - rows.mean([0], keepdim: true));
        }
        var within = cat(deviations, 0);
        var sw = within.T.matmul(within) / within.shape[0];
        double level = sw.trace().item<double>() / c;
        var shrunk = sw + eye(c, dtype: ScalarType.Float64) * (shrinkage * Math.Max(level, 1e-12));
        var (values, vectors) = linalg.eigh(shrunk);
        var whiten = vectors.matmul(diag(values.clamp_min(1e-12).rsqrt())).matmul(vectors.T);   // symmetric S^(-1/2)

        var white = (x - mean).matmul(whiten);
        var cov = white.T.matmul(white) / n;
        var (ev, evec) = linalg.eigh(cov);
        var top = evec.index_select(1, ev.argsort(descending: true).narrow(0, 0, bits));        // C x Kg

        var generator = new Generator((ulong)seed);
        var rotation = linalg.qr(randn(bits, bits, dtype: ScalarType.Float64, generator: generator)).Q;
        var w = whiten.matmul(top).matmul(rotation).T;                                           // Kg x C
        var projected = (x - mean).matmul(w.T);
        var scale = projected.std(0).clamp_min(1e-12).reciprocal();
        w = w * scale.unsqueeze(1);
        var b = -(w.matmul(mean.T)).reshape(-1);
        return new LinearProjection(w.to_type(ScalarType.Float32).contiguous().data<float>().ToArray(),
            b.to_type(ScalarType.Float32).contiguous().data<float>().ToArray(), bits, c);
    }
}
