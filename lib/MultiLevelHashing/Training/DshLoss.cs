using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MultiLevelHashing.Training;

/// <summary>Loss of one step: the total and its two levels (for the loss history).</summary>
public readonly record struct LossTerms(double Total, double Global, double Local);

/// <summary>
/// The siamese hashing loss of the DSCNN in the DSH form (lib/MultiLevelHashing/README.md section 2.4), one level at a time:
/// L = 1/2 s ||u1 - u2||^2 + 1/2 (1 - s) max(m - ||u1 - u2||^2, 0) + alpha (|| |u1| - 1 ||_1 + || |u2| - 1 ||_1),
/// averaged over pairs, with margin m = 2K by default (half the largest squared distance 4K between K-bit codes,
/// i.e. Hamming distance K/2). The quantization term is written with absolute values of u itself, so its
/// gradient, -alpha sign(u) inside (-1, 1), pushes every coordinate toward the nearer of -1 and +1
/// (an implementation that quantizes with a detached sign() has no such gradient). Total: L = L_g + beta L_l.
/// </summary>
public static class DshLoss
{
    /// <summary>The loss of one level. <paramref name="u1"/>, <paramref name="u2"/>: N x K; <paramref name="similar"/>: N values in {0, 1}.</summary>
    /// <param name="u1">Relaxed codes of the first images of the pairs.</param>
    /// <param name="u2">Relaxed codes of the second images.</param>
    /// <param name="similar">1 where a pair shows the same landmark, else 0.</param>
    /// <param name="alpha">Weight of the quantization term.</param>
    /// <param name="marginPerBit">m / K; 2 gives the paper-form margin m = 2K.</param>
    public static Tensor Level(Tensor u1, Tensor u2, Tensor similar, double alpha, double marginPerBit = 2.0)
    {
        if (u1.ndim != 2 || !u1.shape.SequenceEqual(u2.shape))
            throw new ArgumentException($"codes must be N x K and equal in shape, got [{string.Join(",", u1.shape)}] and [{string.Join(",", u2.shape)}]");
        if (similar.ndim != 1 || similar.shape[0] != u1.shape[0])
            throw new ArgumentException("similar must hold one value per pair");
        using var scope = NewDisposeScope();
        long k = u1.shape[1];
        double margin = marginPerBit * k;
        var s = similar.to_type(u1.dtype);
        var d2 = (u1 - u2).pow(2).sum(1);
        var attract = 0.5 * s * d2;
        var repel = 0.5 * (1 - s) * F.relu(margin - d2);
        var quant = alpha * ((u1.abs() - 1).abs().sum(1) + (u2.abs() - 1).abs().sum(1));
        return (attract + repel + quant).mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Bit independence of a batch of relaxed codes <paramref name="u"/> (N x K): ||U^T U / N - I||_F^2 / K. Zero when
    /// the bits are balanced, uncorrelated and at +-1; it keeps the K bits from collapsing onto the few directions that
    /// separate the training landmarks (the information-maximising term of unsupervised hashing, e.g. DeepBit).
    /// </summary>
    public static Tensor BitIndependence(Tensor u)
    {
        if (u.ndim != 2) throw new ArgumentException($"codes must be N x K, got [{string.Join(",", u.shape)}]");
        using var scope = NewDisposeScope();
        long n = u.shape[0], k = u.shape[1];
        var gram = u.T.matmul(u) / n;
        var deviation = gram - eye(k, dtype: u.dtype, device: u.device);
        return (deviation.pow(2).sum() / k).MoveToOuterDisposeScope();
    }

    /// <summary>Both levels: (L_g + beta L_l, L_g, L_l).</summary>
    public static (Tensor Total, Tensor Global, Tensor Local) Combined(
        Tensor ug1, Tensor ug2, Tensor ul1, Tensor ul2, Tensor similar, double alpha, double beta, double marginPerBit = 2.0)
    {
        using var scope = NewDisposeScope();
        var lg = Level(ug1, ug2, similar, alpha, marginPerBit);
        var ll = Level(ul1, ul2, similar, alpha, marginPerBit);
        var total = lg + beta * ll;
        return (total.MoveToOuterDisposeScope(), lg.MoveToOuterDisposeScope(), ll.MoveToOuterDisposeScope());
    }
}
