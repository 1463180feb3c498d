using MultiLevelHashing.Regions;
using MultiLevelHashing.Runtime;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Regions;

public class CorrespondenceTrainingTests
{
    [Fact]
    public void InverseUndoesTheHomography()
    {
        var rng = new SeededRandom(3);
        for (int t = 0; t < 20; t++)
        {
            var h = CorrespondenceTraining.RandomHomography(rng, new CorrespondenceTrainingConfig());
            var inverse = CorrespondenceTraining.Invert(h);
            var (x, y) = CorrespondenceTraining.Apply(h, 0.3, -0.4);
            var (bx, by) = CorrespondenceTraining.Apply(inverse, x, y);
            Assert.Equal(0.3, bx, 9);
            Assert.Equal(-0.4, by, 9);
        }
    }

    [Fact]
    public void TheIdentityMatchesEveryLocationToItself()
    {
        var identity = new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        var matches = CorrespondenceTraining.Correspondences(identity, 7, 7);
        Assert.Equal(49, matches.Length);
        Assert.All(matches, m => Assert.Equal(m.View, m.Source));
    }

    [Fact]
    public void AHalfShiftMatchesEachColumnToTheNextAndDropsWhatFallsOutside()
    {
        // x' = x + 0.5 on [-1, 1] is a shift by a quarter of the width: on a 4-wide grid one column to the right.
        var shift = new double[,] { { 1, 0, 0.5 }, { 0, 1, 0 }, { 0, 0, 1 } };
        var matches = CorrespondenceTraining.Correspondences(shift, 1, 4);
        Assert.Equal(new[] { (1, 0), (2, 1), (3, 2) }, matches);
    }

    [Fact]
    public void MatchedLocationsShowTheSourcePixelsTheCorrespondenceNames()
    {
        // A source image whose red and green channels hold each pixel's own column and row. Bilinear sampling of such
        // ramps is exact, so the warped view's pixel at a location's centre (odd cells: the centre is a pixel centre)
        // names the source point it came from; that point must lie in the source location the correspondence names.
        // Independent of the correspondence arithmetic: LibTorch's grid_sample did the mapping.
        const int grid = 8, cell = 7, size = grid * cell;
        var pixels = new float[3 * size * size];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                pixels[y * size + x] = x;
                pixels[size * size + y * size + x] = y;
                pixels[2 * size * size + y * size + x] = 1;
            }
        using var source = tensor(pixels, [1, 3, size, size]);
        var rng = new SeededRandom(11);
        int checkedCount = 0;
        for (int t = 0; t < 10; t++)
        {
            var h = CorrespondenceTraining.RandomHomography(rng, new CorrespondenceTrainingConfig());
            using var view = CorrespondenceTraining.WarpImages(source, [h]);
            var values = view.data<float>().ToArray();
            foreach (var (v, s) in CorrespondenceTraining.Correspondences(h, grid, grid))
            {
                int px = (v % grid) * cell + cell / 2, py = (v / grid) * cell + cell / 2;
                float sx = values[py * size + px], sy = values[size * size + py * size + px], inside = values[2 * size * size + py * size + px];
                // Near the source's border bilinear sampling blends in the black padding (the constant blue channel
                // drops below 1 there); near a cell border rounding decides.
                if (inside < 0.999f || Near(sx, cell) || Near(sy, cell)) continue;
                Assert.Equal(s % grid, (int)((sx + 0.5) / cell));
                Assert.Equal(s / grid, (int)((sy + 0.5) / cell));
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 100, $"only {checkedCount} locations checked");
    }

    private static bool Near(float coordinate, int cell)
    {
        double within = (coordinate + 0.5) % cell;
        return within < 0.05 || within > cell - 0.05;
    }

    [Fact]
    public void TheSameSeedTrainsTheSameHeadAndAnotherSeedAnother()
    {
        using var scope = NewDisposeScope();
        var gen = new TorchSharp.torch.Generator(5);
        var sources = rand([12, 16, 3, 3], generator: gen);
        var viewFeatures = sources.repeat_interleave(2, 0) + 0.05 * rand([24, 16, 3, 3], generator: gen);
        var identity = new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        var matches = Enumerable.Range(0, 24).Select(_ => CorrespondenceTraining.Correspondences(identity, 3, 3)).ToList();
        var views = new WarpedViews(viewFeatures, [.. Enumerable.Range(0, 24).Select(v => v / 2)], matches);
        int[] labels = [.. Enumerable.Range(0, 12).Select(i => i % 4)];
        using var start = RegionHashHead.FromPca(sources, 8);
        var config = new CorrespondenceTrainingConfig(Steps: 15, ImagesPerBatch: 6, Seed: 1);
        using var a = CorrespondenceTraining.Train(start, sources, labels, views, config);
        using var b = CorrespondenceTraining.Train(start, sources, labels, views, config);
        using var c = CorrespondenceTraining.Train(start, sources, labels, views, config with { Seed = 2 });
        Assert.True(a.Weight.eq(b.Weight).all().item<bool>());
        Assert.False(a.Weight.eq(c.Weight).all().item<bool>());
        Assert.False(a.Weight.eq(start.Weight).all().item<bool>());
        var codesA = a.Encode(sources);
        var codesB = b.Encode(sources);
        for (int i = 0; i < codesA.Count; i++) Assert.Equal(codesA.Codes(i).ToArray(), codesB.Codes(i).ToArray());
    }

    [Fact]
    public void LearnedWhiteningWhitensTheMatchedDifferencesAndOrdersTheDirectionsByVariance()
    {
        using var scope = NewDisposeScope();
        var gen = new TorchSharp.torch.Generator(11);
        var sources = rand([30, 12, 3, 3], generator: gen);
        var viewFeatures = sources.repeat_interleave(2, 0) + 0.1 * randn([60, 12, 3, 3], generator: gen);
        var identity = new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        var matches = Enumerable.Range(0, 60).Select(v => v == 0 ? [] : CorrespondenceTraining.Correspondences(identity, 3, 3)).ToList();
        var views = new WarpedViews(viewFeatures, [.. Enumerable.Range(0, 60).Select(v => v / 2)], matches);
        using var start = RegionHashHead.FromPca(sources, 8);
        var config = new CorrespondenceTrainingConfig(Method: RegionTrainingMethod.LearnedWhitening);
        using var head = CorrespondenceTraining.Train(start, sources, new int[30], views, config);
        using var again = CorrespondenceTraining.Train(start, sources, new int[30], views, config with { Seed = 7 });
        // Closed form: no seed, no randomness.
        Assert.True(head.Weight.eq(again.Weight).all().item<bool>());

        // Recompute what the head must satisfy from the same location vectors (view 0 has no matches and is left out).
        var w = head.Weight.to_type(ScalarType.Float64);
        var all = head.LocationVectors(sources).reshape(-1, 12).to_type(ScalarType.Float64);
        var viewVectors = head.LocationVectors(viewFeatures[1..]).reshape(-1, 12).to_type(ScalarType.Float64);
        var sourceOfView = all.reshape(30, 9, 12).repeat_interleave(2, 0)[1..].reshape(-1, 12);
        var differences = viewVectors - sourceOfView;
        // W S_w W^T = I (up to the ridge of 1e-3 of the mean eigenvalue): matched locations differ by unit noise per bit.
        var whitenedWithin = w.matmul(differences.T.matmul(differences) / differences.shape[0]).matmul(w.T);
        Assert.True(whitenedWithin.diagonal().sub(1).abs().max().item<double>() < 0.05, whitenedWithin.diagonal().ToString(TorchSharp.TensorStringStyle.Julia));
        // W S_x W^T is diagonal with decreasing variances: the bits are the directions of largest variance after whitening, in order.
        var centred = all - all.mean([0]);
        var whitenedTotal = w.matmul(centred.T.matmul(centred) / centred.shape[0]).matmul(w.T);
        var variances = whitenedTotal.diagonal().data<double>().ToArray();
        Assert.True(whitenedTotal.sub(diag(whitenedTotal.diagonal())).abs().max().item<double>() < 1e-6 * variances[0]);
        for (int b = 1; b < variances.Length; b++) Assert.True(variances[b] <= variances[b - 1] * (1 + 1e-9), $"bit {b}: {variances[b]} after {variances[b - 1]}");
        // The bias centres every bit on the fitted locations' mean.
        var logits = head.Logits(sources).reshape(-1, 8).to_type(ScalarType.Float64);
        Assert.True(logits.mean([0]).abs().max().item<double>() < 1e-4);
    }

    [Fact]
    public void PcaSignCodesAreBalancedOnTheFittedLocations()
    {
        using var scope = NewDisposeScope();
        var features = rand([40, 32, 4, 4], generator: new TorchSharp.torch.Generator(9));
        using var head = RegionHashHead.FromPca(features, 16);
        var codes = head.Encode(features);
        Assert.Equal(40, codes.Count);
        Assert.Equal(16, codes.RegionCount(0));
        // Each bit splits the fitted locations at their mean along a principal direction: close to half ones.
        Assert.InRange(codes.OnesFraction(), 0.4, 0.6);
        Assert.Equal(new MultiLevelHashing.Search.Regions.RegionPosition(1, 2, codes.Positions(0)[6].Strength), codes.Positions(0)[6]);
    }
}
