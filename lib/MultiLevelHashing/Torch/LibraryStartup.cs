using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace MultiLevelHashing.Torch;

/// <summary>Runs once, when the library is first touched, before any LibTorch allocation the library makes.</summary>
internal static class LibraryStartup
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "malloc thresholds and the LibTorch load must come before TorchSharp's first call, whoever calls the library first.")]
    internal static void Initialize()
    {
        NativeRuntime.ConfigureAllocator();
        LibTorchLoader.EnsureLoaded();
    }
}
