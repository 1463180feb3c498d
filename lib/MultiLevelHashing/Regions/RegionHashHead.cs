using MultiLevelHashing.Baselines;
using MultiLevelHashing.Model;
using MultiLevelHashing.Search.Regions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiLevelHashing.Regions;

/// <summary>
/// Region-level hash head (lib/MultiLevelHashing/README.md section 2.3): every location (i, j) of the backbone's map F
/// gets its own B-bit code, b_ij = sign(W f_ij + c) with f_ij = F[:, i, j] / ||F[:, i, j]|| (times sqrt(C), so entries
/// stay near unit scale). Started from PCA (W = the B leading principal directions of the training views' location
/// vectors, c = -W mean: the unsupervised PCA-sign region code) and optionally trained on homography
/// correspondences (<see cref="CorrespondenceTraining"/>). Relaxed output tanh(W f_ij + c), N x h x w x B.
/// </summary>
public sealed class RegionHashHead : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc;
    private readonly double _scale;

    /// <summary>A head from <paramref name="channels"/> features to <paramref name="bits"/> bits per location (random initialisation).</summary>
    public RegionHashHead(int channels, int bits) : base(nameof(RegionHashHead))
    {
        Search.BitPacking.ValidateBits(bits);
        Bits = bits;
        Channels = channels;
        _scale = Math.Sqrt(channels);
        fc = nn.Linear(channels, bits);
        RegisterComponents();
    }

    /// <summary>Bits per location (B).</summary>
    public int Bits { get; }

    /// <summary>Feature channels C.</summary>
    public int Channels { get; }

    /// <summary>Location vectors of <paramref name="features"/> (N x C x h x w): N x h x w x C, each L2-normalised and scaled by sqrt(C).</summary>
    public Tensor LocationVectors(Tensor features)
    {
        using var scope = NewDisposeScope();
        var v = nn.functional.normalize(features, dim: 1) * _scale;
        return v.permute(0, 2, 3, 1).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Pre-activations W f_ij + c, N x h x w x B.</summary>
    public Tensor Logits(Tensor features)
    {
        using var scope = NewDisposeScope();
        return fc.forward(LocationVectors(features)).MoveToOuterDisposeScope();
    }

    /// <summary>Relaxed codes tanh(W f_ij + c), N x h x w x B.</summary>
    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        return Logits(features).tanh().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The PCA-sign region coder: W = the leading principal directions of <paramref name="trainingFeatures"/>' location
    /// vectors (N x C x h x w; fitted without labels), c = -W mean, so each bit splits the training locations at their
    /// mean along one direction.
    /// </summary>
    public static RegionHashHead FromPca(Tensor trainingFeatures, int bits)
    {
        int channels = (int)trainingFeatures.shape[1];
        var head = new RegionHashHead(channels, bits);
        float[] vectors;
        using (var scope = NewDisposeScope())
            vectors = head.LocationVectors(trainingFeatures).reshape(-1, channels).data<float>().ToArray();
        var pca = QuantizationHashing.Pca(bits, channels, vectors);
        // Projection is C x B (column k = direction k); the linear layer's weight is B x C.
        using var weight = tensor(pca.ProjectionMatrix, [channels, bits]).T.contiguous().to(ScalarType.Float32);
        using var mean = tensor(pca.DescriptorMean, [channels, 1]).to(ScalarType.Float32);
        using var bias = weight.matmul(mean).reshape(bits).neg();
        head.SetProjection(weight, bias);
        return head;
    }

    /// <summary>Replaces the projection: weight B x C, bias B.</summary>
    public void SetProjection(Tensor weight, Tensor bias)
    {
        using var noGrad = no_grad();
        fc.weight!.copy_(weight);
        fc.bias!.copy_(bias);
    }

    /// <summary>The linear layer's weight (B x C).</summary>
    public Tensor Weight => fc.weight!;

    /// <summary>The linear layer's bias (B).</summary>
    public Tensor Bias => fc.bias!;

    /// <summary>A copy with the same projection (the trainer starts from PCA without changing the PCA head).</summary>
    public RegionHashHead Copy()
    {
        var copy = new RegionHashHead(Channels, Bits);
        copy.SetProjection(Weight, Bias);
        return copy;
    }

    /// <summary>
    /// Region codes of every image of <paramref name="features"/> (N x C x h x w), all h x w locations, with their grid
    /// positions and strengths (||F[:, i, j]||), in chunks so that memory stays flat.
    /// </summary>
    public RegionCodes Encode(Tensor features, int chunk = 64) => RegionFeatures.Encode(features, Bits, chunk, forward);
}

/// <summary>Region codes from per-location relaxed values, shared by every region coder.</summary>
public static class RegionFeatures
{
    /// <summary>
    /// <see cref="RegionCodes"/> of <paramref name="images"/> images with all <paramref name="height"/> x
    /// <paramref name="width"/> locations: <paramref name="real"/> is N x h x w x B, <paramref name="strengths"/> N x h x w.
    /// </summary>
    public static RegionCodes Codes(ReadOnlySpan<float> real, float[] strengths, int images, int height, int width, int bits)
    {
        int per = height * width;
        var offsets = new int[images + 1];
        var positions = new RegionPosition[images * per];
        for (int i = 0; i < images; i++)
        {
            offsets[i + 1] = (i + 1) * per;
            for (int r = 0; r < per; r++) positions[i * per + r] = new RegionPosition(r / width, r % width, strengths[i * per + r]);
        }
        return RegionCodes.FromReal(real, bits, height, width, offsets, positions);
    }

    /// <summary>
    /// The trained local head's maps read as region codes: b_ij = sign(U[:, i, j]) (the local code of the tables is the
    /// max over locations of the same U), strengths ||F[:, i, j]||.
    /// </summary>
    public static RegionCodes FromLocalHead(DscnnModel model, Tensor features, int chunk = 64) =>
        Encode(features, model.LocalBits, chunk, part =>
        {
            var (_, maps) = model.LocalHead.forward(part.to(model.LocalHead.Weight.device));
            return maps.permute(0, 2, 3, 1).cpu();
        });

    /// <summary>
    /// Region codes of every image of <paramref name="features"/> (N x C x h x w), all locations, in chunks of
    /// <paramref name="chunk"/> images so that memory stays flat: <paramref name="perLocation"/> maps a chunk to its
    /// relaxed codes (n x h x w x B); strengths are ||F[:, i, j]||.
    /// </summary>
    public static RegionCodes Encode(Tensor features, int bits, int chunk, Func<Tensor, Tensor> perLocation)
    {
        int n = (int)features.shape[0], h = (int)features.shape[2], w = (int)features.shape[3];
        var real = new float[(long)n * h * w * bits];
        var strengths = new float[(long)n * h * w];
        using (var noGrad = no_grad())
            for (int start = 0; start < n; start += chunk)
            {
                int end = Math.Min(n, start + chunk);
                using var scope = NewDisposeScope();
                var part = features[start..end];
                perLocation(part).contiguous().data<float>().CopyTo(real.AsSpan(start * h * w * bits, (end - start) * h * w * bits));
                part.norm(1).data<float>().CopyTo(strengths.AsSpan(start * h * w, (end - start) * h * w));
            }
        return Codes(real, strengths, n, h, w, bits);
    }
}
