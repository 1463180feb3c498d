using System.Buffers.Binary;
using System.IO.Hashing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace MultiLevelHashing.Tests.Reliability;

/// <summary>One file of the corpus: how it was made and what loading it must do.</summary>
/// <param name="Name">File name (its extension is part of the case: some lie).</param>
/// <param name="Bytes">The file's contents.</param>
/// <param name="RejectedWith">Null when the file must load; else a phrase the error must contain.</param>
/// <param name="Check">For files that load: checks the decoded image against what was encoded.</param>
public sealed record ImageCase(string Name, byte[] Bytes, string? RejectedWith, Action<Image<Rgb24>>? Check = null);

/// <summary>
/// Images from the web in all their variety, generated here (no binaries in git): broken, lying, huge-claiming and
/// unusual-but-valid files. The expected decoded pixels come from what the generator drew, not from the loader.
/// </summary>
public static class BadImageCorpus
{
    /// <summary>Every case, in a fixed order.</summary>
    public static IReadOnlyList<ImageCase> All()
    {
        var cases = new List<ImageCase>();
        byte[] jpeg = Encode(Gradient(64, 48), new JpegEncoder { Quality = 95 });
        byte[] png = Encode(Gradient(64, 48), new PngEncoder());

        cases.Add(new("zero-bytes.jpg", [], "empty image file"));
        cases.Add(new("truncated-half.jpg", jpeg[..(jpeg.Length / 2)], "truncated JPEG"));
        cases.Add(new("truncated-header.jpg", jpeg[..20], "image"));
        cases.Add(new("truncated.png", png[..(png.Length - 30)], "truncated PNG"));
        cases.Add(new("truncated-header.png", png[..30], "image"));
        cases.Add(new("png-named.jpg", png, null, img => AssertGradient(img, 64, 48, tolerance: 0)));
        cases.Add(new("jpeg-named.png", jpeg, null, img => AssertGradient(img, 64, 48, tolerance: 12)));
        cases.Add(new("text.jpg", "this is not an image, it is a web page\n<html></html>\n"u8.ToArray(), "not a recognised image format"));
        cases.Add(new("random-bytes.png", Random(4096, seed: 5), "not a recognised image format"));
        cases.Add(new("one-pixel.png", Encode(Solid(1, 1, new Rgb24(200, 10, 30)), new PngEncoder()), null,
            img => { Assert.Equal((1, 1), (img.Width, img.Height)); Assert.Equal(new Rgb24(200, 10, 30), img[0, 0]); }));
        cases.Add(new("one-pixel.jpg", Encode(Solid(1, 1, new Rgb24(200, 10, 30)), new JpegEncoder { Quality = 100 }), null,
            img => { Assert.Equal((1, 1), (img.Width, img.Height)); AssertNear(new Rgb24(200, 10, 30), img[0, 0], 12); }));
        cases.Add(new("bomb-30000x30000.png", PatchPngSize(png, 30000, 30000), "MaxPixels"));
        cases.Add(new("bomb-30000x30000.jpg", PatchJpegSize(jpeg, 30000, 30000), "MaxPixels"));
        cases.Add(new("bomb-65535x65535.gif", PatchGifSize(Encode(Gradient(16, 16), new GifEncoder()), 65535, 65535), "MaxPixels"));
        cases.Add(new("cmyk.jpg", Encode(Gradient(64, 48), new JpegEncoder { ColorType = JpegColorType.Cmyk, Quality = 100 }), null,
            img => AssertGradient(img, 64, 48, tolerance: 16)));
        cases.Add(new("grayscale.jpg", Encode(Solid(32, 24, new Rgb24(90, 90, 90)), new JpegEncoder { ColorType = JpegColorType.Luminance, Quality = 100 }), null,
            img => AssertAll(img, 32, 24, p => AssertNear(new Rgb24(90, 90, 90), p, 3))));
        cases.Add(new("grayscale.png", EncodeL8(32, 24, 77), null, img => AssertAll(img, 32, 24, p => Assert.Equal(new Rgb24(77, 77, 77), p))));
        cases.Add(new("rgb-16-bit.png", Encode16Bit(32, 24), null,
            img => AssertAll(img, 32, 24, p => Assert.Equal(new Rgb24(0x12, 0x80, 0xFE), p))));
        cases.Add(new("palette-transparent.png", EncodePaletteWithTransparency(32, 24), null, img =>
        {
            Assert.Equal((32, 24), (img.Width, img.Height));
            // Left half opaque red, right half fully transparent: composited over white.
            Assert.Equal(new Rgb24(255, 0, 0), img[3, 5]);
            Assert.Equal(new Rgb24(255, 255, 255), img[28, 5]);
        }));
        cases.Add(new("exif-rotated-90.jpg", EncodeExifRotated(), null, img =>
        {
            // Stored 40 x 20 with a dark top-left quarter, orientation 6 (rotate 90 degrees clockwise to display):
            // displayed 20 x 40 with the dark block at the top right.
            Assert.Equal((20, 40), (img.Width, img.Height));
            Assert.True(img[17, 3].R < 60, $"top right should be dark, is {img[17, 3]}");
            Assert.True(img[2, 3].R > 200, $"top left should be light, is {img[2, 3]}");
            Assert.True(img[17, 36].R > 200, $"bottom right should be light, is {img[17, 36]}");
        }));
        cases.Add(new("animated.gif", EncodeAnimatedGif(), null, img =>
        {
            Assert.Equal((24, 16), (img.Width, img.Height));
            AssertNear(new Rgb24(0, 0, 255), img[5, 5], 8); // the first frame, blue
        }));
        cases.Add(new("truncated.gif", EncodeAnimatedGif()[..60], "image"));
        cases.Add(new("bmp-named.jpg", Encode(Gradient(16, 8), new SixLabors.ImageSharp.Formats.Bmp.BmpEncoder()), null,
            img => AssertGradient(img, 16, 8, tolerance: 0)));
        return cases;
    }

    /// <summary>Writes every case into <paramref name="directory"/> and returns its path with the case.</summary>
    public static IReadOnlyList<(string Path, ImageCase Case)> WriteAll(string directory)
    {
        var written = new List<(string, ImageCase)>();
        foreach (var c in All())
        {
            string path = Path.Combine(directory, c.Name);
            File.WriteAllBytes(path, c.Bytes);
            written.Add((path, c));
        }
        return written;
    }

    private static Rgb24 GradientAt(int x, int y, int w, int h)
        => new((byte)(255 * x / Math.Max(1, w - 1)), (byte)(255 * y / Math.Max(1, h - 1)), 128);

    private static Image<Rgb24> Gradient(int w, int h)
    {
        var img = new Image<Rgb24>(w, h);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img[x, y] = GradientAt(x, y, w, h);
        return img;
    }

    private static Image<Rgb24> Solid(int w, int h, Rgb24 c)
    {
        var img = new Image<Rgb24>(w, h);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img[x, y] = c;
        return img;
    }

    private static byte[] Encode<T>(Image<T> image, SixLabors.ImageSharp.Formats.IImageEncoder encoder) where T : unmanaged, IPixel<T>
    {
        using (image)
        {
            using var ms = new MemoryStream();
            image.Save(ms, encoder);
            return ms.ToArray();
        }
    }

    private static byte[] EncodeL8(int w, int h, byte v)
    {
        var img = new Image<L8>(w, h);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img[x, y] = new L8(v);
        var bytes = Encode(img, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit8 });
        Assert.Equal(0, bytes[25]); // IHDR colour type 0: the file really is greyscale
        return bytes;
    }

    private static byte[] Encode16Bit(int w, int h)
    {
        var img = new Image<Rgb48>(w, h);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img[x, y] = new Rgb48(0x1234, 0x8000, 0xFEFF);
        var bytes = Encode(img, new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit16 });
        Assert.Equal(16, bytes[24]); // IHDR bit depth
        return bytes;
    }

    private static byte[] EncodePaletteWithTransparency(int w, int h)
    {
        var img = new Image<Rgba32>(w, h);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img[x, y] = x < w / 2 ? new Rgba32(255, 0, 0, 255) : new Rgba32(0, 0, 0, 0);
        var bytes = Encode(img, new PngEncoder { ColorType = PngColorType.Palette });
        Assert.Equal(3, bytes[25]); // IHDR colour type 3: palette
        Assert.True(bytes.AsSpan().IndexOf("tRNS"u8) > 0, "the palette PNG should carry a tRNS chunk");
        return bytes;
    }

    private static byte[] EncodeExifRotated()
    {
        var img = new Image<Rgb24>(40, 20);
        for (int y = 0; y < 20; y++) for (int x = 0; x < 40; x++) img[x, y] = x < 20 && y < 10 ? new Rgb24(10, 10, 10) : new Rgb24(240, 240, 240);
        img.Metadata.ExifProfile = new ExifProfile();
        img.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        return Encode(img, new JpegEncoder { Quality = 100 });
    }

    private static byte[] EncodeAnimatedGif()
    {
        var img = new Image<Rgba32>(24, 16, new Rgba32(0, 0, 255, 255));
        using (var red = new Image<Rgba32>(24, 16, new Rgba32(255, 0, 0, 255))) img.Frames.AddFrame(red.Frames.RootFrame);
        using (var green = new Image<Rgba32>(24, 16, new Rgba32(0, 255, 0, 255))) img.Frames.AddFrame(green.Frames.RootFrame);
        var bytes = Encode(img, new GifEncoder());
        using (var check = Image.Load<Rgba32>(bytes)) Assert.Equal(3, check.Frames.Count); // the file really holds three frames
        return bytes;
    }

    private static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new System.Random(seed).NextBytes(bytes);
        bytes[0] = 0x42; // never a valid magic of any format by chance
        return bytes;
    }

    /// <summary>Sets the IHDR width and height of a PNG and recomputes the chunk's CRC, so that only the size lies.</summary>
    public static byte[] PatchPngSize(byte[] png, int width, int height)
    {
        var b = (byte[])png.Clone();
        Assert.True(b.AsSpan(12, 4).SequenceEqual("IHDR"u8));
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(29), Crc32.HashToUInt32(b.AsSpan(12, 17)));
        return b;
    }

    /// <summary>Sets the frame size in a JPEG's SOF0 segment.</summary>
    public static byte[] PatchJpegSize(byte[] jpeg, int width, int height)
    {
        var b = (byte[])jpeg.Clone();
        int i = 2;
        while (i + 4 < b.Length)
        {
            Assert.Equal(0xFF, b[i]);
            byte marker = b[i + 1];
            int length = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(i + 2));
            if (marker is 0xC0 or 0xC1 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(i + 5), checked((ushort)height));
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(i + 7), checked((ushort)width));
                return b;
            }
            i += 2 + length;
        }
        throw new InvalidOperationException("no SOF segment");
    }

    /// <summary>Sets the logical screen and first image descriptor size of a GIF.</summary>
    public static byte[] PatchGifSize(byte[] gif, int width, int height)
    {
        var b = (byte[])gif.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), checked((ushort)width));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), checked((ushort)height));
        int i = 13;
        if ((b[10] & 0x80) != 0) i += 3 << ((b[10] & 7) + 1); // global colour table
        while (b[i] == 0x21) // extension blocks: introducer, label, then sub-blocks up to a zero length
        {
            i += 2;
            while (b[i] != 0) i += b[i] + 1;
            i++;
        }
        Assert.Equal(0x2C, b[i]);
        int descriptor = i;
        // The descriptor holds x, y, then width and height.
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(descriptor + 5), checked((ushort)width));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(descriptor + 7), checked((ushort)height));
        return b;
    }

    private static void AssertGradient(Image<Rgb24> img, int w, int h, int tolerance)
    {
        Assert.Equal((w, h), (img.Width, img.Height));
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) AssertNear(GradientAt(x, y, w, h), img[x, y], tolerance);
    }

    private static void AssertAll(Image<Rgb24> img, int w, int h, Action<Rgb24> check)
    {
        Assert.Equal((w, h), (img.Width, img.Height));
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) check(img[x, y]);
    }

    private static void AssertNear(Rgb24 expected, Rgb24 actual, int tolerance)
    {
        if (Math.Abs(expected.R - actual.R) > tolerance || Math.Abs(expected.G - actual.G) > tolerance || Math.Abs(expected.B - actual.B) > tolerance)
            Assert.Fail($"pixel {actual} differs from {expected} by more than {tolerance}");
    }
}
