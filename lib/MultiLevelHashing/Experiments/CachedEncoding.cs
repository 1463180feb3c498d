using System.Security.Cryptography;
using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Experiments;

/// <summary>
/// A checkpoint's encoder behind the chunked code cache (<see cref="ChunkedCodeCache"/>), shared by <c>mlh benchmark</c>,
/// <c>mlh encode</c> and <c>mlh index</c> (lib/MultiLevelHashing/README.md section 3.5): the cache file names, the chunk
/// encoder, which loads the model only when a chunk has to be encoded, and the timings summed over the chunks.
/// The name key covers everything the codes depend on (the checkpoint's bytes, the image size, the part, the images,
/// the chunk size and the batch, which fix every forward batch, and the JPEG decoding mode), so a run on any machine with the same key finds and
/// writes the same chunks.
/// </summary>
public sealed class CachedEncoding : IDisposable
{
    private readonly string _checkpointPath;
    private readonly Device? _device;
    private readonly EncodingPipelineOptions? _pipeline;
    private readonly string _checkpointKey;
    private DscnnModel? _model;

    /// <summary>
    /// Reads the checkpoint's header (not its weights) and hashes the file. Images are encoded at
    /// <paramref name="imageSize"/>, or at the size the model was trained at when null.
    /// </summary>
    public CachedEncoding(string checkpointPath, int batchSize, int chunkSize, Device? device = null,
                          BadImagePolicy badImages = BadImagePolicy.Stop, EncodingPipelineOptions? pipeline = null, int? imageSize = null)
    {
        if (imageSize is { } size) ArgumentOutOfRangeException.ThrowIfLessThan(size, 32, nameof(imageSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        _checkpointPath = checkpointPath;
        _device = device;
        _pipeline = pipeline;
        BatchSize = batchSize;
        ChunkSize = chunkSize;
        BadImages = badImages;
        Info = Checkpoint.ReadInfo(checkpointPath);
        ImageSize = imageSize ?? Info.Config.ImageSize;
        _checkpointKey = FileHash(checkpointPath);
    }

    /// <summary>The checkpoint's header.</summary>
    public CheckpointInfo Info { get; }

    /// <summary>Code lengths of the two levels: global, local.</summary>
    public int[] Bits => [Info.Config.GlobalBits, Info.Config.LocalBits];

    /// <summary>Side S of the S x S input every image is resized to (the training size unless another was asked for).</summary>
    public int ImageSize { get; }

    /// <summary>Images per forward batch.</summary>
    public int BatchSize { get; }

    /// <summary>Images per stored chunk.</summary>
    public int ChunkSize { get; }

    /// <summary>What happens to an image that cannot be read.</summary>
    public BadImagePolicy BadImages { get; }

    /// <summary>True when images that cannot be read are left out (and the index holds the others).</summary>
    public bool AllowsSkipped => BadImages == BadImagePolicy.Skip;

    /// <summary>True once some chunk was encoded (the model was loaded).</summary>
    public bool Encoded => _model is not null;

    /// <summary>Where the encoding time went, summed over the chunks encoded by this object; null when none was.</summary>
    public EncodingTimings? Timings { get; private set; }

    /// <summary>
    /// The cache's index file for <paramref name="images"/>: <c>&lt;name&gt;-&lt;part&gt;-&lt;key&gt;.mlhidx</c> in
    /// <paramref name="cacheDirectory"/>.
    /// </summary>
    public string IndexPath(string cacheDirectory, string name, string part, IEnumerable<(string Path, BoundingBox? Crop)> images) =>
        Path.Combine(cacheDirectory, $"{Safe(name)}-{Safe(part)}-{ChunkedCodeCache.Fingerprint(images,
            $"{_checkpointKey}|{ImageSize}|{part}|chunk {ChunkSize}|batch {BatchSize}|jpeg {ImageLoadOptions.Default.JpegDecoding}")}.mlhidx");

    /// <summary>The chunk encoder of <paramref name="images"/> (the list the cache's ids follow).</summary>
    public ChunkedCodeCache.EncodeChunkSkipping Encoder(IReadOnlyList<(string Path, BoundingBox? Crop)> images, string root) => (start, count, inner) =>
    {
        _model ??= Checkpoint.LoadModel(_checkpointPath, _device).Model;
        var files = ImageFiles.Of(Enumerable.Range(start, count).Select(i => images[i]), root);
        var codes = DscnnEncoder.Encode(_model, new ImageFileSource(files), ImageSize, BatchSize, device: _device, progress: inner,
            badImages: BadImages, pipeline: _pipeline);
        Add(codes.Timings);
        // The cache owns (and disposes) the packed codes; the rest of the result is managed memory.
        return new ChunkCodes([codes.Global, codes.Local], codes.Skipped.Count == 0 ? null : codes.SourceIndices,
            [.. codes.Skipped.Select(f => f.Problem)]);
    };

    /// <summary>Releases the model, if it was loaded.</summary>
    public void Dispose()
    {
        _model?.Dispose();
        _model = null;
    }

    private void Add(EncodingTimings? t)
    {
        if (t is null) return;
        Timings = Timings is not { } s ? t : s with
        {
            Images = s.Images + t.Images, WallSeconds = s.WallSeconds + t.WallSeconds, DecodeSeconds = s.DecodeSeconds + t.DecodeSeconds,
            ForwardSeconds = s.ForwardSeconds + t.ForwardSeconds, PackSeconds = s.PackSeconds + t.PackSeconds, WaitSeconds = s.WaitSeconds + t.WaitSeconds,
        };
    }

    private static string FileHash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream))[..16].ToLowerInvariant();
    }

    /// <summary>A name made safe for a file name: letters, digits, '_', '.', '+' and '-' kept, others become '-'.</summary>
    public static string Safe(string name) => new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '+' or '-' ? c : '-')]);
}
