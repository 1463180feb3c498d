using TorchSharp;

namespace MultiLevelHashing.Torch;

/// <summary>Chooses the compute device once; the library passes it down instead of asking again.</summary>
public static class TorchDevice
{
    /// <summary>
    /// The device named by <c>MLH_DEVICE</c> (cpu, cuda, cuda:1), else CUDA when the loaded LibTorch has it, else CPU.
    /// Also applies <see cref="NativeRuntime.ConfigureAllocator"/>.
    /// </summary>
    public static torch.Device Default()
    {
        string? requested = Environment.GetEnvironmentVariable("MLH_DEVICE");
        if (!string.IsNullOrWhiteSpace(requested)) return torch.device(requested);
        return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
    }
}
