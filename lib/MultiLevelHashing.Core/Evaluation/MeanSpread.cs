namespace MultiLevelHashing.Evaluation;

/// <summary>Mean and sample standard deviation of a result over seeds or folds (n - 1 in the denominator; 0 for one value).</summary>
public readonly record struct MeanSpread(double Mean, double StdDev, int Count)
{
    /// <summary>Of <paramref name="values"/>.</summary>
    public static MeanSpread Of(IEnumerable<double> values)
    {
        var v = values.ToArray();
        double mean = v.Average();
        double sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return new MeanSpread(mean, sd, v.Length);
    }

    /// <summary>"41.2 ± 0.8" in percent.</summary>
    public override string ToString() => $"{100 * Mean:0.0} ± {100 * StdDev:0.0}";
}
