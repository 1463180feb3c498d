namespace MultiLevelHashing.Runtime;

/// <summary>
/// One step of long work, reported through <see cref="IProgress{T}"/>. The CLI draws it as a bar with
/// rate and ETA, notebooks as an updating line; the library only reports.
/// </summary>
/// <param name="Task">What is running, e.g. "train epoch 3/10" or "encode".</param>
/// <param name="Done">Units finished so far.</param>
/// <param name="Total">Units in all, or 0 when unknown.</param>
/// <param name="Unit">What a unit is ("img", "pairs", "queries", "cells").</param>
/// <param name="Detail">Optional short status such as the current loss.</param>
public readonly record struct ProgressReport(string Task, long Done, long Total, string Unit = "items", string? Detail = null)
{
    /// <summary>Fraction done in [0, 1], or 0 when the total is unknown.</summary>
    public double Fraction => Total > 0 ? Math.Clamp((double)Done / Total, 0, 1) : 0;
}

/// <summary>Helpers for optional progress sinks.</summary>
public static class ProgressExtensions
{
    /// <summary>Reports when a sink is present; library code passes progress sinks as optional arguments.</summary>
    public static void Report(this IProgress<ProgressReport>? progress, string task, long done, long total, string unit = "items", string? detail = null)
        => progress?.Report(new ProgressReport(task, done, total, unit, detail));
}
