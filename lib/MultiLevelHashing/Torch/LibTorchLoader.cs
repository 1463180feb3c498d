using System.Runtime.InteropServices;
using TorchSharp;

namespace MultiLevelHashing.Torch;

/// <summary>
/// Loads the LibTorch that this build ships, by full path, before TorchSharp looks for it by name (method README
/// section 1.1). TorchSharp asks the dynamic loader for <c>torch_cpu</c> and <c>LibTorchSharp</c> by name; where the
/// process does not list our native folder (a .NET Interactive kernel that <c>#r</c>s the library, a host with its own
/// dependency file), another <c>libtorch_cpu.so</c> on the system can answer, e.g. the 1.13 one of Debian's
/// <c>libtorch-dev</c>, and LibTorchSharp then fails to load against it. Loading every library of the chain by
/// path, each after the ones it needs, makes the loader match every later request by its soname to the copy we
/// loaded, whatever <c>LD_LIBRARY_PATH</c> or the system holds.
/// </summary>
public static class LibTorchLoader
{
    // Dependency order: each file's DT_NEEDED entries come before it. Files a build lacks (the CUDA ones on CPU) are skipped.
    private static readonly string[] ChainInLoadOrder =
        ["libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so", "libLibTorchSharp.so"];

    private static readonly Lazy<string?> Loaded = new(LoadChain, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The folder whose LibTorch this process loaded by path, or null where none was found beside TorchSharp or the
    /// application (TorchSharp then loads it its own way) or the platform is not Linux.
    /// </summary>
    public static string? NativeDirectory => Loaded.Value;

    /// <summary>Loads the chain once per process; later calls return at once. Call before the first TorchSharp call.</summary>
    /// <returns>The folder loaded from, as <see cref="NativeDirectory"/>.</returns>
    public static string? EnsureLoaded() => Loaded.Value;

    /// <summary>Folders that may hold this build's LibTorch, most specific first.</summary>
    public static IEnumerable<string> CandidateDirectories()
    {
        // typeof does not run TorchSharp's static constructor, so nothing native is loaded yet.
        string? torchSharp = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        string rid = RuntimeInformation.RuntimeIdentifier;
        var roots = new List<string>();
        if (!string.IsNullOrEmpty(torchSharp)) roots.Add(torchSharp);
        roots.Add(AppContext.BaseDirectory);
        foreach (string root in roots)
        {
            yield return root;
            yield return Path.Combine(root, "runtimes", rid, "native");
            yield return Path.Combine(root, "runtimes", "linux-x64", "native");
        }
        // The folders the host's dependency file lists for native assets (e.g. NuGet package folders of `dotnet test`).
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string listed)
            foreach (string folder in listed.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                yield return folder;
    }

    /// <summary>The first candidate folder that holds both LibTorchSharp and LibTorch's CPU library.</summary>
    public static string? FindNativeDirectory()
        => CandidateDirectories()
            .Select(d => d.TrimEnd(Path.DirectorySeparatorChar))
            .Distinct()
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "libLibTorchSharp.so")) && File.Exists(Path.Combine(d, "libtorch_cpu.so")));

    private static string? LoadChain()
    {
        if (!OperatingSystem.IsLinux()) return null;
        string? folder = FindNativeDirectory();
        if (folder is null) return null;
        foreach (string file in ChainInLoadOrder)
        {
            string path = Path.Combine(folder, file);
            if (!File.Exists(path)) continue;
            try
            {
                NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                throw new DllNotFoundException($"{path}: LibTorch of this build failed to load: {e.Message}", e);
            }
        }
        return folder;
    }
}
