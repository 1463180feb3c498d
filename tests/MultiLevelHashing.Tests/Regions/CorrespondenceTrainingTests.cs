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
