using System.Runtime.InteropServices;
using System.Security.Cryptography;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;
using static TorchSharp.torch;

namespace MultiLevelHashing.Regions;

/// <summary>
/// Region codes kept in the code cache beside the cached global and local codes of an image list
/// (lib/MultiLevelHashing/README.md sections 1.3 and 2.3): an index file next to the cache's index,
/// <c>&lt;index&gt;.regions-&lt;coder key&gt;.mlhidx</c>, holding the same ids, the global codes and the region codes,
/// read through its memory mapping. It is made chunk by chunk (<see cref="RegionChunkCache"/>, the chunks of the code
/// cache, stored under <c>&lt;that file&gt;.parts/</c> until it is written), so memory holds one batch of maps and one
/// chunk of region codes however many images there are, a killed run resumes at the chunk it stopped in, and shards
/// (<see cref="EncodeShard"/>) code their own chunks into a shared cache. The cache's index name already fixes the
/// checkpoint, the image list, the chunk size, the batch and the encoding settings; the coder key fixes the region coder
/// (its projection and image size), so a file or chunk found under that name holds exactly the codes that would be
/// computed. A damaged or mismatched file or chunk is computed again, never trusted.
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
    /// The cached region codes of the images of <paramref name="codes"/> (same ids, in order), made from the chunks of
    /// <paramref name="ids"/> (the image list <paramref name="codes"/> was made from, in chunks of
    /// <paramref name="chunkSize"/>) by <paramref name="encode"/> for every chunk not stored yet, then written
    /// atomically. The returned index's <see cref="CodeIndex.Regions"/> are mapped; dispose it when done.
    /// </summary>
    public static CodeIndex GetOrEncode(CodeIndex codes, IReadOnlyList<string> ids, int chunkSize, string coderKey, int bits,
        RegionChunkCache.EncodeChunk encode, string task = "region codes", IProgress<ProgressReport>? progress = null) =>
        RegionChunkCache.Ensure(PathFor(codes.Path, coderKey), codes, ids, bits, chunkSize, encode, task, progress);

    /// <summary>
    /// Codes only the region chunks <paramref name="shard"/> owns that are not stored yet, beside the code cache's index
    /// <paramref name="codeIndexPath"/> of <paramref name="ids"/> (code lengths <paramref name="codeBits"/>, images left
    /// out as <paramref name="allowSkipped"/> allows); the shard's code chunks must be stored first (they say which
    /// images each chunk kept). A later <see cref="GetOrEncode"/> on the same cache joins them.
    /// </summary>
    public static ChunkWork EncodeShard(string codeIndexPath, IReadOnlyList<string> ids, IReadOnlyList<int> codeBits, bool allowSkipped, int chunkSize,
        string coderKey, int bits, CodeShard shard, RegionChunkCache.EncodeChunk encode, string task = "region codes", IProgress<ProgressReport>? progress = null) =>
        RegionChunkCache.EncodeShard(PathFor(codeIndexPath, coderKey), ids, ChunkedCodeCache.KeptImages(codeIndexPath, ids, codeBits, chunkSize, allowSkipped),
            bits, chunkSize, shard, encode, task, progress);

    /// <summary>The region chunks <paramref name="shard"/> owns and which are stored (<c>--dry-run</c>); codes nothing.</summary>
    public static IReadOnlyList<PlannedChunk> Plan(string codeIndexPath, IReadOnlyList<string> ids, IReadOnlyList<int> codeBits, bool allowSkipped, int chunkSize,
        string coderKey, int bits, CodeShard shard) =>
        RegionChunkCache.Plan(PathFor(codeIndexPath, coderKey), ids, ChunkedCodeCache.KeptImages(codeIndexPath, ids, codeBits, chunkSize, allowSkipped),
            bits, chunkSize, shard);
}

/// <summary>
/// The chunk encoder of region codes behind <see cref="RegionCodeCache"/> (lib/MultiLevelHashing/README.md section
/// 2.3): the images of a list at the positions a chunk asks for, coded by <see cref="RegionCoderEncoding.Encode"/> from
/// the checkpoint model's backbone maps at the coder's image size. The model is loaded when a first chunk has to be
/// coded, so a run that finds every chunk stored loads none.
/// </summary>
/// <param name="checkpointPath">The checkpoint whose backbone gives the maps.</param>
/// <param name="coder">The region coder (the caller keeps and disposes it).</param>
/// <param name="info">What the checkpoint records of the coder (its image size).</param>
/// <param name="images">The image list the chunk positions refer to, with crops.</param>
/// <param name="root">The folder the image paths are relative to.</param>
/// <param name="batchSize">Images per forward batch.</param>
/// <param name="device">LibTorch device.</param>
/// <param name="task">What the progress reports are called.</param>
public sealed class RegionChunkEncoder(string checkpointPath, RegionHashHead coder, RegionCoderInfo info, IReadOnlyList<(string Path, BoundingBox? Crop)> images,
    string root, int batchSize, Device device, string task = "region codes") : IDisposable
{
    private DscnnModel? _model;

    /// <summary>True once some chunk was coded (the model was loaded).</summary>
    public bool Encoded => _model is not null;

    /// <summary>Region codes of the images at list positions <paramref name="positions"/>, in that order (a <see cref="RegionChunkCache.EncodeChunk"/>).</summary>
    public RegionCodes Encode(IReadOnlyList<int> positions, IProgress<ProgressReport>? progress)
    {
        _model ??= Checkpoint.LoadModel(checkpointPath, device).Model;
        var files = ImageFiles.Of(positions.Select(i => images[i]), root);
        return RegionCoderEncoding.Encode(_model.Backbone, coder, new ImageFileSource(files), info.ImageSize, batchSize, device, progress, task);
    }

    /// <summary>Releases the model, if it was loaded.</summary>
    public void Dispose()
    {
        _model?.Dispose();
        _model = null;
    }
}
