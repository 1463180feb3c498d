using MultiLevelHashing.Model;
using static TorchSharp.torch;

namespace MultiLevelHashing.Baselines;

/// <summary>
/// The float-descriptor baselines of every table (lib/MultiLevelHashing/README.md section 2.9): GAP, GeM and R-MAC of the same backbone's
/// map F, L2-normalised so that a dot product is the cosine similarity.
/// </summary>
public static class FloatDescriptors
{
    /// <summary>N x C descriptors of F (N x C x h x w), L2-normalised.</summary>
    public static Tensor Pool(Tensor features, FeaturePooling pooling)
    {
        using var scope = NewDisposeScope();
        var d = pooling == FeaturePooling.RMac ? RMac(features) : GlobalHashHead.Pool(features, pooling);
        return nn.functional.normalize(d, dim: 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// R-MAC: square regions of side 2 min(h, w) / (l + 1) at scales l = 1..3, uniformly spaced with about 40%
    /// overlap; each region max-pooled and L2-normalised, then summed.
    /// </summary>
    public static Tensor RMac(Tensor features, int levels = 3)
    {
        using var scope = NewDisposeScope();
        long h = features.shape[2], w = features.shape[3];
        var sum = nn.functional.normalize(features.amax([2, 3]), dim: 1);
        foreach (var (y, x, side) in Regions(h, w, levels))
        {
            var region = features.narrow(2, y, side).narrow(3, x, side).amax([2, 3]);
            sum = sum + nn.functional.normalize(region, dim: 1);
        }
        return sum.MoveToOuterDisposeScope();
    }

    /// <summary>Top-left corners and side of the R-MAC regions of an h x w map.</summary>
    public static IEnumerable<(long Y, long X, long Side)> Regions(long h, long w, int levels = 3)
    {
        long shortSide = Math.Min(h, w);
        for (int l = 1; l <= levels; l++)
        {
            long side = Math.Max(1, (long)Math.Floor(2.0 * shortSide / (l + 1)));
            int ny = l + (h > w ? (int)Math.Round((double)(h - w) / side) : 0);
            int nx = l + (w > h ? (int)Math.Round((double)(w - h) / side) : 0);
            for (int iy = 0; iy < ny; iy++)
                for (int ix = 0; ix < nx; ix++)
                {
                    long y = ny == 1 ? (h - side) / 2 : (long)Math.Round(iy * (double)(h - side) / (ny - 1));
                    long x = nx == 1 ? (w - side) / 2 : (long)Math.Round(ix * (double)(w - side) / (nx - 1));
                    yield return (y, x, side);
                }
        }
    }
}
