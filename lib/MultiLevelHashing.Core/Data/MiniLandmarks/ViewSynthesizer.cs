using System.Numerics;
using System.Runtime.CompilerServices;
using MultiLevelHashing.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace MultiLevelHashing.Data.MiniLandmarks;

/// <summary>What a generated image is for.</summary>
public enum ViewKind
{
    /// <summary>A database or training view of a landmark: any scale, tilt, crop, occlusion.</summary>
    View,
    /// <summary>A clear, unoccluded view used as a query (and kept in the database, as in Oxford5k).</summary>
    Query,
    /// <summary>A view of a photo that no landmark uses.</summary>
    Distractor,
}

/// <summary>A decoded photo with its pixels in a flat array for fast, thread-safe reads.</summary>
public sealed class SourcePhoto
{
    /// <summary>Wraps a decoded photo.</summary>
    public SourcePhoto(string name, Image<Rgb24> image)
    {
        Name = name;
        Image = image;
        Pixels = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(Pixels);
    }

    /// <summary>File name in the photo folder.</summary>
    public string Name { get; }

    /// <summary>The decoded image (read-only once wrapped).</summary>
    public Image<Rgb24> Image { get; }

    /// <summary>Row-major pixels.</summary>
    public Rgb24[] Pixels { get; }

    /// <summary>Width in pixels.</summary>
    public int Width => Image.Width;

    /// <summary>Height in pixels.</summary>
    public int Height => Image.Height;
}

/// <summary>How one view was made and what it shows; the generator writes one row of views.tsv from it.</summary>
/// <param name="Width">Image width.</param>
/// <param name="Height">Image height.</param>
/// <param name="VisibleFraction">Visible (in frame and unoccluded) area of the landmark over its whole projected area, in [0, 1].</param>
/// <param name="AreaFraction">Visible landmark pixels over image pixels.</param>
/// <param name="Box">Box of the visible landmark pixels; null when none is visible.</param>
/// <param name="Scale">Projected landmark size relative to fitting the frame (above 1: partial crop).</param>
/// <param name="TiltX">Horizontal perspective tilt.</param>
/// <param name="TiltY">Vertical perspective tilt.</param>
/// <param name="RotationDegrees">In-plane rotation.</param>
/// <param name="Clutter">True when composited onto another photo.</param>
/// <param name="Background">Background photo name, or "-".</param>
/// <param name="Occluders">Number of occluders drawn.</param>
/// <param name="Blur">Gaussian blur sigma (0 = none).</param>
/// <param name="Noise">Noise sigma in 0-255 units (0 = none).</param>
/// <param name="Brightness">Brightness factor.</param>
/// <param name="Contrast">Contrast factor.</param>
/// <param name="JpegQuality">JPEG quality the image is saved with.</param>
public sealed record ViewInfo(int Width, int Height, double VisibleFraction, double AreaFraction, BoundingBox? Box,
                              double Scale, double TiltX, double TiltY, double RotationDegrees, bool Clutter, string Background,
                              int Occluders, double Blur, double Noise, double Brightness, double Contrast, int JpegQuality);

/// <summary>
/// Renders a view of a real photo as a camera would see a landmark: perspective (tilt + rotation), scale from far to
/// partial crop, compositing onto another photo (clutter), occluders, lighting, blur, noise; and measures how much of
/// the landmark stays visible. Geometry is written here (homography solve, inverse-mapped bilinear warp, polygon area) because
/// only ImageSharp's core package is available.
/// </summary>
public static class ViewSynthesizer
{
    private static readonly double[] Aspects = [4.0 / 3.0, 3.0 / 4.0, 1.0, 3.0 / 2.0];

    /// <summary>
    /// Renders one view of <paramref name="photo"/>; <paramref name="pool"/> provides backgrounds and occluder textures.
    /// Retries (with the same random stream, so still deterministic) until a Query is clearly visible or a View shows at
    /// least 5% of the landmark.
    /// </summary>
    public static (Image<Rgb24> Image, ViewInfo Info) Render(SeededRandom rng, SourcePhoto photo, IReadOnlyList<SourcePhoto> pool,
                                                             ViewKind kind, MiniLandmarksConfig config, Configuration? imageConfig = null)
    {
        imageConfig ??= Configuration.Default;
        (Image<Rgb24> Image, ViewInfo Info)? last = null;
        for (int attempt = 0; attempt < 12; attempt++)
        {
            last?.Image.Dispose();
            last = RenderOnce(rng, photo, pool, kind, config, imageConfig);
            var info = last.Value.Info;
            bool acceptable = kind switch
            {
                ViewKind.Query => info.VisibleFraction >= Math.Max(0.85, config.GoodVisibility) && info.AreaFraction >= config.GoodMinArea,
                ViewKind.View => info.VisibleFraction >= 0.05,
                _ => true,
            };
            if (acceptable) break;
        }
        return last!.Value;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (Image<Rgb24>, ViewInfo) RenderOnce(SeededRandom rng, SourcePhoto photo, IReadOnlyList<SourcePhoto> pool,
                                                        ViewKind kind, MiniLandmarksConfig cfg, Configuration imageConfig)
    {
        bool query = kind == ViewKind.Query;
        double aspect = rng.Pick(Aspects);
        int L = cfg.ViewSize;
        int W = aspect >= 1 ? L : Math.Max(8, (int)Math.Round(L * aspect));
        int H = aspect >= 1 ? Math.Max(8, (int)Math.Round(L / aspect)) : L;

        // Scale relative to "fits the frame": far (small in clutter), normal, close (partial crop), or a fragment (a
        // small part of a landmark much larger than the frame, the typical "junk" view).
        double u, slack = query ? 0 : 0.2;
        if (query) u = rng.Uniform(0.72, 0.92);
        else
        {
            double r = rng.NextDouble();
            if (r < 0.2) u = rng.Uniform(0.3, 0.55);
            else if (r < 0.6) u = rng.Uniform(0.6, 0.98);
            else if (r < 0.82) u = rng.Uniform(1.15, 1.9);
            else { u = rng.Uniform(1.9, 3.2); slack = 0.35; }
        }
        double fit = Math.Min((double)W / photo.Width, (double)H / photo.Height);
        double w = photo.Width * fit * u, h = photo.Height * fit * u;
        double maxTilt = query ? Math.Min(0.08, cfg.MaxTilt) : cfg.MaxTilt;
        double tiltX = rng.Uniform(-maxTilt, maxTilt), tiltY = rng.Uniform(-maxTilt, maxTilt) * 0.6;
        double rot = query ? rng.Uniform(-3, 3) : rng.Uniform(-12, 12);
        double cx = RangeUniform(rng, w / 2 - slack * w, W - w / 2 + slack * w);
        double cy = RangeUniform(rng, h / 2 - slack * h, H - h / 2 + slack * h);

        // Destination quad: rectangle, tilted (one side shorter, as seen from an angle), jittered, rotated, placed.
        var rel = new (double X, double Y)[] { (-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2) };
        double cr = Math.Cos(rot * Math.PI / 180), sr = Math.Sin(rot * Math.PI / 180);
        var dst = new Vector2[4];
        for (int i = 0; i < 4; i++)
        {
            var (x, y) = rel[i];
            y *= x < 0 ? 1 - tiltX : 1 + tiltX;
            x *= y < 0 ? 1 - tiltY : 1 + tiltY;
            if (!query) { x += rng.Gaussian() * 0.02 * w; y += rng.Gaussian() * 0.02 * h; }
            dst[i] = new Vector2((float)(cx + x * cr - y * sr), (float)(cy + x * sr + y * cr));
        }
        double quadArea = Math.Abs(PolygonArea(dst));

        // Shrink the photo first so that the projective warp does not have to downsample much (it would alias).
        double projected = Math.Max(w, h) * (1 + maxTilt);
        double pre = Math.Min(1.0, 1.25 * projected / Math.Max(photo.Width, photo.Height));
        int sw = Math.Max(2, (int)Math.Round(photo.Width * pre)), sh = Math.Max(2, (int)Math.Round(photo.Height * pre));
        // Both sides: with a small photo the width can round back to its own while the height does not.
        using var src = photo.Image.Clone(c => { if (sw != photo.Width || sh != photo.Height) c.Resize(sw, sh, KnownResamplers.Bicubic); });
        var srcPixels = new Rgb24[sw * sh];
        src.CopyPixelDataTo(srcPixels);
        var srcQuad = new[] { new Vector2(0, 0), new Vector2(sw, 0), new Vector2(sw, sh), new Vector2(0, sh) };
        var (fgRgb, fgAlpha) = Warp(srcPixels, sw, sh, Homography(dst, srcQuad), W, H);

        // Background: a crop of another photo (clutter) or a plain two-tone backdrop.
        bool clutter = kind == ViewKind.Distractor || rng.Chance(cfg.ClutterProbability);
        string backgroundName = "-";
        var px = new float[W * H * 3];
        if (clutter && pool.Count > 0)
        {
            var bg = rng.Pick(pool);
            backgroundName = bg.Name;
            SampleRegion(rng, bg, px, W, H);
        }
        else
        {
            var top = RandomColour(rng); var bottom = RandomColour(rng);
            for (int y = 0; y < H; y++)
            {
                float t = (float)y / Math.Max(1, H - 1);
                for (int x = 0; x < W; x++)
                    for (int c = 0; c < 3; c++) px[(y * W + x) * 3 + c] = top[c] * (1 - t) + bottom[c] * t;
            }
        }

        // Composite the warped landmark; its alpha is the landmark mask.
        var mask = new bool[W * H];
        for (int i = 0; i < W * H; i++)
        {
            float a = fgAlpha[i];
            if (a <= 0) continue;
            for (int c = 0; c < 3; c++) px[i * 3 + c] = fgRgb[i * 3 + c] * a + px[i * 3 + c] * (1 - a);
            mask[i] = a >= 0.5f;
        }

        // Occluders over the landmark: patches of other photos, plain shapes, or poles.
        int occluders = kind == ViewKind.View && rng.Chance(cfg.OccluderProbability) ? 1 + rng.Next(3) : 0;
        var occluded = new bool[W * H];
        if (occluders > 0 && Bounds(mask, W, H) is { } lb)
        {
            double bw = lb.X2 - lb.X1, bh = lb.Y2 - lb.Y1;
            for (int k = 0; k < occluders; k++)
            {
                int shape = rng.Next(3);
                double ow, oh, ox, oy;
                if (shape == 2)
                {
                    ow = rng.Uniform(0.05, 0.12) * W; oh = rng.Uniform(0.6, 1.0) * H;
                    ox = rng.Uniform(lb.X1, lb.X2); oy = rng.Chance(0.5) ? oh / 2 : H - oh / 2;
                }
                else
                {
                    ow = rng.Uniform(0.2, 0.55) * bw; oh = rng.Uniform(0.2, 0.6) * bh;
                    ox = rng.Uniform(lb.X1, lb.X2); oy = rng.Uniform(lb.Y1, lb.Y2);
                }
                bool textured = pool.Count > 0 && rng.Chance(0.6);
                var tex = textured ? rng.Pick(pool) : null;
                double tsx = textured ? rng.Uniform(0, tex!.Width * 0.5) : 0, tsy = textured ? rng.Uniform(0, tex!.Height * 0.5) : 0;
                double tscale = rng.Uniform(0.5, 1.5);
                var colour = RandomColour(rng);
                float shade = (float)rng.Uniform(-40, 40);
                int x0 = Math.Max(0, (int)(ox - ow / 2)), x1 = Math.Min(W, (int)Math.Ceiling(ox + ow / 2));
                int y0 = Math.Max(0, (int)(oy - oh / 2)), y1 = Math.Min(H, (int)Math.Ceiling(oy + oh / 2));
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++)
                    {
                        if (shape == 1)
                        {
                            double ex = (x + 0.5 - ox) / (ow / 2), ey = (y + 0.5 - oy) / (oh / 2);
                            if (ex * ex + ey * ey > 1) continue;
                        }
                        int i = y * W + x;
                        if (tex is not null)
                        {
                            int sx = Math.Clamp((int)(tsx + (x - x0) * tscale), 0, tex.Width - 1);
                            int sy = Math.Clamp((int)(tsy + (y - y0) * tscale), 0, tex.Height - 1);
                            var t = tex.Pixels[sy * tex.Width + sx];
                            px[i * 3] = t.R; px[i * 3 + 1] = t.G; px[i * 3 + 2] = t.B;
                        }
                        else
                        {
                            float g = shade * ((float)(y - y0) / Math.Max(1, y1 - y0) - 0.5f);
                            for (int c = 0; c < 3; c++) px[i * 3 + c] = colour[c] + g;
                        }
                        occluded[i] = true;
                    }
            }
        }

        int visible = 0;
        var vis = new bool[W * H];
        for (int i = 0; i < W * H; i++)
            if (mask[i] && !occluded[i]) { vis[i] = true; visible++; }
        double visibleFraction = quadArea > 0 ? Math.Min(1.0, visible / quadArea) : 0;
        var box = Bounds(vis, W, H);

        // Lighting: brightness, contrast, saturation, a slight colour cast and an illumination gradient.
        double brightness = query ? rng.Uniform(0.85, 1.15) : rng.Uniform(0.65, 1.35);
        double contrast = query ? rng.Uniform(0.9, 1.1) : rng.Uniform(0.75, 1.25);
        double saturation = rng.Uniform(0.7, 1.3);
        double gx = rng.Uniform(-0.3, 0.3), gy = rng.Uniform(-0.3, 0.3);
        var cast = new[] { rng.Uniform(0.92, 1.08), rng.Uniform(0.92, 1.08), rng.Uniform(0.92, 1.08) };
        var rgb = new Rgb24[W * H];
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
            {
                int i = y * W + x;
                double light = brightness * (1 + gx * ((double)x / W - 0.5) + gy * ((double)y / H - 0.5));
                double gray = 0.299 * px[i * 3] + 0.587 * px[i * 3 + 1] + 0.114 * px[i * 3 + 2];
                byte Tone(int c)
                {
                    double v = gray + saturation * (px[i * 3 + c] - gray);
                    v = (v * light * cast[c] - 128) * contrast + 128;
                    return (byte)Math.Clamp(Math.Round(v), 0, 255);
                }
                rgb[i] = new Rgb24(Tone(0), Tone(1), Tone(2));
            }
        var image = Image.LoadPixelData<Rgb24>(imageConfig, rgb, W, H);

        double blur = !query && rng.Chance(cfg.BlurProbability) ? rng.Uniform(0.6, 2.0) : 0;
        if (blur > 0) image.Mutate(c => c.GaussianBlur((float)blur));
        double noise = rng.Chance(cfg.NoiseProbability) ? (query ? rng.Uniform(1, 4) : rng.Uniform(2, 10)) : 0;
        if (noise > 0)
        {
            var buf = new Rgb24[W * H];
            image.CopyPixelDataTo(buf);
            for (int i = 0; i < buf.Length; i++)
            {
                var p = buf[i];
                buf[i] = new Rgb24(Noisy(p.R, rng, noise), Noisy(p.G, rng, noise), Noisy(p.B, rng, noise));
            }
            image.Dispose();
            image = Image.LoadPixelData<Rgb24>(imageConfig, buf, W, H);
        }
        int quality = rng.Next(cfg.JpegQualityMin, cfg.JpegQualityMax + 1);
        var info = new ViewInfo(W, H, visibleFraction, (double)visible / (W * H), box, u, tiltX, tiltY, rot, clutter, backgroundName,
                                occluders, blur, noise, brightness, contrast, quality);
        return (image, info);
    }

    private static byte Noisy(byte v, SeededRandom rng, double sigma) => (byte)Math.Clamp(Math.Round(v + rng.Gaussian() * sigma), 0, 255);

    private static double RangeUniform(SeededRandom rng, double a, double b) => a <= b ? rng.Uniform(a, b) : rng.Uniform(b, a);

    private static float[] RandomColour(SeededRandom rng) => [(float)rng.Uniform(20, 235), (float)rng.Uniform(20, 235), (float)rng.Uniform(20, 235)];

    /// <summary>Fills <paramref name="px"/> (W x H x 3 floats) with a random crop of <paramref name="photo"/> of the same aspect, bilinear.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SampleRegion(SeededRandom rng, SourcePhoto photo, float[] px, int W, int H)
    {
        double aspect = (double)W / H;
        double maxW = Math.Min(photo.Width, photo.Height * aspect);
        double cw = maxW * rng.Uniform(0.4, 1.0), ch = cw / aspect;
        double x0 = rng.Uniform(0, photo.Width - cw), y0 = rng.Uniform(0, photo.Height - ch);
        bool flip = rng.Chance(0.5);
        double sx = cw / W, sy = ch / H;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
            {
                double fx = x0 + ((flip ? W - 1 - x : x) + 0.5) * sx - 0.5, fy = y0 + (y + 0.5) * sy - 0.5;
                int ix = Math.Clamp((int)Math.Floor(fx), 0, photo.Width - 1), iy = Math.Clamp((int)Math.Floor(fy), 0, photo.Height - 1);
                int jx = Math.Min(ix + 1, photo.Width - 1), jy = Math.Min(iy + 1, photo.Height - 1);
                float ax = (float)Math.Clamp(fx - ix, 0, 1), ay = (float)Math.Clamp(fy - iy, 0, 1);
                var p00 = photo.Pixels[iy * photo.Width + ix]; var p10 = photo.Pixels[iy * photo.Width + jx];
                var p01 = photo.Pixels[jy * photo.Width + ix]; var p11 = photo.Pixels[jy * photo.Width + jx];
                int o = (y * W + x) * 3;
                px[o] = Lerp2(p00.R, p10.R, p01.R, p11.R, ax, ay);
                px[o + 1] = Lerp2(p00.G, p10.G, p01.G, p11.G, ax, ay);
                px[o + 2] = Lerp2(p00.B, p10.B, p01.B, p11.B, ax, ay);
            }
    }

    private static float Lerp2(float a, float b, float c, float d, float ax, float ay)
        => (a * (1 - ax) + b * ax) * (1 - ay) + (c * (1 - ax) + d * ax) * ay;

    /// <summary>Tight box (x1, y1, x2, y2 with x2/y2 exclusive) of the set pixels, or null when none is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static BoundingBox? Bounds(bool[] mask, int width, int height)
    {
        int x1 = width, y1 = height, x2 = -1, y2 = -1;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                if (mask[y * width + x])
                {
                    if (x < x1) x1 = x;
                    if (x > x2) x2 = x;
                    if (y < y1) y1 = y;
                    if (y > y2) y2 = y;
                }
        return x2 < 0 ? null : new BoundingBox(x1, y1, x2 + 1, y2 + 1);
    }

    /// <summary>
    /// Projective warp by inverse mapping: each output pixel centre goes through <paramref name="inverse"/> (output to
    /// source coordinates, pixel edges at integers) and is sampled bilinearly. Alpha is 1 inside the source rectangle
    /// and falls off linearly over about one source pixel at its border (anti-aliased edges), 0 outside.
    /// ImageSharp's own projective transform gives the same picture but is two orders of magnitude slower here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static (float[] Rgb, float[] Alpha) Warp(Rgb24[] source, int sourceWidth, int sourceHeight, double[,] inverse, int width, int height)
    {
        var rgb = new float[width * height * 3];
        var alpha = new float[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double px = x + 0.5, py = y + 0.5;
                double w = inverse[2, 0] * px + inverse[2, 1] * py + inverse[2, 2];
                if (w <= 1e-12) continue;
                double u = (inverse[0, 0] * px + inverse[0, 1] * py + inverse[0, 2]) / w;
                double v = (inverse[1, 0] * px + inverse[1, 1] * py + inverse[1, 2]) / w;
                double edge = Math.Min(Math.Min(u, sourceWidth - u), Math.Min(v, sourceHeight - v));
                if (edge <= -0.5) continue;
                int i = y * width + x;
                alpha[i] = (float)Math.Clamp(edge + 0.5, 0, 1);
                double fx = u - 0.5, fy = v - 0.5;
                int ix = (int)Math.Floor(fx), iy = (int)Math.Floor(fy);
                float ax = (float)(fx - ix), ay = (float)(fy - iy);
                int x0 = Math.Clamp(ix, 0, sourceWidth - 1), x1 = Math.Clamp(ix + 1, 0, sourceWidth - 1);
                int y0 = Math.Clamp(iy, 0, sourceHeight - 1), y1 = Math.Clamp(iy + 1, 0, sourceHeight - 1);
                var p00 = source[y0 * sourceWidth + x0]; var p10 = source[y0 * sourceWidth + x1];
                var p01 = source[y1 * sourceWidth + x0]; var p11 = source[y1 * sourceWidth + x1];
                rgb[i * 3] = Lerp2(p00.R, p10.R, p01.R, p11.R, ax, ay);
                rgb[i * 3 + 1] = Lerp2(p00.G, p10.G, p01.G, p11.G, ax, ay);
                rgb[i * 3 + 2] = Lerp2(p00.B, p10.B, p01.B, p11.B, ax, ay);
            }
        return (rgb, alpha);
    }

    /// <summary>Signed area of a polygon (shoelace formula).</summary>
    public static double PolygonArea(IReadOnlyList<Vector2> points)
    {
        double a = 0;
        for (int i = 0; i < points.Count; i++)
        {
            var p = points[i]; var q = points[(i + 1) % points.Count];
            a += (double)p.X * q.Y - (double)q.X * p.Y;
        }
        return a / 2;
    }

    /// <summary>
    /// The 3x3 homography H (row-major, H[2,2] = 1) with H·(x, y, 1) ∝ (x', y', 1) mapping each
    /// <paramref name="from"/>[i] to <paramref name="to"/>[i] (direct linear solve of the 8 equations).
    /// </summary>
    internal static double[,] Homography(IReadOnlyList<Vector2> from, IReadOnlyList<Vector2> to)
    {
        var a = new double[8, 9];
        for (int i = 0; i < 4; i++)
        {
            double x = from[i].X, y = from[i].Y, u = to[i].X, v = to[i].Y;
            double[] r1 = [x, y, 1, 0, 0, 0, -u * x, -u * y, u];
            double[] r2 = [0, 0, 0, x, y, 1, -v * x, -v * y, v];
            for (int c = 0; c < 9; c++) { a[2 * i, c] = r1[c]; a[2 * i + 1, c] = r2[c]; }
        }
        // Gaussian elimination with partial pivoting on the augmented 8x9 system.
        for (int col = 0; col < 8; col++)
        {
            int piv = col;
            for (int r = col + 1; r < 8; r++) if (Math.Abs(a[r, col]) > Math.Abs(a[piv, col])) piv = r;
            if (Math.Abs(a[piv, col]) < 1e-12) throw new ArgumentException("degenerate quadrilateral: three corners are collinear");
            if (piv != col) for (int c = 0; c < 9; c++) (a[col, c], a[piv, c]) = (a[piv, c], a[col, c]);
            for (int r = 0; r < 8; r++)
            {
                if (r == col) continue;
                double f = a[r, col] / a[col, col];
                if (f == 0) continue;
                for (int c = col; c < 9; c++) a[r, c] -= f * a[col, c];
            }
        }
        var h = new double[3, 3];
        for (int k = 0; k < 8; k++) h[k / 3, k % 3] = a[k, 8] / a[k, k];
        h[2, 2] = 1;
        return h;
    }

    /// <summary>Applies a homography to a point.</summary>
    public static Vector2 Apply(double[,] h, Vector2 p)
    {
        double x = h[0, 0] * p.X + h[0, 1] * p.Y + h[0, 2];
        double y = h[1, 0] * p.X + h[1, 1] * p.Y + h[1, 2];
        double w = h[2, 0] * p.X + h[2, 1] * p.Y + h[2, 2];
        return new Vector2((float)(x / w), (float)(y / w));
    }

    /// <summary>
    /// ImageSharp's projective matrices act on row vectors (x, y, 0, 1): x' = x·M11 + y·M21 + M41,
    /// y' = x·M12 + y·M22 + M42, w = x·M14 + y·M24 + M44 (checked by a test that warps a single pixel).
    /// </summary>
    public static Matrix4x4 ToImageSharpMatrix(double[,] h) => new(
        (float)h[0, 0], (float)h[1, 0], 0, (float)h[2, 0],
        (float)h[0, 1], (float)h[1, 1], 0, (float)h[2, 1],
        0, 0, 1, 0,
        (float)h[0, 2], (float)h[1, 2], 0, (float)h[2, 2]);
}
