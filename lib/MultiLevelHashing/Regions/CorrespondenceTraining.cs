using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MultiLevelHashing.Regions;

/// <summary>How the region head is trained on correspondences (lib/MultiLevelHashing/README.md section 2.5).</summary>
/// <param name="WarpsPerImage">Warped views rendered per training image.</param>
/// <param name="Steps">Optimiser steps.</param>
/// <param name="ImagesPerBatch">Warped views per step; their locations are each other's negatives.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="Temperature">Softmax temperature of the contrastive term on code cosines.</param>
/// <param name="QuantizationWeight">Weight of mean (|u| - 1)^2, which pulls the relaxed codes to their bits.</param>
/// <param name="BalanceWeight">Weight of the squared mean of each bit over the batch's locations, which keeps bits near half ones.</param>
/// <param name="MaxScaleChange">Largest relative zoom of a warp (0.35: between 1/1.35 and 1.35).</param>
/// <param name="MaxRotationDegrees">Largest in-plane rotation of a warp.</param>
/// <param name="MaxPerspective">Largest perspective term of a warp (on coordinates in [-1, 1]).</param>
/// <param name="Seed">Seed of the warps, the batches and nothing else (the head starts from PCA).</param>
/// <param name="Photometric">Whether warped views also change brightness and contrast and gain noise, as the benchmark's views do.</param>
/// <param name="AnchorWeight">Weight of the mean squared change of the projection from where training started (the PCA
/// directions), which keeps the head near the unsupervised code it must beat.</param>
/// <param name="Method">How the head learns from the correspondences: gradient steps on the contrastive loss, or the
/// closed-form learned whitening of the matched locations (then the optimiser settings and the seed of the batches do not apply).</param>
/// <param name="Shrinkage">Learned whitening: the ridge added to the matched differences' covariance, as a fraction of its
/// mean eigenvalue (small: whiten fully; large: the projection tends to PCA of the locations).</param>
public sealed record CorrespondenceTrainingConfig(int WarpsPerImage = 2, int Steps = 300, int ImagesPerBatch = 24, double LearningRate = 1e-3,
    double Temperature = 0.1, double QuantizationWeight = 0.1, double BalanceWeight = 0.5, double MaxScaleChange = 0.35,
    double MaxRotationDegrees = 15, double MaxPerspective = 0.12, int Seed = 0, bool Photometric = true, double AnchorWeight = 0,
    RegionTrainingMethod Method = RegionTrainingMethod.Contrastive, double Shrinkage = 1e-3)
{
    /// <summary>How the head learns, for the tables' setting column.</summary>
    public string Describe() => Method == RegionTrainingMethod.LearnedWhitening
        ? FormattableString.Invariant($"learned whitening of matched locations, shrinkage {Shrinkage:0.###}")
        : FormattableString.Invariant($"contrastive, {Steps} steps, learning rate {LearningRate:0.####}");
}

/// <summary>How a region head learns from homography correspondences (lib/MultiLevelHashing/README.md section 2.5).</summary>
public enum RegionTrainingMethod
{
    /// <summary>Adam steps on InfoNCE over code cosines, with quantization and bit-balance terms, started from PCA.</summary>
    Contrastive,

    /// <summary>
    /// Learned whitening from matching pairs (Mikolajczyk and Matas 2007; Radenović et al. 2016, cirtorch's "Lw"):
    /// whiten by the covariance of the differences of matched locations, then keep the B directions of largest variance
    /// of all locations in that space; the code is the sign. Closed form and deterministic.
    /// </summary>
    LearnedWhitening,
}

/// <summary>
/// Warped views of training images with exact location-to-location correspondences: view v of image i is
/// image i warped by a random homography H (scale, rotation, perspective, shift), so location (r, c) of the view
/// corresponds to the location of image i that H^-1 maps its centre to, when that lies inside the image.
/// </summary>
/// <param name="Features">F of the warped views, V x C x h x w.</param>
/// <param name="Sources">The training image each view warps.</param>
/// <param name="Matches">Per view, (location in the view, location in its source), as row-major grid indices r * w + c.</param>
public sealed record WarpedViews(Tensor Features, int[] Sources, IReadOnlyList<(int View, int Source)[]> Matches) : IDisposable
{
    /// <summary>Releases the features.</summary>
    public void Dispose() => Features.Dispose();
}

/// <summary>
/// Trains a <see cref="RegionHashHead"/> so that corresponding locations of two views of one photo get close codes
/// and locations of other landmarks' images far ones (lib/MultiLevelHashing/README.md section 2.5): supervision a
/// homography gives for free, without labels beyond "which images show the same landmark" (used only to avoid
/// treating two views of one landmark as negatives). The loss per step: for every matched location of a warped view,
/// a softmax over the code cosines to all locations of the batch's source images, other landmarks' as negatives
/// (InfoNCE), plus a quantization and a bit-balance term. The backbone stays frozen.
/// </summary>
public static class CorrespondenceTraining
{
    /// <summary>
    /// Renders <paramref name="config"/>.WarpsPerImage warped views of every image of <paramref name="images"/> at
    /// <paramref name="imageSize"/>, computes their maps with <paramref name="backbone"/>, and the matches of their
    /// locations on an <paramref name="gridHeight"/> x <paramref name="gridWidth"/> grid.
    /// </summary>
    public static WarpedViews Warp(Backbone backbone, IImageSource images, int imageSize, int gridHeight, int gridWidth,
        CorrespondenceTrainingConfig config, IProgress<ProgressReport>? progress = null, int batchSize = 16)
    {
        var rng = new SeededRandom(config.Seed, 7_000_001);
        var sources = Enumerable.Range(0, images.Count).SelectMany(i => Enumerable.Repeat(i, config.WarpsPerImage)).ToArray();
        var homographies = sources.Select(_ => RandomHomography(rng, config)).ToArray();
        var matches = homographies.Select(h => Correspondences(h, gridHeight, gridWidth)).ToArray();
        var parts = new List<Tensor>();
        bool wasTraining = backbone.training;
        var device = backbone.parameters().First().device;
        backbone.eval();
        try
        {
            using var noGrad = no_grad();
            for (int start = 0; start < sources.Length; start += batchSize)
            {
                int end = Math.Min(sources.Length, start + batchSize);
                using var scope = NewDisposeScope();
                var rgb = images.Load(sources[start..end], imageSize);
                var warped = WarpImages(rgb, homographies[start..end]);
                if (config.Photometric) warped = Photometric(warped, rng);
                // Maps come back to the CPU, where the head is fitted, whatever device the backbone runs on.
                parts.Add(backbone.forward(warped.to(device)).cpu().DetachFromDisposeScope());
                progress.Report("warped views", end, sources.Length, "img");
            }
            return new WarpedViews(cat(parts, 0).DetachFromDisposeScope(), sources, matches);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
            if (wasTraining) backbone.train();
        }
    }

    /// <summary>
    /// Trains a copy of <paramref name="start"/> on <paramref name="views"/> of the images whose maps are
    /// <paramref name="sourceFeatures"/> (N x C x h x w) and whose landmarks are <paramref name="labels"/> (-1: none).
    /// Deterministic for a seed on one thread count.
    /// </summary>
    public static RegionHashHead Train(RegionHashHead start, Tensor sourceFeatures, IReadOnlyList<int> labels, WarpedViews views,
        CorrespondenceTrainingConfig config, IProgress<ProgressReport>? progress = null)
    {
        if (config.Method == RegionTrainingMethod.LearnedWhitening) return LearnedWhitening(start, sourceFeatures, views, config.Shrinkage);
        var head = start.Copy();
        head.train();
        var rng = new SeededRandom(config.Seed, 7_000_002);
        var optimizer = optim.Adam(head.parameters(), config.LearningRate);
        using var startWeight = start.Weight.detach().clone();
        int h = (int)sourceFeatures.shape[2], w = (int)sourceFeatures.shape[3], cells = h * w;
        var usable = Enumerable.Range(0, views.Sources.Length).Where(v => views.Matches[v].Length > 0).ToArray();
        if (usable.Length == 0) throw new InvalidOperationException("no warped view keeps any location inside its source image");
        for (int step = 0; step < config.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var batch = Batch(rng, usable, views.Sources, config.ImagesPerBatch);
            var sourceIds = batch.Select(v => views.Sources[v]).Distinct().ToArray();
            var sourceSlot = sourceIds.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i);
            // Rows: matched locations of the batch's views. Columns: every location of the batch's source images.
            var rowIndex = new List<long>();
            var target = new List<long>();
            var rowLabel = new List<int>();
            for (int b = 0; b < batch.Length; b++)
                foreach (var (viewCell, sourceCell) in views.Matches[batch[b]])
                {
                    int v = batch[b];
                    rowIndex.Add((long)b * cells + viewCell);
                    target.Add((long)sourceSlot[views.Sources[v]] * cells + sourceCell);
                    rowLabel.Add(labels[views.Sources[v]]);
                }
            var columnLabel = sourceIds.SelectMany(s => Enumerable.Repeat(labels[s], cells)).ToArray();
            var columnImage = sourceIds.SelectMany(s => Enumerable.Repeat(s, cells)).ToArray();
            var rowImage = batch.SelectMany(v => views.Matches[v].Select(_ => views.Sources[v])).ToArray();
            // Locations of the same photo or landmark are not negatives: only the matched one is positive, the rest ignored.
            // A large negative logit removes an entry from the softmax (added, not masked, so no scalar crosses to LibTorch).
            var ignore = new float[rowIndex.Count * columnLabel.Length];
            for (int r = 0; r < rowIndex.Count; r++)
                for (int c = 0; c < columnLabel.Length; c++)
                    if (c != target[r] && (columnImage[c] == rowImage[r] || (rowLabel[r] >= 0 && columnLabel[c] == rowLabel[r])))
                        ignore[r * columnLabel.Length + c] = -1e4f;

            using var idx = tensor(sourceIds.Select(s => (long)s).ToArray());
            var viewCodes = head.forward(views.Features.index_select(0, tensor(batch.Select(v => (long)v).ToArray())))
                .reshape(-1, head.Bits);
            var viewRows = viewCodes.index_select(0, tensor(rowIndex.ToArray()));
            var sourceCodes = head.forward(sourceFeatures.index_select(0, idx)).reshape(-1, head.Bits);
            var logits = viewRows.matmul(sourceCodes.T) / (head.Bits * config.Temperature);
            logits = logits + tensor(ignore, [rowIndex.Count, columnLabel.Length]);
            var contrastive = F.cross_entropy(logits, tensor(target.ToArray()));
            var all = cat([viewCodes, sourceCodes], 0);
            var quantization = (all.abs() - 1).pow(2).mean();
            var balance = all.mean([0]).pow(2).mean();
            var loss = contrastive + config.QuantizationWeight * quantization + config.BalanceWeight * balance;
            if (config.AnchorWeight > 0) loss = loss + config.AnchorWeight * (head.Weight - startWeight).pow(2).sum(1).mean();
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            progress.Report("region head", step + 1, config.Steps, "steps", FormattableString.Invariant($"loss {loss.item<float>():0.000}"));
        }
        head.eval();
        return head;
    }

    /// <summary>
    /// The learned-whitening head (<see cref="RegionTrainingMethod.LearnedWhitening"/>) of <paramref name="start"/>'s
    /// size, fitted on the matched locations of <paramref name="views"/> (views without matches are left out, so a
    /// validation fold's held-out images never reach it) and on every location of their source images:
    /// S_w = mean (v - s)(v - s)^T over matched pairs plus <paramref name="shrinkage"/> times its mean eigenvalue,
    /// P = S_w^-1/2; the B leading eigenvectors V of the covariance of P (x - m) over the source locations; W = V^T P, c = -W m.
    /// </summary>
    public static RegionHashHead LearnedWhitening(RegionHashHead start, Tensor sourceFeatures, WarpedViews views, double shrinkage = 1e-3)
    {
        var usable = Enumerable.Range(0, views.Sources.Length).Where(v => views.Matches[v].Length > 0).ToArray();
        if (usable.Length == 0) throw new InvalidOperationException("no warped view keeps any location inside its source image");
        int channels = start.Channels;
        Tensor weight, bias;
        using (var scope = NewDisposeScope())
        {
            var sources = usable.Select(v => views.Sources[v]).Distinct().Order().ToArray();
            var sourceSlot = sources.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i);
            var sourceVectors = start.LocationVectors(sourceFeatures.index_select(0, tensor(sources.Select(s => (long)s).ToArray())))
                .reshape(sources.Length, -1, channels).to_type(ScalarType.Float64);
            var viewVectors = start.LocationVectors(views.Features.index_select(0, tensor(usable.Select(v => (long)v).ToArray())))
                .reshape(usable.Length, -1, channels).to_type(ScalarType.Float64);
            var viewRows = new List<long>();
            var sourceRows = new List<long>();
            int cells = (int)sourceVectors.shape[1];
            for (int u = 0; u < usable.Length; u++)
                foreach (var (viewCell, sourceCell) in views.Matches[usable[u]])
                {
                    viewRows.Add((long)u * cells + viewCell);
                    sourceRows.Add((long)sourceSlot[views.Sources[usable[u]]] * cells + sourceCell);
                }
            var all = sourceVectors.reshape(-1, channels);
            var differences = viewVectors.reshape(-1, channels).index_select(0, tensor(viewRows.ToArray())) - all.index_select(0, tensor(sourceRows.ToArray()));
            var within = differences.T.matmul(differences) / differences.shape[0];
            var (withinValues, withinVectors) = linalg.eigh(within);
            var ridged = withinValues.clamp_min(0) + shrinkage * withinValues.mean();
            var whiten = withinVectors.matmul(diag(ridged.rsqrt())).matmul(withinVectors.T);
            var mean = all.mean([0]);
            var whitened = (all - mean).matmul(whiten);
            var between = whitened.T.matmul(whitened) / whitened.shape[0];
            var (_, betweenVectors) = linalg.eigh(between);
            // eigh sorts eigenvalues ascending: the last B columns are the directions of largest variance, largest first.
            var leading = betweenVectors.flip(1)[.., ..start.Bits];
            var projection = leading.T.matmul(whiten);
            weight = projection.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
            bias = projection.matmul(mean).neg().to_type(ScalarType.Float32).MoveToOuterDisposeScope();
        }
        // Created outside the scope, which would otherwise dispose the head's parameters with the temporaries.
        var head = new RegionHashHead(channels, start.Bits);
        using (weight)
        using (bias)
            head.SetProjection(weight, bias);
        head.eval();
        return head;
    }

    /// <summary>Views of distinct source images, drawn without replacement from <paramref name="usable"/>.</summary>
    private static int[] Batch(SeededRandom rng, int[] usable, int[] sources, int size)
    {
        var order = (int[])usable.Clone();
        rng.Shuffle(order);
        var seen = new HashSet<int>();
        return [.. order.Where(v => seen.Add(sources[v])).Take(size)];
    }

    /// <summary>
    /// A homography on coordinates in [-1, 1] (x right, y down) mapping an image to its warped view: scale, rotation,
    /// a small perspective term and a shift, as a camera moving around a planar landmark would see it.
    /// </summary>
    public static double[,] RandomHomography(SeededRandom rng, CorrespondenceTrainingConfig config)
    {
        double scale = Math.Exp(rng.Uniform(-Math.Log(1 + config.MaxScaleChange), Math.Log(1 + config.MaxScaleChange)));
        double angle = rng.Uniform(-config.MaxRotationDegrees, config.MaxRotationDegrees) * Math.PI / 180;
        double px = rng.Uniform(-config.MaxPerspective, config.MaxPerspective), py = rng.Uniform(-config.MaxPerspective, config.MaxPerspective);
        double tx = rng.Uniform(-0.25, 0.25), ty = rng.Uniform(-0.25, 0.25);
        double c = Math.Cos(angle) * scale, s = Math.Sin(angle) * scale;
        return new double[,] { { c, -s, tx }, { s, c, ty }, { px, py, 1 } };
    }

    /// <summary>Per view: contrast and brightness factors in [0.7, 1.3] and Gaussian noise of sigma up to 8 (of 255), clamped to [0, 255].</summary>
    private static Tensor Photometric(Tensor rgb, SeededRandom rng)
    {
        using var scope = NewDisposeScope();
        long n = rgb.shape[0];
        var contrast = new float[n];
        var brightness = new float[n];
        var sigma = new float[n];
        for (int i = 0; i < n; i++)
        {
            contrast[i] = (float)rng.Uniform(0.7, 1.3);
            brightness[i] = (float)rng.Uniform(0.7, 1.3);
            sigma[i] = (float)rng.Uniform(0, 8);
        }
        var mean = rgb.mean([1, 2, 3], keepdim: true);
        var c = tensor(contrast, [n, 1, 1, 1]);
        var b = tensor(brightness, [n, 1, 1, 1]);
        // Noise from the seeded stream, not LibTorch's generator, so the views depend on the seed only.
        var noise = new float[rgb.numel()];
        for (long i = 0; i < noise.LongLength; i++) noise[i] = (float)rng.Gaussian();
        var g = tensor(noise, rgb.shape) * tensor(sigma, [n, 1, 1, 1]);
        return (((rgb - mean) * c + mean) * b + g).clamp(0, 255).MoveToOuterDisposeScope();
    }

    /// <summary>Applies homography <paramref name="h"/> to (x, y).</summary>
    public static (double X, double Y) Apply(double[,] h, double x, double y)
    {
        double d = h[2, 0] * x + h[2, 1] * y + h[2, 2];
        return ((h[0, 0] * x + h[0, 1] * y + h[0, 2]) / d, (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / d);
    }

    /// <summary>The inverse of a 3 x 3 homography.</summary>
    public static double[,] Invert(double[,] m)
    {
        double a = m[0, 0], b = m[0, 1], c = m[0, 2], d = m[1, 0], e = m[1, 1], f = m[1, 2], g = m[2, 0], hh = m[2, 1], i = m[2, 2];
        double det = a * (e * i - f * hh) - b * (d * i - f * g) + c * (d * hh - e * g);
        if (Math.Abs(det) < 1e-12) throw new ArgumentException("the homography is singular");
        return new double[,]
        {
            { (e * i - f * hh) / det, (c * hh - b * i) / det, (b * f - c * e) / det },
            { (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det },
            { (d * hh - e * g) / det, (b * g - a * hh) / det, (a * e - b * d) / det },
        };
    }

    /// <summary>
    /// Matches of a view made by <paramref name="h"/>: each view location whose centre H^-1 maps inside the source
    /// image, with the source location containing that point (grid cells of equal size over [-1, 1]).
    /// </summary>
    public static (int View, int Source)[] Correspondences(double[,] h, int gridHeight, int gridWidth)
    {
        var inverse = Invert(h);
        var matches = new List<(int, int)>();
        for (int r = 0; r < gridHeight; r++)
            for (int c = 0; c < gridWidth; c++)
            {
                double x = -1 + (2 * c + 1.0) / gridWidth, y = -1 + (2 * r + 1.0) / gridHeight;
                var (sx, sy) = Apply(inverse, x, y);
                if (!(sx > -1 && sx < 1 && sy > -1 && sy < 1)) continue;
                int sc = Math.Min(gridWidth - 1, (int)((sx + 1) / 2 * gridWidth)), sr = Math.Min(gridHeight - 1, (int)((sy + 1) / 2 * gridHeight));
                matches.Add((r * gridWidth + c, sr * gridWidth + sc));
            }
        return [.. matches];
    }

    /// <summary>Warps an RGB batch (N x 3 x H x W) by one homography each: view pixel p samples the source at H^-1 p (bilinear, black outside).</summary>
    public static Tensor WarpImages(Tensor rgb, IReadOnlyList<double[,]> homographies)
    {
        using var scope = NewDisposeScope();
        long n = rgb.shape[0], height = rgb.shape[2], width = rgb.shape[3];
        var grid = new float[n * height * width * 2];
        for (int k = 0; k < n; k++)
        {
            var inverse = Invert(homographies[k]);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    var (sx, sy) = Apply(inverse, -1 + (2 * x + 1.0) / width, -1 + (2 * y + 1.0) / height);
                    long at = ((k * height + y) * width + x) * 2;
                    grid[at] = (float)sx;
                    grid[at + 1] = (float)sy;
                }
        }
        var g = tensor(grid, [n, height, width, 2]).to(rgb.device);
        return F.grid_sample(rgb, g, mode: GridSampleMode.Bilinear, padding_mode: GridSamplePaddingMode.Zeros, align_corners: false)
            .MoveToOuterDisposeScope();
    }
}
