using System.Diagnostics;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using static TorchSharp.torch;

namespace MultiLevelHashing.Model;

/// <summary>
/// Codes of a set of images: packed global and local bits (b = 1 where u &gt; 0, LSB-first within bytes, as
/// <see cref="BitPacking"/>), the relaxed values u, and, on request, the local bit maps U. Dispose releases the packed codes.
/// </summary>
public sealed class EncodedImages : IDisposable
{
    /// <summary>Global codes b_g (Kg bits each).</summary>
    public required PackedCodes Global { get; init; }

    /// <summary>Local codes b_l (Kl bits each).</summary>
    public required PackedCodes Local { get; init; }

    /// <summary>Relaxed global codes u_g, N x Kg row-major.</summary>
    public required float[] GlobalReal { get; init; }

    /// <summary>Relaxed local codes u_l, N x Kl row-major.</summary>
    public required float[] LocalReal { get; init; }

    /// <summary>Local bit maps U per image (Kl x h x w, row-major), when requested.</summary>
    public IReadOnlyList<float[]>? LocalMaps { get; init; }

    /// <summary>Spatial size (h, w) of the maps.</summary>
    public (int Height, int Width) MapSize { get; init; }

    /// <summary>Number of images.</summary>
    public int Count => Global.Count;

    /// <summary>The source index (position in the image source) of each code row; 0..N-1 unless images were skipped.</summary>
    public int[] SourceIndices { get; init; } = [];

    /// <summary>Images left out under <see cref="BadImagePolicy.Skip"/>, in source order, each with its problem.</summary>
    public IReadOnlyList<ImageLoadFailure> Skipped { get; init; } = [];

    /// <summary>Where the time of the encoding went, and the rate.</summary>
    public EncodingTimings? Timings { get; init; }

    /// <inheritdoc />
    public void Dispose()
    {
        Global.Dispose();
        Local.Dispose();
    }
}

/// <summary>
/// Encodes images with a trained DSCNN into the paper's two code levels (global-level and local-level hashing
/// codes). Batched, under a dispose scope per batch, so native memory stays flat however many images are encoded.
/// </summary>
public static class DscnnEncoder
{
    /// <summary>
    /// Encodes image files: decoding and resizing run on <see cref="EncodingPipelineOptions.DecodeThreads"/> threads in
    /// parallel with the network (lib/MultiLevelHashing/README.md section 1.4). A file that cannot be decoded stops the
    /// encoding with a <see cref="UserInputException"/> naming it (<see cref="BadImagePolicy.Stop"/>), or is left out and
    /// listed in <see cref="EncodedImages.Skipped"/> (<see cref="BadImagePolicy.Skip"/>); <see cref="EncodedImages.SourceIndices"/>
    /// maps code rows back to files. Without bad images the codes equal those of sequential encoding.
    /// </summary>
    public static EncodedImages Encode(DscnnModel model, ImageFileSource images, int imageSize, int batchSize = 16,
        bool includeMaps = false, Device? device = null, IProgress<ProgressReport>? progress = null,
        BadImagePolicy badImages = BadImagePolicy.Stop, EncodingPipelineOptions? pipeline = null)
        => EncodingPipeline.Encode(model, images, imageSize, batchSize, includeMaps, device, progress, badImages,
            pipeline ?? EncodingPipelineOptions.Default);

    /// <summary>
    /// Encodes all images of <paramref name="images"/> at <paramref name="imageSize"/> in batches of <paramref name="batchSize"/>,
    /// one batch after the other on the calling thread (the reference the pipeline of file sources is checked against).
    /// </summary>
    public static EncodedImages Encode(DscnnModel model, IImageSource images, int imageSize, int batchSize = 16,
        bool includeMaps = false, Device? device = null, IProgress<ProgressReport>? progress = null)
    {
        var indices = Enumerable.Range(0, images.Count).ToArray();
        return Encode(model, n => images.Load(indices[n.Start..n.End], imageSize), images.Count, batchSize, includeMaps, device, progress);
    }

    /// <summary>Encodes an RGB [0, 255] batch tensor (N x 3 x H x W) in batches of <paramref name="batchSize"/>.</summary>
    public static EncodedImages Encode(DscnnModel model, Tensor rgb, int batchSize = 16, bool includeMaps = false, Device? device = null)
        => Encode(model, r => rgb[r.Start..r.End].alias(), (int)rgb.shape[0], batchSize, includeMaps, device, null);

    private static EncodedImages Encode(DscnnModel model, Func<(int Start, int End), Tensor> load, int count, int batchSize,
        bool includeMaps, Device? device, IProgress<ProgressReport>? progress)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
        var ug = new float[(long)count * model.GlobalBits];
        var ul = new float[(long)count * model.LocalBits];
        var maps = includeMaps ? new List<float[]>(count) : null;
        (int, int) mapSize = (0, 0);
        var wall = Stopwatch.StartNew();
        double loadSeconds = 0, forwardSeconds = 0, packSeconds = 0;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            for (int start = 0; start < count; start += batchSize)
            {
                int end = Math.Min(count, start + batchSize);
                using var scope = NewDisposeScope();
                var timer = Stopwatch.StartNew();
                var batch = load((start, end));
                loadSeconds += timer.Elapsed.TotalSeconds;
                timer.Restart();
                if (device is not null) batch = batch.to(device);
                var output = model.forward(batch);
                var globalCodes = output.GlobalCodes.cpu();
                var localCodes = output.LocalCodes.cpu();
                forwardSeconds += timer.Elapsed.TotalSeconds;
                timer.Restart();
                globalCodes.data<float>().CopyTo(ug.AsSpan(start * model.GlobalBits, (end - start) * model.GlobalBits));
                localCodes.data<float>().CopyTo(ul.AsSpan(start * model.LocalBits, (end - start) * model.LocalBits));
                if (maps is not null)
                {
                    var m = output.LocalMaps.cpu();
                    mapSize = ((int)m.shape[2], (int)m.shape[3]);
                    int per = (int)(m.shape[1] * m.shape[2] * m.shape[3]);
                    var all = m.data<float>().ToArray();
                    for (int i = 0; i < end - start; i++) maps.Add(all.AsSpan(i * per, per).ToArray());
                }
                packSeconds += timer.Elapsed.TotalSeconds;
                progress.Report("encode", end, count, "img");
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        var packTimer = Stopwatch.StartNew();
        var global = PackedCodes.FromReal(ug, model.GlobalBits);
        var local = PackedCodes.FromReal(ul, model.LocalBits);
        packSeconds += packTimer.Elapsed.TotalSeconds;
        return new EncodedImages
        {
            Global = global,
            Local = local,
            SourceIndices = Enumerable.Range(0, count).ToArray(),
            // Sequential: loading is not overlapped, so it is decode time and wait time at once.
            Timings = new EncodingTimings(count, wall.Elapsed.TotalSeconds, loadSeconds, forwardSeconds, packSeconds, loadSeconds,
                DecodeThreads: 0, get_num_threads(), batchSize),
            GlobalReal = ug,
            LocalReal = ul,
            LocalMaps = maps,
            MapSize = mapSize,
        };
    }
}
