using SkiaSharp;

namespace MultiLevelHashing.Attention.Rendering;

/// <summary>
/// The typeface of every caption and label: Noto Mono (SIL Open Font License 1.1), embedded in this assembly
/// (lib/MultiLevelHashing/Attention/Rendering/Fonts/), because the SkiaSharp native build used here has no fontconfig
/// and a fresh machine may have no fonts at all.
/// </summary>
public static class CaptionFont
{
    private const string ResourceName = "MultiLevelHashing.Attention.Rendering.NotoMono-Regular.ttf";
    private static readonly Lazy<SKTypeface> Shared = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The embedded typeface (loaded once per process; never disposed).</summary>
    public static SKTypeface Typeface => Shared.Value;

    /// <summary>A font of the embedded typeface at <paramref name="size"/> pixels, with subpixel positioning.</summary>
    public static SKFont At(float size) => new(Typeface, size) { Subpixel = true, Edging = SKFontEdging.Antialias };

    private static SKTypeface Load()
    {
        using var stream = typeof(CaptionFont).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the caption font {ResourceName} is not embedded in {typeof(CaptionFont).Assembly.GetName().Name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        using var data = SKData.CreateCopy(copy.ToArray());
        return SKTypeface.FromData(data)
            ?? throw new InvalidOperationException($"SkiaSharp could not read the embedded caption font {ResourceName}");
    }
}
