using MultiLevelHashing.Attention;
using MultiLevelHashing.Data;
using MultiLevelHashing.Search;
using MultiLevelHashing.Tests.Data;

namespace MultiLevelHashing.Tests.Attention;

public class BitSelectionTests(SmokeBenchmarkFixture fixture) : IClassFixture<SmokeBenchmarkFixture>
{
    [Fact]
    public void CoverageCountsTheShareOfEachCellInsideTheBox()
    {
        // 2 x 4 grid; the box spans x in [0.125, 0.5] (half of column 0, all of column 1) and the top row only.
        var cover = BitPertinence.CellCoverage(new RegionBox(0.125, 0, 0.5, 0.5), 2, 4);
        Assert.Equal(new float[] { 0.5f, 1, 0, 0, 0, 0, 0, 0 }, cover);
        Assert.All(BitPertinence.CellCoverage(RegionBox.Whole, 3, 3), c => Assert.Equal(1f, c, 6));
    }

    [Fact]
    public void PertinenceIsThePositiveMassInsideOverTheTotal()
    {
        // Map [1 -5; 3 0] on 2 x 2: positive mass 4; the left column holds 1 + 3, the top row 1.
        float[] map = [1, -5, 3, 0];
        Assert.Equal(1.0, BitPertinence.Pertinence(map, BitPertinence.CellCoverage(new RegionBox(0, 0, 0.5, 1), 2, 2)), 9);
        Assert.Equal(0.25, BitPertinence.Pertinence(map, BitPertinence.CellCoverage(new RegionBox(0, 0, 1, 0.5), 2, 2)), 9);
        // Half of the bottom-left cell: 1.5 of 4.
        Assert.Equal(0.375, BitPertinence.Pertinence(map, BitPertinence.CellCoverage(new RegionBox(0, 0.5, 0.25, 1), 2, 2)), 6);
        Assert.Equal(0.0, BitPertinence.Pertinence([-1f, -2f, -0.5f, 0f], [1f, 1f, 1f, 1f]));
        // Score = pertinence x peak (3), and 0 for a bit that never fires.
        Assert.Equal(0.75, BitPertinence.SelectionScore(map, BitPertinence.CellCoverage(new RegionBox(0, 0, 1, 0.5), 2, 2)), 6);
        Assert.Equal(0.0, BitPertinence.SelectionScore([-1f, -2f, -0.5f, -3f], [1f, 1f, 1f, 1f]));
    }

    [Fact]
    public void PointingGameLooksAtThePeakCellsCentre()
    {
        float[] map = [0, 0, 0, 0, 0, 9, 0, 0, 0];  // peak at row 1, column 2 of 3 x 3: centre (5/6, 1/2)
        Assert.True(BitPertinence.PeakInside(map, 3, 3, new RegionBox(0.7, 0.4, 1, 0.6)));
        Assert.False(BitPertinence.PeakInside(map, 3, 3, new RegionBox(0, 0, 0.8, 1)));
    }

    [Fact]
    public void SalientRegionIsWhereTheSummedPositiveGlobalMapsReachTheirMean()
    {
        // Two bits on 1 x 4: sums of positive parts are [0, 2, 6, 0] (mean 2): positions 1 and 2 are salient.
        var maps = new BitMaps([0, 1, 5, -3, -1, 1, 1, 0], 1, 2, 1, 4);
        Assert.Equal(new float[] { 0, 1, 1, 0 }, BitPertinence.SalientCoverage(maps, 0));
    }

    /// <summary>Eight bits on a 2 x 2 grid; bits 3 and 5 fire in the top-left cell (the box), the others elsewhere.</summary>
    private static BitMaps Constructed(int images)
    {
        var values = new List<float>();
        for (int i = 0; i < images; i++)
            for (int k = 0; k < 8; k++)
                values.AddRange(k switch
                {
                    3 => [0.9f, -0.5f, -0.5f, -0.5f],
                    5 => [0.6f, 0.1f, -0.5f, -0.5f],
                    1 => [-0.5f, -0.5f, -0.5f, 0.95f],
                    _ => [-0.2f, 0.3f, 0.3f, 0.3f],
                });
        return new BitMaps([.. values], images, 8, 2, 2);
    }

    [Fact]
    public void DatasetLevelAndQueryAdaptiveSelectionPickTheBitsThatFireOnTheObject()
    {
        var box = new RegionBox(0, 0, 0.5, 0.5);
        var maps = Constructed(4);
        Assert.Equal([3, 5], BitSelection.DatasetLevel(maps, [box, box, box, box], 2).Indices());
        var cover = BitPertinence.CellCoverage(box, 2, 2);
        Assert.Equal([3, 5], BitSelection.QueryAdaptive(maps, 2, cover, 2).Indices());
        // The bit that fires hardest but outside the box (1) is not chosen; with three bits, the tie among 0, 2 and 4
        // (same score) goes to the lowest index.
        Assert.Equal([0, 3, 5], BitSelection.QueryAdaptive(maps, 0, cover, 3).Indices());
    }

    [Fact]
    public void TopBitsBreaksTiesTowardsTheLowerIndex()
    {
        Assert.Equal([1, 2], BitSelection.TopBits([0.1, 0.5, 0.5, 0.5], 2));
        Assert.Equal([0, 1, 2, 3], BitSelection.TopBits([0.1, 0.5, 0.5, 0.5], 4));
        Assert.Equal(32, BitSelection.SelectedCount(256, 0.125));
        Assert.Equal(1, BitSelection.SelectedCount(8, 0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitSelection.SelectedCount(8, 0));
    }

    [Fact]
    public void ControlsAreDeterministicAndPickWhatTheySay()
    {
        Assert.Equal(BitSelection.Random(64, 8, 5).Indices(), BitSelection.Random(64, 8, 5).Indices());
        Assert.NotEqual(BitSelection.Random(64, 8, 5).Indices(), BitSelection.Random(64, 8, 6).Indices());
        Assert.Equal(8, BitSelection.Random(64, 8, 5).Count);
        // Eight bits over four images: bit 2 varies most, then bit 0, then bit 5; the others are constant.
        var codes = new float[4 * 8];
        Array.Fill(codes, 0.5f);
        float[] bit2 = [-1, 1, -1, 1], bit0 = [0.1f, 0.3f, 0.1f, 0.3f], bit5 = [0, 0.05f, 0, 0.05f];
        for (int i = 0; i < 4; i++) (codes[i * 8 + 2], codes[i * 8], codes[i * 8 + 5]) = (bit2[i], bit0[i], bit5[i]);
        Assert.Equal([0, 2], BitSelection.HighestVariance(codes, 8, 2).Indices());
        Assert.Equal([2], BitSelection.HighestVariance(codes, 8, 1).Indices());
        Assert.Equal([0, 2, 5], BitSelection.HighestVariance(codes, 8, 3).Indices());
    }

    [Fact]
    public void TheTrainingSplitGuardRefusesTestImages()
    {
        var dataset = fixture.Dataset;
        TrainingSelection.EnsureTrainingOnly(dataset, dataset.Train);
        var e = Assert.Throws<InvalidOperationException>(() => TrainingSelection.EnsureTrainingOnly(dataset, [dataset.Train[0], dataset.Database[0]]));
        Assert.Contains(dataset.Database[0].Name, e.Message);
        // A training image relabelled as training but sitting in the benchmark is refused too.
        var disguised = dataset.Database[^1] with { Split = DatasetSplit.Train };
        Assert.Throws<InvalidOperationException>(() => TrainingSelection.EnsureTrainingOnly(dataset, [disguised]));
        // On a validation fold, the held-out landmarks' images are the benchmark and are refused.
        var fold = dataset.ValidationFold(0, 2);
        TrainingSelection.EnsureTrainingOnly(fold, fold.Train);
        Assert.Throws<InvalidOperationException>(() => TrainingSelection.EnsureTrainingOnly(fold, [fold.Database[0] with { }]));
    }

    [Fact]
    public void BoxesBecomeRegionsOfTheImageArea()
    {
        var image = fixture.Dataset.Train.First(t => t.Box is not null);
        var (w, h) = ImageLoader.Size(image.Path);
        var region = TrainingSelection.Boxes([image])[0];
        Assert.Equal(image.Box!.Value.X1 / w, region.X1, 9);
        Assert.Equal(Math.Min(1, image.Box!.Value.Y2 / h), region.Y2, 9);
        Assert.Throws<MultiLevelHashing.Runtime.UserInputException>(() => TrainingSelection.Boxes([image with { Box = null }]));
    }

    [Fact]
    public void StoredSelectionChecksItsCodeLength()
    {
        var stored = new SelectedLocalBits(16, [1, 4, 9], 0.2, 64, "test");
        Assert.Equal([1, 4, 9], stored.ToMask(16).Indices());
        Assert.Throws<ArgumentException>(() => stored.ToMask(32));
        Assert.Throws<ArgumentException>(() => (stored with { Bits = [4, 1] }).ToMask(16));
    }
}
