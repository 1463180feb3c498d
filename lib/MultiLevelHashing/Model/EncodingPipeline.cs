using System.Diagnostics;
using System.Threading.Channels;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace MultiLevelHashing.Model;

/// <summary>What encoding does with an image that cannot be decoded.</summary>
public enum BadImagePolicy
{
    /// <summary>Stop at the first bad image with a <see cref="UserInputException"/> naming it.</summary>
    Stop,
    /// <summary>Leave the image out, go on, and list it in <see cref="EncodedImages.Skipped"/>.</summary>
    Skip,
}

/// <summary>When the decoding threads of the file-encoding pipeline run relative to the network's forward passes.</summary>
public enum DecodeSchedule
{
    /// <summary>
    /// <see cref="Alternating"/> when the forward pass runs on the CPU and LibTorch's threads and the decoding threads
    /// together are more than the cores; <see cref="Overlapped"/> otherwise (a GPU, or spare cores).
    /// </summary>
    Auto,
    /// <summary>Decoding runs alongside the forward passes (a GPU forward pass leaves the cores to the decoders).</summary>
    Overlapped,
    /// <summary>
    /// Decoding pauses while a forward pass runs and uses every core between them. A CPU forward pass already keeps
    /// every core busy with LibTorch's threads, which wait for each other at every layer: a decoding thread that takes
    /// one of their cores slows the whole pass by more than the time it takes (lib/MultiLevelHashing/README.md
    /// section 1.4, measured in tests/MultiLevelHashing.Benchmarks/results/pytorch.md).
    /// </summary>
    Alternating,
}

/// <summary>How the file-encoding pipeline spreads its work (lib/MultiLevelHashing/README.md section 1.4).</summary>
public sealed record EncodingPipelineOptions
{
    /// <summary>
    /// Threads that decode and resize images; null picks <see cref="DefaultDecodeThreads"/> when decoding overlaps the
    /// forward pass and one per core when it alternates with it (<see cref="Schedule"/>).
    /// </summary>
    public int? DecodeThreads { get; init; }

    /// <summary>When decoding runs relative to the forward passes.</summary>
    public DecodeSchedule Schedule { get; init; } = DecodeSchedule.Auto;

    /// <summary>Decoded batches that may wait for the network (the bound of the channel between the two stages).</summary>
    public int QueuedBatches { get; init; } = 4;

    /// <summary>The defaults.</summary>
    public static EncodingPipelineOptions Default { get; } = new();

    /// <summary>
    /// Decoding threads alongside the forward pass: one per two cores, at least one (decoding a 160 px batch takes a
    /// fraction of its forward time; measurement in tests/MultiLevelHashing.Benchmarks/results/pytorch.md).
    /// </summary>
    public static int DefaultDecodeThreads => Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>The schedule <see cref="DecodeSchedule.Auto"/> resolves to for a forward pass on the CPU or not.</summary>
    public DecodeSchedule ResolveSchedule(bool forwardOnCpu, int torchThreads, int decodeThreads) => Schedule switch
    {
        DecodeSchedule.Auto => forwardOnCpu && torchThreads + decodeThreads > Environment.ProcessorCount
            ? DecodeSchedule.Alternating : DecodeSchedule.Overlapped,
        var chosen => chosen,
    };
}

/// <summary>
/// Where the time of an encoding went. Decode seconds are summed over the decoding threads (they overlap the
/// forward pass, or fill the gaps between forward passes, as <paramref name="Schedule"/> says); forward, pack and
/// wait seconds are the network thread's; wall seconds are the whole call.
/// </summary>
/// <param name="Images">Images encoded (skipped ones excluded).</param>
/// <param name="WallSeconds">Elapsed time of the whole encoding.</param>
/// <param name="DecodeSeconds">Decoding, cropping and resizing, summed over the decoding threads.</param>
/// <param name="ForwardSeconds">Network forward passes (tensor creation included).</param>
/// <param name="PackSeconds">Copying the real codes out and packing them into bits.</param>
/// <param name="WaitSeconds">Time the network thread waited for a decoded batch (decoding was the bottleneck).</param>
/// <param name="DecodeThreads">Decoding threads used (0: sequential encoding, images loaded on the calling thread).</param>
/// <param name="TorchThreads">LibTorch intra-op threads during the forward passes.</param>
/// <param name="BatchSize">Images per forward batch.</param>
/// <param name="Schedule">Whether decoding overlapped the forward passes or alternated with them.</param>
/// <param name="ResizeSeconds">The part of <paramref name="DecodeSeconds"/> spent in the bicubic resize (0 when not measured).</param>
public sealed record EncodingTimings(int Images, double WallSeconds, double DecodeSeconds, double ForwardSeconds,
    double PackSeconds, double WaitSeconds, int DecodeThreads, int TorchThreads, int BatchSize,
    DecodeSchedule Schedule = DecodeSchedule.Overlapped, double ResizeSeconds = 0)
{
    /// <summary>Images per second of wall time.</summary>
    public double ImagesPerSecond => WallSeconds > 0 ? Images / WallSeconds : 0;

    /// <summary>One line for the console: rate and where the time went.</summary>
    public string Summary() =>
        $"{Images} images in {WallSeconds:0.00} s = {ImagesPerSecond:0.0} img/s; forward {ForwardSeconds:0.00} s, " +
        $"decode {DecodeSeconds:0.00} s{(ResizeSeconds > 0 ? $" (resize {ResizeSeconds:0.00} s of it)" : "")} on {DecodeThreads} thread(s) " +
        $"{(Schedule == DecodeSchedule.Alternating ? "between forward passes" : "alongside")}, pack {PackSeconds:0.00} s, " +
        $"waiting for images {WaitSeconds:0.00} s (batch {BatchSize}, {TorchThreads} LibTorch thread(s))";
}

/// <summary>
/// Encoding from image files as two overlapping stages (lib/MultiLevelHashing/README.md section 1.4): decoding
/// threads read, crop and resize fixed ranges of <c>batchSize</c> images into planar RGB batches and put them on a
/// bounded channel; the calling thread takes batches off it, runs the network and packs the codes. Batches keep their
/// source ranges, so without bad images every forward batch holds the same images as in sequential encoding and the
/// codes are identical. Decoding bypasses <see cref="ImageFiles"/>' in-memory cache, so memory stays bounded by the
/// channel however many images there are.
/// </summary>
internal static class EncodingPipeline
{
    private sealed record DecodedBatch(int Start, int[] Indices, byte[] Pixels);

    public static EncodedImages Encode(DscnnModel model, ImageFileSource source, int imageSize, int batchSize, bool includeMaps,
        Device? device, IProgress<ProgressReport>? progress, BadImagePolicy badImages, EncodingPipelineOptions options)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize));
        bool forwardOnCpu = device is null || device.type == TorchSharp.DeviceType.CPU;
        int torchThreads = get_num_threads();
        var schedule = options.ResolveSchedule(forwardOnCpu, torchThreads,
                                               options.DecodeThreads ?? EncodingPipelineOptions.DefaultDecodeThreads);
        int decodeThreads = options.DecodeThreads
                            ?? (schedule == DecodeSchedule.Alternating ? Environment.ProcessorCount : EncodingPipelineOptions.DefaultDecodeThreads);
        if (decodeThreads < 1) throw new ArgumentOutOfRangeException(nameof(options), "DecodeThreads must be at least 1");
        if (options.QueuedBatches < 1) throw new ArgumentOutOfRangeException(nameof(options), "QueuedBatches must be at least 1");

        var wall = Stopwatch.StartNew();
        int count = source.Count, kg = model.GlobalBits, kl = model.LocalBits;
        int batches = (count + batchSize - 1) / batchSize;
        // Per source index; compacted to the images that decoded at the end.
        var ug = new float[(long)count * kg];
        var ul = new float[(long)count * kl];
        var ok = new bool[count];
        var maps = includeMaps ? new float[count][] : null;
        (int, int) mapSize = (0, 0);
        var failures = new List<ImageLoadFailure>();
        long decodeTicks = 0, resizeTicks = 0;
        double forward = 0, pack = 0, wait = 0;

        var channel = Channel.CreateBounded<DecodedBatch>(new BoundedChannelOptions(options.QueuedBatches)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = new CancellationTokenSource();
        // With the alternating schedule each image is decoded under a read lock and each forward pass runs under the
        // write lock: a pass waits for the images being decoded (a few milliseconds) and no image starts during a pass.
        // The lock prefers the writer, so decoders cannot keep a pass waiting.
        using var forwardLock = new ReaderWriterLockSlim(LockRecursionPolicy.NoRecursion);
        bool alternate = schedule == DecodeSchedule.Alternating;
        Func<IDisposable?> imageTurn = alternate ? () => ReadTurn.Enter(forwardLock, stop.Token) : () => null;
        int nextBatch = -1;
        var decoders = Enumerable.Range(0, Math.Min(decodeThreads, Math.Max(1, batches))).Select(_ => Task.Run(async () =>
        {
            int b;
            while (!stop.IsCancellationRequested && (b = Interlocked.Increment(ref nextBatch)) < batches)
            {
                // Decoding is synchronous, so the resize time this thread adds meanwhile is this batch's.
                long resizedBefore = ImageLoader.ResizeTicksOnThisThread;
                var batch = DecodeBatch(source.Files, b * batchSize, Math.Min(count, (b + 1) * batchSize), imageSize, failures, badImages,
                                        imageTurn, out long ticks);
                Interlocked.Add(ref decodeTicks, ticks);
                Interlocked.Add(ref resizeTicks, ImageLoader.ResizeTicksOnThisThread - resizedBefore);
                if (batch is null) { stop.Cancel(); return; }
                await channel.Writer.WriteAsync(batch, stop.Token).ConfigureAwait(false);
            }
        })).ToArray();
        var closer = Task.WhenAll(decoders).ContinueWith(t => channel.Writer.TryComplete(t.Exception), TaskScheduler.Default);

        bool wasTraining = model.training;
        model.eval();
        int done = 0;
        try
        {
            using var noGrad = no_grad();
            var reader = channel.Reader;
            while (true)
            {
                if (!reader.TryRead(out var batch))
                {
                    // Waiting for the decoders (counted here, not around TryRead, which only fails when there is a wait).
                    long waitStart = Stopwatch.GetTimestamp();
                    bool more = reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult();
                    wait += Stopwatch.GetElapsedTime(waitStart).TotalSeconds;
                    if (!more) break;
                    continue;
                }
                int n = batch.Indices.Length;
                if (n > 0)
                {
                    if (alternate) forwardLock.EnterWriteLock();
                    var timer = Stopwatch.StartNew();
                    using var scope = NewDisposeScope();
                    using var bytes = tensor(batch.Pixels, new long[] { n, 3, imageSize, imageSize });
                    var input = bytes.to_type(ScalarType.Float32);
                    if (device is not null) input = input.to(device);
                    var output = model.forward(input);
                    var g = output.GlobalCodes.cpu();
                    var l = output.LocalCodes.cpu();
                    var m = maps is not null ? output.LocalMaps.cpu() : null;
                    forward += timer.Elapsed.TotalSeconds;
                    if (alternate) forwardLock.ExitWriteLock();
                    timer.Restart();
                    var gs = g.data<float>();
                    var ls = l.data<float>();
                    float[]? all = m?.data<float>().ToArray();
                    int per = m is null ? 0 : (int)(m.shape[1] * m.shape[2] * m.shape[3]);
                    if (m is not null) mapSize = ((int)m.shape[2], (int)m.shape[3]);
                    for (int i = 0; i < n; i++)
                    {
                        int row = batch.Indices[i];
                        for (int j = 0; j < kg; j++) ug[(long)row * kg + j] = gs[i * kg + j];
                        for (int j = 0; j < kl; j++) ul[(long)row * kl + j] = ls[i * kl + j];
                        if (maps is not null) maps[row] = all.AsSpan(i * per, per).ToArray();
                        ok[row] = true;
                    }
                    pack += timer.Elapsed.TotalSeconds;
                }
                done += Math.Min(batchSize, count - batch.Start);
                progress.Report("encode", done, count, "img");
            }
        }
        catch
        {
            stop.Cancel();
            throw;
        }
        finally
        {
            if (wasTraining) model.train();
            stop.Cancel();
            if (forwardLock.IsWriteLockHeld) forwardLock.ExitWriteLock();
            try { closer.GetAwaiter().GetResult(); } catch (OperationCanceledException) { }
        }
        // A decoder that failed for any reason other than a bad image surfaces here.
        var crashed = decoders.FirstOrDefault(t => t.IsFaulted);
        if (crashed is not null) throw crashed.Exception!.InnerException!;

        if (badImages == BadImagePolicy.Stop && failures.Count > 0)
        {
            // Several decoders may each have hit a bad image before stopping; name the first in source order.
            var first = failures.MinBy(f => f.Index)!;
            throw UserInputException.InFile(first.Path, ProblemOnly(first));
        }

        var packTimer = Stopwatch.StartNew();
        var sourceIndices = Enumerable.Range(0, count).Where(i => ok[i]).ToArray();
        var global = new float[(long)sourceIndices.Length * kg];
        var local = new float[(long)sourceIndices.Length * kl];
        for (int r = 0; r < sourceIndices.Length; r++)
        {
            Array.Copy(ug, (long)sourceIndices[r] * kg, global, (long)r * kg, kg);
            Array.Copy(ul, (long)sourceIndices[r] * kl, local, (long)r * kl, kl);
        }
        var globalCodes = Search.PackedCodes.FromReal(global, kg);
        var localCodes = Search.PackedCodes.FromReal(local, kl);
        pack += packTimer.Elapsed.TotalSeconds;
        wall.Stop();
        return new EncodedImages
        {
            Global = globalCodes,
            Local = localCodes,
            GlobalReal = global,
            LocalReal = local,
            LocalMaps = maps is null ? null : sourceIndices.Select(i => maps[i]).ToList(),
            MapSize = mapSize,
            SourceIndices = sourceIndices,
            Skipped = failures.OrderBy(f => f.Index).ToList(),
            Timings = new EncodingTimings(sourceIndices.Length, wall.Elapsed.TotalSeconds, (double)decodeTicks / Stopwatch.Frequency,
                forward, pack, wait, decodeThreads, torchThreads, batchSize, schedule, (double)resizeTicks / Stopwatch.Frequency),
        };
    }

    /// <summary>
    /// Decodes images [start, end) into one planar batch; null when a bad image stops the run. <paramref name="ticks"/>
    /// is the decoding time, without waits for a turn.
    /// </summary>
    private static DecodedBatch? DecodeBatch(ImageFiles files, int start, int end, int size, List<ImageLoadFailure> failures, BadImagePolicy policy,
                                             Func<IDisposable?> imageTurn, out long ticks)
    {
        int image = 3 * size * size;
        var pixels = new byte[(end - start) * image];
        var indices = new List<int>(end - start);
        ticks = 0;
        for (int i = start; i < end; i++)
        {
            using var turn = imageTurn();
            long began = Stopwatch.GetTimestamp();
            try
            {
                DecodePlanar(files[i].Path, files[i].Crop, size, pixels, indices.Count * image);
                indices.Add(i);
                ticks += Stopwatch.GetTimestamp() - began;
            }
            catch (Exception e) when (e is UserInputException or IOException or UnauthorizedAccessException)
            {
                // The loader names the file; a file that cannot even be read (permissions, I/O) is named here.
                string problem = e is UserInputException ? e.Message : $"{files[i].Path}: cannot read the file ({e.Message})";
                lock (failures) failures.Add(new ImageLoadFailure(i, files[i].Path, problem));
                if (policy == BadImagePolicy.Stop) return null;
            }
        }
        return new DecodedBatch(start, indices.ToArray(), indices.Count * image == pixels.Length ? pixels : pixels[..(indices.Count * image)]);
    }

    /// <summary>The same pixels as <see cref="ImageFiles.Planar"/> (load, crop, stretch to size x size, planar RGB), without its cache.</summary>
    /// <summary>A decoding thread's read lock on the forward pass for one image; waits in short steps so that a stop is seen.</summary>
    private sealed class ReadTurn(ReaderWriterLockSlim gate) : IDisposable
    {
        public static ReadTurn Enter(ReaderWriterLockSlim gate, CancellationToken stop)
        {
            while (!gate.TryEnterReadLock(50)) stop.ThrowIfCancellationRequested();
            return new ReadTurn(gate);
        }

        public void Dispose() => gate.ExitReadLock();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void DecodePlanar(string path, BoundingBox? crop, int size, byte[] into, int offset)
    {
        using var image = ImageLoader.LoadRgb(path, crop, ImageResize.Exact(size, size));
        int plane = size * size;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < size; y++)
            {
                var row = rows.GetRowSpan(y);
                int at = offset + y * size;
                for (int x = 0; x < size; x++)
                {
                    Rgb24 p = row[x];
                    into[at + x] = p.R;
                    into[at + plane + x] = p.G;
                    into[at + 2 * plane + x] = p.B;
                }
            }
        });
    }

    /// <summary>The problem part of a loader message ("path: problem" becomes "problem"), so the path is not named twice.</summary>
    private static string ProblemOnly(ImageLoadFailure failure) =>
        failure.Problem.StartsWith(failure.Path + ": ", StringComparison.Ordinal) ? failure.Problem[(failure.Path.Length + 2)..] : failure.Problem;
}
