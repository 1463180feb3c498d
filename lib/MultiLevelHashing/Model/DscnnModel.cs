using MultiLevelHashing.Model.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiLevelHashing.Model;

/// <summary>
/// One forward pass of the DSCNN: the relaxed global code u_g (N x Kg), the relaxed local code u_l (N x Kl),
/// the local bit maps U (N x Kl x h x w) and the backbone's feature map F (N x C x h x w).
/// Disposing releases all four tensors.
/// </summary>
public sealed record DscnnOutput(Tensor GlobalCodes, Tensor LocalCodes, Tensor LocalMaps, Tensor Features) : IDisposable
{
    /// <summary>Moves all four tensors to the enclosing dispose scope.</summary>
    public DscnnOutput MoveToOuterDisposeScope()
    {
        GlobalCodes.MoveToOuterDisposeScope();
        LocalCodes.MoveToOuterDisposeScope();
        LocalMaps.MoveToOuterDisposeScope();
        Features.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Detaches all four tensors from any dispose scope (the caller disposes this record).</summary>
    public DscnnOutput DetachFromDisposeScope()
    {
        GlobalCodes.DetachFromDisposeScope();
        LocalCodes.DetachFromDisposeScope();
        LocalMaps.DetachFromDisposeScope();
        Features.DetachFromDisposeScope();
        return this;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        GlobalCodes.Dispose();
        LocalCodes.Dispose();
        LocalMaps.Dispose();
        Features.Dispose();
    }
}

/// <summary>
/// The deep siamese convolutional network (DSCNN) of Dong et al. 2016 as reconstructed in lib/MultiLevelHashing/README.md section 2:
/// one shared backbone (the two siamese branches share all weights, so a branch is just a forward pass) with a
/// global hash head and a local hash head on the last conv map F.
/// </summary>
public sealed class DscnnModel : nn.Module<Tensor, DscnnOutput>
{
    private readonly Backbone backbone;
    private readonly GlobalHashHead global_head;
    private readonly LocalHashHead local_head;

    /// <summary>A DSCNN over <paramref name="backbone"/> (see <see cref="GlobalHashHead"/> for <paramref name="normalizeGlobalDescriptor"/>) with Kg = <paramref name="globalBits"/> and Kl = <paramref name="localBits"/>.</summary>
    public DscnnModel(Backbone backbone, int globalBits = 64, int localBits = 256, FeaturePooling pooling = FeaturePooling.Gap,
        bool normalizeGlobalDescriptor = false)
        : base(nameof(DscnnModel))
    {
        if (globalBits < 8 || globalBits % 8 != 0) throw new ArgumentOutOfRangeException(nameof(globalBits), "a positive multiple of 8 is required");
        if (localBits < 8 || localBits % 8 != 0) throw new ArgumentOutOfRangeException(nameof(localBits), "a positive multiple of 8 is required");
        this.backbone = backbone;
        global_head = new GlobalHashHead(backbone.OutputChannels, globalBits, pooling, normalizeGlobalDescriptor);
        local_head = new LocalHashHead(backbone.OutputChannels, localBits);
        RegisterComponents();
    }

    /// <summary>The shared backbone.</summary>
    public Backbone Backbone => backbone;

    /// <summary>The global hash head.</summary>
    public GlobalHashHead GlobalHead => global_head;

    /// <summary>The local hash head.</summary>
    public LocalHashHead LocalHead => local_head;

    /// <summary>Kg.</summary>
    public int GlobalBits => global_head.Bits;

    /// <summary>Kl.</summary>
    public int LocalBits => local_head.Bits;

    /// <summary>Full forward pass of an RGB [0, 255] batch.</summary>
    public override DscnnOutput forward(Tensor rgb)
    {
        using var scope = NewDisposeScope();
        var features = backbone.forward(rgb);
        return ForwardHeads(features).MoveToOuterDisposeScope();
    }

    /// <summary>The two heads on a precomputed feature map F (used with cached backbone features).</summary>
    public DscnnOutput ForwardHeads(Tensor features)
    {
        using var scope = NewDisposeScope();
        var ug = global_head.forward(features);
        var (ul, maps) = local_head.forward(features);
        return new DscnnOutput(ug, ul, maps, features.alias()).MoveToOuterDisposeScope();
    }
}
