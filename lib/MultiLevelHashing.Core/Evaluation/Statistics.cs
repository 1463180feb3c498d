namespace MultiLevelHashing.Evaluation;

/// <summary>Summaries of repeated measurements (timings, rates) beside <see cref="MeanSpread"/>.</summary>
public static class Statistics
{
    /// <summary>The median: the middle value of the sorted values, or the mean of the two middle ones for an even count.</summary>
    /// <exception cref="InvalidOperationException">No values.</exception>
    public static double Median(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new InvalidOperationException("the median of no values is undefined");
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
