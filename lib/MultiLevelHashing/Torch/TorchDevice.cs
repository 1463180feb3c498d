using TorchSharp;

namespace MultiLevelHashing.Torch;

/// <summary>Chooses the compute device once per process; the library passes it down instead of asking again.</summary>
public static class TorchDevice
{
    private static readonly Lazy<torch.Device> Chosen =
        new(() => torch.device(Choose(Environment.GetEnvironmentVariable("MLH_DEVICE"), torch.cuda.is_available)));

    /// <summary>
    /// The device of this process, chosen on the first call and the same afterwards: the one named by
    /// <c>MLH_DEVICE</c> (cpu, cuda, cuda:1), else CUDA when the loaded LibTorch has it, else CPU. (The allocator
    /// settings are not applied here: <see cref="NativeRuntime.ConfigureAllocator"/> runs when the library loads.)
    /// </summary>
    public static torch.Device Default() => Chosen.Value;

    /// <summary>The name of the device <see cref="Default"/> chooses, from the requested name and whether CUDA is available.</summary>
    internal static string Choose(string? requested, Func<bool> cudaAvailable) =>
        !string.IsNullOrWhiteSpace(requested) ? requested.Trim()
        : cudaAvailable() ? "cuda" : "cpu";
}
