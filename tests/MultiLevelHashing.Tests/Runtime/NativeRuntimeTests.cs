using MultiLevelHashing.Torch;
using MultiLevelHashing.Runtime;
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

    [Fact]
    public void AllocatorThresholdsAreRaisedOnLinux()
    {
        NativeRuntime.ConfigureAllocator();
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("MLH_MALLOC_TUNING") != "0"
            && Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null)
            Assert.True(NativeRuntime.AllocatorConfigured);
    }
}
