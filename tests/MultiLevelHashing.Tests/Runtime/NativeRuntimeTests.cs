using MultiLevelHashing.Torch;
using MultiLevelHashing.Runtime;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Runtime;

public class NativeRuntimeTests
{
    [Fact]
    public void LibTorchLoadsAndComputesAMatrixProduct()
    {
        var device = TorchDevice.Default();
        using var a = tensor(new float[] { 1, 2, 3, 4 }, 2, 2).to(device);
        using var b = tensor(new float[] { 5, 6, 7, 8 }, 2, 2).to(device);
        using var c = a.matmul(b).cpu();
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 Mallinfo2();

    /// <summary>
    /// Observes the thresholds rather than trusting the flag: glibc serves a block above its mmap threshold with a
    /// fresh mapping (mallinfo2's hblks counts them). With the defaults (128 KiB, raised dynamically to at most 32 MiB)
    /// a 40 MiB block is always mapped; the toolkit raises the threshold to 32 MiB, so a 24 MiB block must come from
    /// the heap. Both halves are checked, so the test fails when the setting does not take effect.
    /// </summary>
    [SkippableFact]
    public void AllocatorThresholdsAreRaisedOnLinux()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "glibc's allocator only");
        Skip.If(Environment.GetEnvironmentVariable("MLH_MALLOC_TUNING") == "0", "tuning switched off by MLH_MALLOC_TUNING=0");
        Skip.If(Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null, "threshold set by MALLOC_MMAP_THRESHOLD_");
        // Touching a library type runs its module initializer, which is what configures the allocator.
        Assert.True(NativeRuntime.AllocatorConfigured);
        // One try each: freeing a mapped block below 32 MiB would itself raise glibc's dynamic threshold and hide a
        // missing setting on a second try. A 40 MiB block is above the dynamic maximum and leaves the threshold alone.
        Assert.True(MappedBlocksFor(40 << 20) >= 1, "a block above 32 MiB should be mapped (the probe itself works)");
        Assert.True(MappedBlocksFor(24 << 20) == 0, "a 24 MiB block was mapped: the mmap threshold was not raised to 32 MiB");
    }

    private static unsafe long MappedBlocksFor(int bytes)
    {
        long before = (long)Mallinfo2().Hblks;
        void* block = NativeMemory.Alloc((nuint)bytes);
        try
        {
            return (long)Mallinfo2().Hblks - before;
        }
        finally
        {
            NativeMemory.Free(block);
        }
    }
}
