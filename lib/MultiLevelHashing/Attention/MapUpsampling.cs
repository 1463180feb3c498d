using MultiLevelHashing.Data;

namespace MultiLevelHashing.Attention;

/// <summary>
/// A rectangle of whole pixels in an image: the region the encoder saw (the whole image, or a query's crop rounded
/// outward and clipped as <see cref="BoundingBox.ToPixelRectangle"/> does).
/// </summary>
public readonly record struct PixelRegion(int X, int Y, int Width, int Height)
{
    /// <summary>The whole of an image of <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static PixelRegion Whole(int width, int height) => new(0, 0, width, height);

    /// <summary>
    /// The pixels an encoder sees when it crops an image of <paramref name="width"/> x <paramref name="height"/> to
    /// <paramref name="box"/> (rounded outward, clipped to the image, as <see cref="ImageLoader"/> crops), or the whole
    /// image without a box.
    /// </summary>
    public static PixelRegion Seen(BoundingBox? box, int width, int height)
    {
        if (box is not { } b) return Whole(width, height);
        var (x, y, w, h) = b.ToPixelRectangle(width, height);
        return new PixelRegion(x, y, w, h);
    }

    /// <summary>Whether the region covers the whole image of the given size.</summary>
    public bool IsWhole(int width, int height) => X == 0 && Y == 0 && Width == width && Height == height;
}

/// <summary>
/// Bilinear upsampling of a bit map from the h x w grid of F to image pixels (lib/MultiLevelHashing/README.md section
/// 2.6, Resolution): the same arithmetic as torch's <c>interpolate(mode='bilinear', align_corners=False)</c>, so output
/// pixel centre x samples the grid at <c>(x + 0.5) * w / W - 0.5</c>, clamped to the grid. Because the encoder stretched
/// the region it saw to S x S, the map gets that region's own width and height and is placed at its offset, so maps,
/// boxes and images share pixel coordinates.
/// </summary>
public static class MapUpsampling
{
    /// <summary>
    /// Upsamples (or downsamples) a row-major <paramref name="height"/> x <paramref name="width"/> grid to
    /// <paramref name="outHeight"/> x <paramref name="outWidth"/> pixels, row-major.
    /// </summary>
    public static float[] Bilinear(ReadOnlySpan<float> grid, int height, int width, int outHeight, int outWidth)
    {
        if (height < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(height), $"grid size {height} x {width}");
        if (outHeight < 1 || outWidth < 1) throw new ArgumentOutOfRangeException(nameof(outHeight), $"output size {outHeight} x {outWidth}");
        if (grid.Length != height * width) throw new ArgumentException($"grid has {grid.Length} values, not {height} x {width}", nameof(grid));
        var rows = Taps(height, outHeight);
        var cols = Taps(width, outWidth);
        var output = new float[outHeight * outWidth];
        for (int y = 0; y < outHeight; y++)
        {
            var (r0, r1, fy) = rows[y];
            var top = grid.Slice(r0 * width, width);
            var bottom = grid.Slice(r1 * width, width);
            for (int x = 0; x < outWidth; x++)
            {
                var (c0, c1, fx) = cols[x];
                // Same order of operations as LibTorch's CPU kernel: horizontal blends, then vertical.
                float upper = (1 - fx) * top[c0] + fx * top[c1];
                float lower = (1 - fx) * bottom[c0] + fx * bottom[c1];
                output[y * outWidth + x] = (1 - fy) * upper + fy * lower;
            }
        }
        return output;
    }

    /// <summary>
    /// The map at image resolution: an <paramref name="imageWidth"/> x <paramref name="imageHeight"/> row-major array
    /// holding the grid upsampled to <paramref name="region"/> at its offset, and <paramref name="outside"/> (default NaN:
    /// the encoder saw nothing there) elsewhere.
    /// </summary>
    public static float[] ToImage(ReadOnlySpan<float> grid, int height, int width, PixelRegion region, int imageWidth, int imageHeight,
        float outside = float.NaN)
    {
        if (region.Width < 1 || region.Height < 1 || region.X < 0 || region.Y < 0 ||
            region.X + region.Width > imageWidth || region.Y + region.Height > imageHeight)
            throw new ArgumentOutOfRangeException(nameof(region), $"region {region} does not lie inside a {imageWidth} x {imageHeight} image");
        var inside = Bilinear(grid, height, width, region.Height, region.Width);
        var image = new float[imageWidth * imageHeight];
        Array.Fill(image, outside);
        for (int y = 0; y < region.Height; y++)
            inside.AsSpan(y * region.Width, region.Width).CopyTo(image.AsSpan((region.Y + y) * imageWidth + region.X, region.Width));
        return image;
    }

    /// <summary>Per output index: the two grid indices it blends and the weight of the second.</summary>
    private static (int Lo, int Hi, float Weight)[] Taps(int input, int output)
    {
        // align_corners=False with an output size (no scale factor): scale = input / output, computed in float as LibTorch does.
        float scale = (float)input / output;
        var taps = new (int, int, float)[output];
        for (int o = 0; o < output; o++)
        {
            float source = Math.Max(scale * (o + 0.5f) - 0.5f, 0f);
            int lo = Math.Min((int)source, input - 1);
            int hi = Math.Min(lo + 1, input - 1);
            taps[o] = (lo, hi, source - lo);
        }
        return taps;
    }
}
