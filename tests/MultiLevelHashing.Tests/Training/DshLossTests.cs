using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Training;

public class DshLossTests
{
    private static float Loss(float[] a, float[] b, bool similar, double alpha, double marginPerBit = 2.0)
    {
        using var u1 = tensor(a, 1, a.Length);
        using var u2 = tensor(b, 1, b.Length);
        using var s = tensor(new[] { similar ? 1f : 0f });
        using var l = DshLoss.Level(u1, u2, s, alpha, marginPerBit);
        return l.item<float>();
    }

    [Fact]
    public void MatchesHandComputedValues()
    {
        // K = 2, ||u1 - u2||^2 = 1; quantization: (|0.5-1| + |0.5-1|) + (|0.5-1| + |0.5-1|) = 2.
        Assert.Equal(0.5 + 0.1 * 2, Loss([0.5f, -0.5f], [0.5f, 0.5f], similar: true, alpha: 0.1), 5);
        // Dissimilar: margin m = 2K = 4, 1/2 max(4 - 1, 0) = 1.5.
        Assert.Equal(1.5, Loss([0.5f, -0.5f], [0.5f, 0.5f], similar: false, alpha: 0), 5);
        // Far enough apart: no repulsion left (d^2 = 8 > 4).
        Assert.Equal(0, Loss([1f, 1f], [-1f, -1f], similar: false, alpha: 0), 6);
        // Identical binary codes of a positive pair: zero loss.
        Assert.Equal(0, Loss([1f, -1f, 1f], [1f, -1f, 1f], similar: true, alpha: 0.5), 6);
    }

    [Fact]
    public void MeanOverPairsAndCombinedWeighting()
    {
        using var u1 = tensor(new float[] { 0.5f, -0.5f, 1f, 1f }, 2, 2);
        using var u2 = tensor(new float[] { 0.5f, 0.5f, -1f, -1f }, 2, 2);
        using var s = tensor(new float[] { 1f, 0f });
        using var lg = DshLoss.Level(u1, u2, s, 0);
        Assert.Equal((0.5 + 0) / 2, lg.item<float>(), 5);
        var (total, g, l) = DshLoss.Combined(u1, u2, u1, u2, s, 0, beta: 0.5);
        Assert.Equal(g.item<float>() * 1.5, total.item<float>(), 5);
        total.Dispose(); g.Dispose(); l.Dispose();
    }

    [Fact]
    public void QuantizationGradientIsNonZeroAndPointsTowardPlusMinusOne()
    {
        float[] values = [0.3f, -0.2f, 0.9f, -0.75f, 0.05f, -0.5f];
        using var u1 = tensor(values, 1, values.Length).requires_grad_(true);
        using var u2 = tensor(values, 1, values.Length); // equal codes, s = 1: only the quantization term acts
        using var s = tensor(new[] { 1f });
        using var loss = DshLoss.Level(u1, u2, s, alpha: 0.1);
        loss.backward();
        var grad = u1.grad!.data<float>().ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            Assert.NotEqual(0f, grad[i]);
            // A descent step u - lr * grad moves u toward sign(u), i.e. toward the nearer of -1 and +1.
            Assert.Equal(Math.Sign(values[i]), Math.Sign(-grad[i]));
            Assert.Equal(0.1f, Math.Abs(grad[i]), 5);
        }
    }

    [Fact]
    public void RejectsMismatchedShapes()
    {
        using var a = zeros(2, 4);
        using var b = zeros(2, 3);
        using var s = zeros(2);
        Assert.Throws<ArgumentException>(() => DshLoss.Level(a, b, s, 0.1));
    }

    [Fact]
    public void BitIndependenceMatchesHandComputedValues()
    {
        // Four balanced, mutually orthogonal +-1 codes of K = 2 bits: U^T U / N = I, so the term is zero.
        using var orthogonal = tensor(new float[] { 1, 1, 1, -1, -1, 1, -1, -1 }, 4, 2);
        Assert.Equal(0f, DshLoss.BitIndependence(orthogonal).item<float>(), 6);
        // Two identical bits on every image: U^T U / N = [[1,1],[1,1]], deviation from I has two off-diagonal ones: 2 / K = 1.
        using var copies = tensor(new float[] { 1, 1, -1, -1, 1, 1 }, 3, 2);
        Assert.Equal(1f, DshLoss.BitIndependence(copies).item<float>(), 6);
        // Codes at 0.5: diagonal 0.25 - 1 = -0.75 each, off-diagonal 0.25 each: (2 * 0.5625 + 2 * 0.0625) / 2 = 0.625.
        using var soft = tensor(new float[] { 0.5f, 0.5f, 0.5f, 0.5f }, 2, 2);
        Assert.Equal(0.625f, DshLoss.BitIndependence(soft).item<float>(), 6);
    }

    [Fact]
    public void BitIndependenceGradientDecorrelatesCopiedBits()
    {
        using var u = tensor(new float[] { 0.9f, 0.8f, -0.7f, -0.9f, 0.6f, 0.7f, -0.8f, -0.6f }, 4, 2).requires_grad_(true);
        using var loss = DshLoss.BitIndependence(u);
        loss.backward();
        using var noGrad = no_grad();
        using var stepped = u - 0.1 * u.grad!;
        using var after = DshLoss.BitIndependence(stepped);
        Assert.True(after.item<float>() < loss.item<float>(), "a gradient step must reduce the term");
        // The two bits agree on every image; the step must lower their correlation.
        float Correlation(Tensor t) { using var c = (t[.., 0] * t[.., 1]).mean(); return c.item<float>(); }
        Assert.True(Correlation(stepped) < Correlation(u));
    }
}
