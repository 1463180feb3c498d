using MultiLevelHashing.Model.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiLevelHashing.Model;

/// <summary>
/// The shape of a DSCNN (lib/MultiLevelHashing/README.md sections 2.1-2.3): backbone, code lengths Kg and Kl,
/// global pooling, and whether the pooled descriptor is L2-normalised before the global projection.
/// </summary>
public sealed record DscnnArchitecture(BackboneKind Backbone, int GlobalBits, int LocalBits, FeaturePooling Pooling,
    bool NormalizeGlobalDescriptor, int SmallCnnChannels);

/// <summary>Builds DSCNN models from a <see cref="DscnnArchitecture"/> and a seed.</summary>
public static class DscnnFactory
{
    /// <summary>
    /// A model of <paramref name="architecture"/>; head (and small-CNN) initialisation is seeded from <paramref name="seed"/>.
    /// ResNet18 takes the ImageNet weights when <paramref name="pretrainedBackbone"/>.
    /// </summary>
    public static DscnnModel Create(DscnnArchitecture architecture, int seed, bool pretrainedBackbone = true)
    {
        var backbone = BackboneFactory.Create(architecture.Backbone, pretrainedBackbone, architecture.SmallCnnChannels);
        var model = new DscnnModel(backbone, architecture.GlobalBits, architecture.LocalBits, architecture.Pooling,
            architecture.NormalizeGlobalDescriptor);
        bool randomBackbone = !(architecture.Backbone == BackboneKind.ResNet18 && pretrainedBackbone);
        Initialize(model, seed, includeBackbone: randomBackbone);
        return model;
    }

    /// <summary>
    /// Re-initialises conv and linear weights and biases from a private generator seeded with <paramref name="seed"/>,
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch's default, so initialisation never depends on the global
    /// TorchSharp RNG (which other code in the process may draw from concurrently).
    /// </summary>
    public static void Initialize(DscnnModel model, int seed, bool includeBackbone)
    {
        using var noGrad = no_grad();
        var generator = new Generator(unchecked((ulong)(uint)seed * 2654435761UL + 12345UL));
        var batchNormParameters = model.named_modules().Where(m => m.module is TorchSharp.Modules.BatchNorm2d)
            .SelectMany(m => new[] { m.name + ".weight", m.name + ".bias" }).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, p) in model.named_parameters())
        {
            if (!includeBackbone && name.StartsWith("backbone.", StringComparison.Ordinal)) continue;
            if (batchNormParameters.Contains(name)) continue; // scale 1, shift 0, as constructed
            long fanIn = p.ndim >= 2 ? p.shape.Skip(1).Aggregate(1L, (a, b) => a * b) : FanInOfBias(model, name);
            double bound = 1.0 / Math.Sqrt(Math.Max(1, fanIn));
            using var u = rand(p.shape, generator: generator);
            p.copy_(u.mul_(2 * bound).sub_(bound));
        }
        generator.Dispose();
    }

    private static long FanInOfBias(DscnnModel model, string biasName)
    {
        string weight = biasName[..^".bias".Length] + ".weight";
        var w = model.named_parameters().First(p => p.name == weight).parameter;
        return w.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
    }
}
