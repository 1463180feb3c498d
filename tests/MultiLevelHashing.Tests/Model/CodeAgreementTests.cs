using MultiLevelHashing.Benchmarks;

namespace MultiLevelHashing.Tests.Model;

/// <summary>The code comparison of the PyTorch benchmark on hand-computed cases.</summary>
public class CodeAgreementTests
{
    [Fact]
    public void CountsFlippedBitsAndTheLargestValueWhereOneFlips()
    {
        float[] ours = [0.5f, -0.2f, 1e-7f, -0.9f, 0f];
        float[] theirs = [0.5f, -0.1f, -1e-7f, -0.9f, 2e-7f];
        var a = PyTorchComparison.Compare(ours, theirs);
        Assert.Equal(5, a.BitsCompared);
        // Bits: ours 1 0 1 0 0, theirs 1 0 0 0 1 (b = u > 0, so u = 0 is bit 0).
        Assert.Equal(2, a.BitsDiffering);
        Assert.Equal(0.1, a.MaxAbsDifference, 6);
        Assert.Equal(2e-7, a.MaxAbsAtDifferingBit, 9);
    }

    [Fact]
    public void IdenticalCodesAgreeAndLengthsMustMatch()
    {
        float[] u = [0.3f, -0.4f];
        var a = PyTorchComparison.Compare(u, u);
        Assert.Equal((0.0, 0L, 0.0), (a.MaxAbsDifference, a.BitsDiffering, a.MaxAbsAtDifferingBit));
        Assert.Throws<ArgumentException>(() => PyTorchComparison.Compare(u, [0.3f]));
    }
}
