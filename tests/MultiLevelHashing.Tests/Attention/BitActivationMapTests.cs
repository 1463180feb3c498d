using MultiLevelHashing.Attention;
using MultiLevelHashing.Model;
using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Attention;

public class BitActivationMapTests
{
    private static DscnnModel Model(FeaturePooling pooling, bool normalize)
    {
        var arch = TrainingConfig.Smoke.Architecture with { SmallCnnChannels = 16, GlobalBits = 16, LocalBits = 24, Pooling = pooling, NormalizeGlobalDescriptor = normalize };
        return DscnnFactory.Create(arch, seed: 3, pretrainedBackbone: false);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MeanOfAGlobalBitsMapPlusItsBiasIsItsPreActivation(bool normalize)
    {
        using var model = Model(FeaturePooling.Gap, normalize);
        using var scope = NewDisposeScope();
        using var generator = new TorchSharp.torch.Generator(11);
        var features = rand([5, model.Backbone.OutputChannels, 6, 7], generator: generator) * 3;
        var cams = BitActivationMaps.GlobalCams(model.GlobalHead, features);
        Assert.Equal(new long[] { 5, 16, 6, 7 }, cams.shape);
        // Independent truth: the head's own linear layer on its own descriptor.
        var preActivation = model.GlobalHead.Descriptor(features).matmul(model.GlobalHead.Weight.t()) + model.GlobalHead.Bias;
        var fromMaps = cams.mean([2, 3]) + model.GlobalHead.Bias;
        Assert.True((fromMaps - preActivation).abs().max().item<float>() < 1e-5f,
            $"max difference {(fromMaps - preActivation).abs().max().item<float>()}");
        // And tanh of it is the code the model outputs.
        var codes = model.GlobalHead.forward(features);
        Assert.True((fromMaps.tanh() - codes).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void GeMPoolingHasNoExactMapsAndSaysSo()
    {
        using var model = Model(FeaturePooling.GeM, false);
        using var features = rand([1, model.Backbone.OutputChannels, 3, 3]);
        var e = Assert.Throws<NotSupportedException>(() => BitActivationMaps.GlobalCams(model.GlobalHead, features));
        Assert.Contains("average pooling", e.Message);
    }

    [Fact]
    public void LocalMapsAreTheHeadsMapsAndTheirPeakIsTheCode()
    {
        using var model = Model(FeaturePooling.Gap, true);
        using var features = rand([3, model.Backbone.OutputChannels, 4, 5], generator: new TorchSharp.torch.Generator(5));
        var maps = BitActivationMaps.FromFeatures(model, features);
        Assert.Equal((3, 24, 4, 5), (maps.Local.Count, maps.Local.Bits, maps.Local.Height, maps.Local.Width));
        Assert.Equal((3, 16), (maps.Global.Count, maps.Global.Bits));
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 24; k++)
            {
                float peak = float.NegativeInfinity;
                foreach (float v in maps.Local.Map(i, k)) peak = Math.Max(peak, v);
                Assert.Equal(maps.LocalCodes[i * 24 + k], peak, 6);
            }
    }
}
