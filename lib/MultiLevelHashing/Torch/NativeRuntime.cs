using System.Runtime.InteropServices;

namespace MultiLevelHashing.Torch;

/// <summary>
/// Process-wide native settings that LibTorch needs on Linux. <see cref="ConfigureAllocator"/> runs when the library
/// assembly is first used (its module initializer, <c>LibraryStartup</c>), before the library's first LibTorch
/// allocation; the notebook session calls it too, and every call after the first does nothing.
/// </summary>
public static class NativeRuntime
{
    // glibc mallopt parameter numbers (malloc.h).
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_THRESHOLD = -3;

    /// <summary>Threshold above which glibc serves an allocation with mmap (32 MiB).</summary>
    public const int MmapThresholdBytes = 32 << 20;

    /// <summary>Free memory at the top of the heap that glibc keeps before trimming (1 GiB).</summary>
    public const int TrimThresholdBytes = 1 << 30;

    private static int _configured;

    /// <summary>True when <see cref="ConfigureAllocator"/> changed glibc's thresholds in this process.</summary>
    public static bool AllocatorConfigured { get; private set; }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int param, int value);

    /// <summary>
    /// Raises glibc's mmap and trim thresholds. With the defaults, every LibTorch activation above 128 KiB
    /// is an mmap/munmap pair, which makes training about 3x slower on CPU (measured, see environment.md).
    /// Respects <c>MLH_MALLOC_TUNING=0</c> (leave glibc alone) and explicit <c>MALLOC_*_THRESHOLD_</c> variables.
    /// </summary>
    public static void ConfigureAllocator()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1) return;
        if (!OperatingSystem.IsLinux()) return;
        if (Environment.GetEnvironmentVariable("MLH_MALLOC_TUNING") == "0") return;
        try
        {
            bool ok = true;
            if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null)
                ok &= Mallopt(M_MMAP_THRESHOLD, MmapThresholdBytes) == 1;
            if (Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is null)
                ok &= Mallopt(M_TRIM_THRESHOLD, TrimThresholdBytes) == 1;
            AllocatorConfigured = ok;
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl): nothing to tune.
        }
        catch (DllNotFoundException)
        {
        }
    }
}
