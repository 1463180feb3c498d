using MultiLevelHashing.Torch;
using MultiLevelHashing.Runtime;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Torch;

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

    /// <summary>
    /// The library's module initializer, not the caller, configures glibc: this test never calls
    /// <see cref="NativeRuntime.ConfigureAllocator"/>, so it fails when the initializer is not wired or mallopt refuses
    /// the thresholds. (Whether the thresholds pay off is a benchmark: <c>mlh bench allocator</c>.)
    /// </summary>
    [SkippableFact]
    public void TheModuleInitializerRaisesTheAllocatorThresholdsOnLinux()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "glibc's allocator only");
        Skip.If(Environment.GetEnvironmentVariable("MLH_MALLOC_TUNING") == "0", "tuning switched off by MLH_MALLOC_TUNING=0");
        Skip.If(Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null,
            "thresholds set through MALLOC_*_THRESHOLD_");
        // Any type of the library will do; touching one runs the initializer if nothing has yet.
        RuntimeHelpers.RunModuleConstructor(typeof(TorchDevice).Module.ModuleHandle);
        Assert.True(NativeRuntime.AllocatorConfigured, "the module initializer did not raise glibc's mmap and trim thresholds");
    }
}
