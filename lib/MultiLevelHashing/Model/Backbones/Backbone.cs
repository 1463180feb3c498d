using TorchSharp;
using static TorchSharp.torch;

namespace MultiLevelHashing.Model.Backbones;

/// <summary>
/// The convolutional trunk of the DSCNN (lib/MultiLevelHashing/README.md section 2.1): maps an image batch to the last conv feature
/// map F (N x C x h x w). Fully convolutional, so any input size works. Input convention for every backbone:
/// float RGB in [0, 255], N x 3 x H x W; each backbone applies its own normalisation inside forward.
/// </summary>
public abstract class Backbone : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates a backbone module with the given TorchSharp module name.</summary>
    protected Backbone(string name) : base(name) { }

    /// <summary>Channels C of the feature map F.</summary>
    public abstract int OutputChannels { get; }

    /// <summary>Stable identifier used in checkpoints and cache keys ("resnet18-imagenet", "small-cnn-64").</summary>
    public abstract string Kind { get; }

    /// <summary>Parameters trained under the "layer4 + heads" freeze policy (the last stage).</summary>
    public abstract IEnumerable<nn.Module> LastStage { get; }

    /// <summary>
    /// True when batch-norm layers must keep their stored statistics during training. Pretrained
    /// ImageNet statistics are kept (small batches would only add noise); a backbone trained from scratch updates them.
    /// </summary>
    public abstract bool FreezeBatchNormStatistics { get; }
}
