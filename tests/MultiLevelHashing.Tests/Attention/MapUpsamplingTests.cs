using MultiLevelHashing.Attention;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Attention;

/// <summary>
/// The upsampling of bit maps to image pixels (lib/MultiLevelHashing/README.md section 2.6, Resolution) against
/// LibTorch's own bilinear interpolation with align_corners=False, and against hand-computed values.
/// </summary>
public class MapUpsamplingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(4, 4, 64, 64)]
    [InlineData(5, 5, 160, 160)]
    [InlineData(5, 5, 512, 640)]     // a whole 640 x 512 photo
    [InlineData(4, 4, 37, 113)]      // a thin query crop
    [InlineData(3, 7, 7, 3)]         // shrinking one axis while growing the other
    [InlineData(5, 5, 2, 3)]         // a crop smaller than the grid
    [InlineData(1, 1, 9, 4)]
    [InlineData(6, 2, 6, 2)]         // same size: identity
    public void MatchesTorchInterpolateOnRandomMaps(int height, int width, int outHeight, int outWidth)
    {
        var random = new SeededRandom(height * 1000 + width * 100 + outHeight * 10 + outWidth);
        double largest = 0;
        for (int trial = 0; trial < 5; trial++)
        {
            var grid = Enumerable.Range(0, height * width).Select(_ => (float)random.Uniform(-3, 3)).ToArray();
            var ours = MapUpsampling.Bilinear(grid, height, width, outHeight, outWidth);

            using var input = tensor(grid).reshape(1, 1, height, width);
            using var expected = nn.functional.interpolate(input, size: [outHeight, outWidth], mode: InterpolationMode.Bilinear, align_corners: false);
            var reference = expected.contiguous().data<float>().ToArray();

            Assert.Equal(reference.Length, ours.Length);
            double worst = reference.Zip(ours, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= 1e-5, $"{height}x{width} -> {outHeight}x{outWidth}: max |ours - torch| = {worst}");
            largest = Math.Max(largest, worst);
        }
        output.WriteLine($"{height}x{width} -> {outHeight}x{outWidth}: max |ours - torch| = {largest:G3} over 5 random maps in [-3, 3]");
    }

    [Fact]
    public void DoublingA2x2GridGivesTheHandComputedValues()
    {
        // align_corners=False, scale 1/2: output pixel o samples (o + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25
        // (past the last cell, so its value), i.e. weights 0, 1/4, 3/4, 1 of the second row or column.
        var grid = new float[] { 0, 1, 2, 3 };
        var up = MapUpsampling.Bilinear(grid, 2, 2, 4, 4);
        float[] rowWeights = [0, 0.25f, 0.75f, 1];
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                Assert.Equal(2 * rowWeights[y] + rowWeights[x], up[y * 4 + x], 6);
    }

    [Fact]
    public void ToImagePlacesTheMapAtTheRegionAndLeavesTheRestOutside()
    {
        var random = new SeededRandom(7);
        var grid = Enumerable.Range(0, 20).Select(_ => (float)random.Uniform(-1, 1)).ToArray();
        // A query box in a 50 x 40 image, as ImageLoader crops it: rounded outward and clipped.
        var region = PixelRegion.Seen(new BoundingBox(10.4, 5.5, 31.2, 30), 50, 40);
        Assert.Equal(new PixelRegion(10, 5, 22, 25), region);

        var image = MapUpsampling.ToImage(grid, 4, 5, region, 50, 40);
        var inside = MapUpsampling.Bilinear(grid, 4, 5, 25, 22);
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 50; x++)
            {
                bool isInside = x >= 10 && x < 32 && y >= 5 && y < 30;
                float value = image[y * 50 + x];
                if (isInside) Assert.Equal(inside[(y - 5) * 22 + (x - 10)], value);
                else Assert.True(float.IsNaN(value), $"({x}, {y}) is outside the region but holds {value}");
            }
        Assert.Equal(PixelRegion.Whole(50, 40), PixelRegion.Seen(null, 50, 40));
    }

    [Fact]
    public void ARegionOutsideTheImageIsRefused()
    {
        var grid = new float[4];
        Assert.Throws<ArgumentOutOfRangeException>(() => MapUpsampling.ToImage(grid, 2, 2, new PixelRegion(40, 0, 20, 10), 50, 40));
        Assert.Throws<ArgumentOutOfRangeException>(() => MapUpsampling.ToImage(grid, 2, 2, new PixelRegion(-1, 0, 20, 10), 50, 40));
        Assert.Throws<ArgumentException>(() => MapUpsampling.Bilinear(grid, 3, 2, 4, 4));
    }
}
