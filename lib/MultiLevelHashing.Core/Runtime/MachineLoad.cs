using System.Globalization;

namespace MultiLevelHashing.Runtime;

/// <summary>
/// What a timing report says about the machine it ran on: the load average before and after, the CPU and the operating
/// system. Benchmarks report ratios against a peer in the same run; these lines say how much to trust single runs.
/// </summary>
public static class MachineLoad
{
    /// <summary>The 1, 5 and 15 minute load averages (<c>/proc/loadavg</c>), or "n/a" where the system has none.</summary>
    public static string Average() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>A sentence on what the load <paramref name="average"/> (as <see cref="Average"/> gives it) before the runs means for them.</summary>
    public static string Note(string average) =>
        double.TryParse(average.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double oneMinute)
            ? oneMinute < 0.5 * Environment.ProcessorCount
                ? "Nothing else ran on the machine before the runs started."
                : $"The cores were shared with other work ({oneMinute.ToString("0.0", CultureInfo.InvariantCulture)} runnable tasks on average over the minute before), so single runs are noisy."
            : "The load of the machine is unknown.";

    /// <summary>The CPU's model name (<c>/proc/cpuinfo</c>), or "unknown".</summary>
    public static string CpuModel() => File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
        : "unknown";

    /// <summary>The operating system: Debian's release where it is Debian, else what .NET reports.</summary>
    public static string OperatingSystem() => File.Exists("/etc/debian_version")
        ? "Debian " + File.ReadAllText("/etc/debian_version").Trim()
        : Environment.OSVersion.ToString();
}
