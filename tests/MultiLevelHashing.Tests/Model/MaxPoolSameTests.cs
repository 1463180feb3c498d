using MultiLevelHashing.Model.Backbones;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Model;

/// <summary>The stem's max pooling by strided maxima gives exactly LibTorch's max_pool2d, and keeps its gradient.</summary>
public sealed class MaxPoolSameTests
{
    private static Tensor Reference(Tensor x, int kernel, int stride) =>
        nn.functional.max_pool2d(ResNet18Backbone.SamePad(x, kernel, stride, double.NegativeInfinity), kernel_size: kernel, stride: stride);

    [Theory]
    [InlineData(80, 80, 3, 2)]
    [InlineData(81, 79, 3, 2)]
    [InlineData(7, 12, 3, 2)]
    [InlineData(9, 9, 2, 2)]
    [InlineData(10, 11, 3, 1)]
    [InlineData(1, 1, 3, 2)]
    public void WithoutGradientEqualsMaxPool2dExactly(int height, int width, int kernel, int stride)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(7);
        // ReLU'd values: many zeros, so windows tie often; negative infinities in places as well.
        var x = nn.functional.relu(randn(3, 4, height, width, generator: generator));
        x[0, 0, 0, 0] = tensor(float.NegativeInfinity);
        using (no_grad())
        {
            var ours = ResNet18Backbone.MaxPoolSame(x, kernel, stride);
            var reference = Reference(x, kernel, stride);
            Assert.Equal(reference.shape, ours.shape);
            Assert.True(ours.eq(reference).all().item<bool>());
        }
    }

    [Fact]
    public void WithGradientKeepsMaxPool2dsBackward()
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(3);
        var a = nn.functional.relu(randn(2, 3, 12, 12, generator: generator)).detach().requires_grad_();
        var b = a.detach().clone().requires_grad_();
        ResNet18Backbone.MaxPoolSame(a, 3, 2).sum().backward();
        Reference(b, 3, 2).sum().backward();
        Assert.True(a.grad!.eq(b.grad!).all().item<bool>());
    }
}
