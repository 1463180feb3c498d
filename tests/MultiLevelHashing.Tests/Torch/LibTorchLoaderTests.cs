using System.Runtime.CompilerServices;
using MultiLevelHashing.Torch;
using TorchSharp;

namespace MultiLevelHashing.Tests.Torch;

/// <summary>The library loads the LibTorch beside TorchSharp by path, so no other LibTorch on the machine can answer.</summary>
public class LibTorchLoaderTests
{
    [SkippableFact]
    public void TheModuleInitializerLoadsTheLibTorchBesideTorchSharpAndNoOther()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the loader acts on Linux only");
        RuntimeHelpers.RunModuleConstructor(typeof(LibTorchLoader).Module.ModuleHandle);
        string expected = Path.GetDirectoryName(typeof(torch).Assembly.Location)!;
        Assert.Equal(Path.GetFullPath(expected), Path.GetFullPath(LibTorchLoader.NativeDirectory!));

        using var ones = torch.ones(3);
        Assert.Equal(3f, ones.sum().item<float>());
        // Every LibTorch library mapped into this process comes from that folder.
        var mapped = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .Where(path => Path.GetFileName(path) is "libtorch_cpu.so" or "libtorch.so" or "libc10.so" or "libLibTorchSharp.so"
                           || Path.GetFileName(path).StartsWith("libtorch_cpu.so.", StringComparison.Ordinal))
            .Distinct().ToList();
        Assert.Equal(4, mapped.Count);
        Assert.All(mapped, path => Assert.Equal(Path.GetFullPath(expected), Path.GetDirectoryName(path)));
    }

    [SkippableFact]
    public void TheNativeFolderHoldsLibTorchSharpAndLibTorch()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "Linux file names");
        string? folder = LibTorchLoader.FindNativeDirectory();
        Assert.NotNull(folder);
        Assert.True(File.Exists(Path.Combine(folder, "libLibTorchSharp.so")));
        Assert.True(File.Exists(Path.Combine(folder, "libtorch_cpu.so")));
    }
}
