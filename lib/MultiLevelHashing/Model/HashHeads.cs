using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MultiLevelHashing.Model;

/// <summary>
/// Global-level hash head of the DSCNN (paper: "global-level hashing codes"; lib/MultiLevelHashing/README.md section 2.2):
/// pool(F) -> Linear(C -> Kg) -> tanh = u_g; the bits are sign(u_g). Optionally the pooled vector is
/// L2-normalised (times sqrt(C), so its entries stay near unit scale) before the linear layer, as retrieval
/// descriptors are; the class activation map of a bit is then exact up to a positive per-image factor.
/// </summary>
public sealed class GlobalHashHead : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc;

    /// <summary>Pooling used before the linear layer: <see cref="FeaturePooling.Gap"/> or <see cref="FeaturePooling.GeM"/>.</summary>
    public FeaturePooling Pooling { get; }

    /// <summary>Code length Kg.</summary>
    public int Bits { get; }

    /// <summary>Whether the pooled vector is L2-normalised (and scaled by sqrt(C)) before the linear layer.</summary>
    public bool Normalize { get; }

    private readonly double _scale;

    /// <summary>GeM exponent p.</summary>
    public const double GeMPower = 3.0;

    /// <summary>A head from <paramref name="channels"/> features to <paramref name="bits"/> bits.</summary>
    public GlobalHashHead(int channels, int bits, FeaturePooling pooling = FeaturePooling.Gap, bool normalize = false) : base(nameof(GlobalHashHead))
    {
        if (pooling is not (FeaturePooling.Gap or FeaturePooling.GeM))
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "the global head pools by GAP or GeM");
        Bits = bits;
        Pooling = pooling;
        Normalize = normalize;
        _scale = Math.Sqrt(channels);
        fc = nn.Linear(channels, bits);
        RegisterComponents();
    }

    /// <summary>The linear layer's weight W (Kg x C); the class activation map of bit k is sum_c W[k, c] F_c.</summary>
    public Tensor Weight => fc.weight!;

    /// <summary>The linear layer's bias (Kg).</summary>
    public Tensor Bias => fc.bias!;

    /// <summary>
    /// Pools F (N x C x h x w) to N x C by GAP (the mean over positions) or GeM ((mean of max(F, 1e-6)^p)^(1/p)): the one
    /// implementation of both, for the head and the float descriptors.
    /// </summary>
    public static Tensor Pool(Tensor features, FeaturePooling pooling) => pooling switch
    {
        FeaturePooling.Gap => features.mean([2, 3]),
        FeaturePooling.GeM => features.clamp_min(1e-6).pow(GeMPower).mean([2, 3]).pow(1.0 / GeMPower),
        _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "GAP and GeM only; R-MAC is Baselines.FloatDescriptors.RMac"),
    };

    /// <summary>The descriptor the linear layer sees: pool(F), L2-normalised and scaled when <see cref="Normalize"/>.</summary>
    public Tensor Descriptor(Tensor features)
    {
        using var scope = NewDisposeScope();
        var pooled = Pool(features, Pooling);
        if (Normalize) pooled = nn.functional.normalize(pooled, dim: 1) * _scale;
        return pooled.MoveToOuterDisposeScope();
    }

    /// <summary>Sets the bias to -W m so that the pre-activation of every bit is zero at the descriptor mean <paramref name="meanDescriptor"/> (C).</summary>
    public void CenterOn(Tensor meanDescriptor)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var m = meanDescriptor.to(fc.weight!.device).reshape(-1, 1);
        fc.bias!.copy_(fc.weight!.matmul(m).reshape(-1).neg());
    }

    /// <summary>Replaces the linear layer's weight (Kg x C) and bias (Kg), e.g. with a fitted initial projection.</summary>
    public void SetProjection(Tensor weight, Tensor bias)
    {
        if (!weight.shape.SequenceEqual(fc.weight!.shape) || !bias.shape.SequenceEqual(fc.bias!.shape))
            throw new ArgumentException($"projection must be [{string.Join(",", fc.weight!.shape)}] + [{fc.bias!.shape[0]}], " +
                                        $"got [{string.Join(",", weight.shape)}] + [{string.Join(",", bias.shape)}]");
        using var noGrad = no_grad();
        fc.weight!.copy_(weight);
        fc.bias!.copy_(bias);
    }

    /// <summary>u_g = tanh(W pool(F) + b) (pool(F) normalised when <see cref="Normalize"/>), N x Kg.</summary>
    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        return fc.forward(Descriptor(features)).tanh().MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Local-level hash head of the DSCNN (paper: "local-level hashing codes", analysed through activation maps;
/// lib/MultiLevelHashing/README.md section 2.3): 1x1 conv(C -> Kl) on F -> tanh gives the bit maps U (N x Kl x h x w); u_l is the
/// spatial maximum of U, so a local bit fires when some region of the image activates it.
/// </summary>
public sealed class LocalHashHead : nn.Module<Tensor, (Tensor Codes, Tensor Maps)>
{
    private readonly Conv2d conv;

    /// <summary>Code length Kl.</summary>
    public int Bits { get; }

    /// <summary>A head from <paramref name="channels"/> features to <paramref name="bits"/> bit maps.</summary>
    public LocalHashHead(int channels, int bits) : base(nameof(LocalHashHead))
    {
        Bits = bits;
        conv = nn.Conv2d(channels, bits, 1);
        RegisterComponents();
    }

    /// <summary>The 1x1 convolution's weight (Kl x C x 1 x 1).</summary>
    public Tensor Weight => conv.weight!;

    /// <summary>(u_l, U): u_l = max over positions of U, U = tanh(conv1x1(F)).</summary>
    public override (Tensor Codes, Tensor Maps) forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        var maps = conv.forward(features).tanh();
        var codes = maps.amax([2, 3]);
        return (codes.MoveToOuterDisposeScope(), maps.MoveToOuterDisposeScope());
    }
}
