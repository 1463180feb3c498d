using MultiLevelHashing.Torch;

namespace MultiLevelHashing.Tests.Torch;

public class TorchDeviceTests
{
    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData("cuda:1", "cuda:1")]
    [InlineData(" cuda ", "cuda")]
    public void ANamedDeviceWinsWithoutAskingForCuda(string requested, string expected)
        => Assert.Equal(expected, TorchDevice.Choose(requested, () => throw new InvalidOperationException("CUDA was asked for")));

    [Theory]
    [InlineData(null, true, "cuda")]
    [InlineData(null, false, "cpu")]
    [InlineData("  ", true, "cuda")]
    [InlineData("", false, "cpu")]
    public void WithoutANameCudaWhenAvailableElseCpu(string? requested, bool cuda, string expected)
        => Assert.Equal(expected, TorchDevice.Choose(requested, () => cuda));

    [Fact]
    public void TheDefaultIsChosenOnceAndKept()
    {
        var first = TorchDevice.Default();
        Assert.Same(first, TorchDevice.Default());
        Assert.Same(first, TorchDevice.Default());
    }
}
