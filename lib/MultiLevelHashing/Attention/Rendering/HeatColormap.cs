namespace MultiLevelHashing.Attention.Rendering;

/// <summary>
/// The viridis colour map (van der Walt and Smith, matplotlib's default): perceptually uniform, readable in grey and by
/// colour-blind readers. Colours are linear interpolations between its ten samples at t = i/9 (R's
/// <c>viridis(10)</c>); t = 0 is dark purple #440154, t = 1 yellow #FDE725.
/// </summary>
public static class HeatColormap
{
    private static readonly (byte R, byte G, byte B)[] Samples =
    [
        (0x44, 0x01, 0x54), (0x48, 0x28, 0x78), (0x3E, 0x4A, 0x89), (0x31, 0x68, 0x8E), (0x26, 0x82, 0x8E),
        (0x1F, 0x9E, 0x89), (0x35, 0xB7, 0x79), (0x6D, 0xCD, 0x59), (0xB4, 0xDE, 0x2C), (0xFD, 0xE7, 0x25),
    ];

    /// <summary>The colour at <paramref name="t"/>, clamped to [0, 1]; NaN gives the colour of 0.</summary>
    public static (byte R, byte G, byte B) At(double t)
    {
        if (double.IsNaN(t)) t = 0;
        double position = Math.Clamp(t, 0, 1) * (Samples.Length - 1);
        int lo = Math.Min((int)position, Samples.Length - 2);
        double f = position - lo;
        var (a, b) = (Samples[lo], Samples[lo + 1]);
        static byte Mix(byte x, byte y, double f) => (byte)Math.Round(x + (y - x) * f);
        return (Mix(a.R, b.R, f), Mix(a.G, b.G, f), Mix(a.B, b.B, f));
    }
}
