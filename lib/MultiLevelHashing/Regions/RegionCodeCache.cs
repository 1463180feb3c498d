using System.Runtime.InteropServices;
using System.Security.Cryptography;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;
using static TorchSharp.torch;

namespace MultiLevelHashing.Regions;

/// <summary>
/// Region codes kept in the code cache beside the cached global and local codes of an image list
/// (lib/MultiLevelHashing/README.md sections 1.3 and 2.3): an index file next to the cache's index,
/// <c>&lt;index&gt;.regions-&lt;coder key&gt;.mlhidx</c>, holding the same ids, the global codes and the region codes,
/// read through its memory mapping. The cache's index name already fixes the checkpoint, the image list and the encoding
/// settings; the coder key fixes the region coder (its projection and image size), so a file found under that name holds
/// exactly the codes that would be computed. A damaged or mismatched file is computed again, never trusted.
/// </summary>
public static class RegionCodeCache
{
    /// <summary>The first 16 hex digits of a SHA-256 over the coder's bits, channels, image size and projection.</summary>
    public static string CoderKey(RegionHashHead coder, RegionCoderInfo info)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(BitConverter.GetBytes(info.Bits));
        sha.AppendData(BitConverter.GetBytes(info.Channels));
        sha.AppendData(BitConverter.GetBytes(info.ImageSize));
        using (var weight = coder.Weight.detach().cpu().to(ScalarType.Float32).contiguous())
            sha.AppendData(MemoryMarshal.AsBytes(weight.data<float>().ToArray().AsSpan()));
        using (var bias = coder.Bias.detach().cpu().to(ScalarType.Float32).contiguous())
            sha.AppendData(MemoryMarshal.AsBytes(bias.data<float>().ToArray().AsSpan()));
        return Convert.ToHexString(sha.GetHashAndReset())[..16].ToLowerInvariant();
    }

    /// <summary>Where the region codes of the cache's index <paramref name="codeIndexPath"/> under coder <paramref name="coderKey"/> are kept.</summary>
    public static string PathFor(string codeIndexPath, string coderKey) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(codeIndexPath))!, $"{Path.GetFileNameWithoutExtension(codeIndexPath)}.regions-{coderKey}.mlhidx");

    /// <summary>
    /// The cached region codes of the images of <paramref name="codes"/> (same ids, in order), or, when none are stored
    /// or the stored file is damaged or holds other images, <paramref name="encode"/>'s, written atomically first. The
    /// returned index's <see cref="CodeIndex.Regions"/> are mapped; dispose it when done.
    /// </summary>
    public static CodeIndex GetOrEncode(CodeIndex codes, string coderKey, int bits, Func<RegionCodes> encode)
    {
        string path = PathFor(codes.Path, coderKey);
        if (File.Exists(path) && TryOpen(path, codes, bits) is { } found) return found;
        var regions = encode();
        if (regions.Count != codes.Count) throw new InvalidOperationException($"region codes of {regions.Count} images for {codes.Count} cached images");
        CodeIndexFile.Write(path, codes.ImageIds, [codes.Levels[0]], regions);
        return CodeIndexFile.Open(path, [codes.Levels[0].Bits]);
    }

    private static CodeIndex? TryOpen(string path, CodeIndex codes, int bits)
    {
        CodeIndex? index = null;
        try
        {
            index = CodeIndexFile.Open(path, [codes.Levels[0].Bits]);
            if (index.Regions is { } regions && regions.Bits == bits && index.ImageIds.SequenceEqual(codes.ImageIds, StringComparer.Ordinal)) return index;
        }
        catch (UserInputException)
        {
            // Damaged (a crash cannot leave one: writes are atomic, but a disk can): computed again below.
        }
        index?.Dispose();
        return null;
    }
}
