namespace MultiLevelHashing.Experiments;

/// <summary>
/// Statistics of relaxed codes u (N x K, values in (-1, 1)) that show how well training quantized and balanced them
/// (lib/MultiLevelHashing/README.md section 2.4: the loss's quantization term pulls |u| to 1; good hash bits split the data evenly).
/// </summary>
public static class CodeStatistics
{
    /// <summary>Fraction of codes with bit k = +1 (u &gt; 0), per bit.</summary>
    public static double[] BitBalance(ReadOnlySpan<float> u, int bits)
    {
        if (bits < 1 || u.Length % bits != 0) throw new ArgumentException("u must be N x bits");
        int n = u.Length / bits;
        var ones = new double[bits];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < bits; k++)
                if (u[i * bits + k] > 0) ones[k]++;
        for (int k = 0; k < bits; k++) ones[k] /= Math.Max(1, n);
        return ones;
    }

    /// <summary>Quantization error | |u| - 1 | of every coordinate (0 when u is exactly +-1).</summary>
    public static double[] QuantizationErrors(ReadOnlySpan<float> u)
    {
        var e = new double[u.Length];
        for (int i = 0; i < u.Length; i++) e[i] = Math.Abs(Math.Abs(u[i]) - 1);
        return e;
    }
}
