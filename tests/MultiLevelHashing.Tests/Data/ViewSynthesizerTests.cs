using System.Numerics;
using FsCheck;
using FsCheck.Xunit;
using MultiLevelHashing.Data.MiniLandmarks;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace MultiLevelHashing.Tests.Data;

public class ViewSynthesizerTests
{
    [Property(MaxTest = 100)]
    public bool HomographyMapsTheFourCorners(int seed)
    {
        var rng = new Random(seed);
        Vector2 P(double x, double y) => new((float)x, (float)y);
        var from = new[] { P(0, 0), P(100, 0), P(100, 80), P(0, 80) };
        var to = new[]
        {
            P(rng.Next(0, 40), rng.Next(0, 40)), P(rng.Next(120, 160), rng.Next(0, 40)),
            P(rng.Next(120, 160), rng.Next(100, 140)), P(rng.Next(0, 40), rng.Next(100, 140)),
        };
        var h = ViewSynthesizer.Homography(from, to);
        return Enumerable.Range(0, 4).All(i => Vector2.Distance(ViewSynthesizer.Apply(h, from[i]), to[i]) < 1e-3);
    }

    [Fact]
    public void ImageSharpMatrixAppliesTheHomography()
    {
        // Warp a 20x20 image with one bright pixel through a projective map and find where it lands.
        var from = new[] { new Vector2(0, 0), new Vector2(20, 0), new Vector2(20, 20), new Vector2(0, 20) };
        var to = new[] { new Vector2(10, 5), new Vector2(70, 12), new Vector2(60, 70), new Vector2(5, 55) };
        var h = ViewSynthesizer.Homography(from, to);
        using var img = new Image<Rgba32>(20, 20, new Rgba32(0, 0, 0, 255));
        for (int y = 9; y <= 10; y++) for (int x = 9; x <= 10; x++) img[x, y] = new Rgba32(255, 255, 255, 255);
        using var warped = img.Clone(c => c.Transform(new Rectangle(0, 0, 20, 20), ViewSynthesizer.ToImageSharpMatrix(h), new Size(80, 80), KnownResamplers.Triangle));
        double sx = 0, sy = 0, sw = 0;
        for (int y = 0; y < 80; y++)
            for (int x = 0; x < 80; x++)
            {
                double v = warped[x, y].R * (warped[x, y].A / 255.0);
                if (v < 40) continue;
                sx += v * x; sy += v * y; sw += v;
            }
        var expected = ViewSynthesizer.Apply(h, new Vector2(10, 10));
        Assert.True(sw > 0);
        Assert.InRange(sx / sw, expected.X - 2, expected.X + 1.5);
        Assert.InRange(sy / sw, expected.Y - 2, expected.Y + 1.5);
        // Outside the projected quad the warp is transparent.
        Assert.Equal(0, warped[79, 0].A);
    }

    [Fact]
    public void PolygonAreaAndBounds()
    {
        Assert.Equal(12.0, Math.Abs(ViewSynthesizer.PolygonArea([new(0, 0), new(4, 0), new(4, 3), new(0, 3)])), 6);
        var mask = new bool[5 * 4];
        mask[1 * 5 + 2] = mask[3 * 5 + 3] = true;
        Assert.Equal(new MultiLevelHashing.Data.BoundingBox(2, 1, 4, 4), ViewSynthesizer.Bounds(mask, 5, 4));
        Assert.Null(ViewSynthesizer.Bounds(new bool[4], 2, 2));
    }
}

public class WarpAgreementTests
{
    [Fact]
    public void OwnWarpAgreesWithImageSharpsProjectiveTransform()
    {
        // A smooth image, a moderate perspective map: the two resamplers must agree closely away from the border.
        const int sw = 64, sh = 48, W = 90, H = 70;
        var pixels = new Rgb24[sw * sh];
        using var img = new Image<Rgba32>(sw, sh);
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < sw; x++)
            {
                var p = new Rgb24((byte)(128 + 100 * Math.Sin(x / 7.0)), (byte)(128 + 100 * Math.Cos(y / 9.0)), (byte)(2 * x + y));
                pixels[y * sw + x] = p;
                img[x, y] = new Rgba32(p.R, p.G, p.B, 255);
            }
        var src = new[] { new Vector2(0, 0), new Vector2(sw, 0), new Vector2(sw, sh), new Vector2(0, sh) };
        var dst = new[] { new Vector2(8, 6), new Vector2(80, 12), new Vector2(84, 62), new Vector2(4, 58) };
        var (rgb, alpha) = ViewSynthesizer.Warp(pixels, sw, sh, ViewSynthesizer.Homography(dst, src), W, H);
        using var reference = img.Clone(c => c.Transform(new Rectangle(0, 0, sw, sh), ViewSynthesizer.ToImageSharpMatrix(ViewSynthesizer.Homography(src, dst)), new Size(W, H), KnownResamplers.Triangle));
        double diff = 0;
        int n = 0, alphaMismatch = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
            {
                int i = y * W + x;
                bool inside = alpha[i] >= 0.5f, refInside = reference[x, y].A >= 128;
                if (inside != refInside) alphaMismatch++;
                if (alpha[i] < 1 || reference[x, y].A < 255) continue;
                diff += Math.Abs(rgb[i * 3] - reference[x, y].R) + Math.Abs(rgb[i * 3 + 1] - reference[x, y].G) + Math.Abs(rgb[i * 3 + 2] - reference[x, y].B);
                n += 3;
            }
        Assert.True(n > 3000, $"only {n / 3} interior pixels");
        Assert.True(diff / n < 3.0, $"mean absolute difference {diff / n:F2} grey levels");
        Assert.True(alphaMismatch < 0.03 * W * H, $"{alphaMismatch} pixels disagree on inside/outside");
    }
}
