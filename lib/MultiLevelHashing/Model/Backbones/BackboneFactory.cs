namespace MultiLevelHashing.Model.Backbones;

/// <summary>The backbones a DSCNN can be built on.</summary>
public enum BackboneKind
{
    /// <summary>ResNet18 with the ImageNet weights of the ML.NET package (the paper's setting: a pretrained CNN).</summary>
    ResNet18,
    /// <summary>A small CNN from scratch, for smoke runs and tests.</summary>
    SmallCnn,
}

/// <summary>Builds backbones by kind.</summary>
public static class BackboneFactory
{
    /// <summary>
    /// A new backbone: ResNet18 with ImageNet weights (<paramref name="pretrained"/>) or random ones; the small CNN
    /// with <paramref name="smallCnnChannels"/> output channels, initialised from the current TorchSharp seed.
    /// </summary>
    public static Backbone Create(BackboneKind kind, bool pretrained = true, int smallCnnChannels = 64) => kind switch
    {
        BackboneKind.ResNet18 => pretrained ? ResNet18Weights.LoadImageNet() : new ResNet18Backbone(),
        BackboneKind.SmallCnn => new SmallCnnBackbone(smallCnnChannels),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
