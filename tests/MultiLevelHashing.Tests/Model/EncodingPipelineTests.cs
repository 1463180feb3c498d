using MultiLevelHashing.Data;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Tests.Model;

/// <summary>
/// The file-encoding pipeline against sequential encoding (the reference: one batch after the other through
/// <see cref="IImageSource.Load"/>), and its handling of bad images.
/// </summary>
public sealed class EncodingPipelineTests : IDisposable
{
    private static readonly string[] Photos = ["graf1.jpg", "leuven-a.jpg", "coffee.jpg", "aero1.jpg", "apple.jpg", "baboon.jpg", "astronaut.jpg"];
    private readonly string _work = Path.Combine(Path.GetTempPath(), "mlh-pipeline-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true);
    }

    /// <summary>Copies the photos into a folder named <paramref name="name"/>; returns the folder and its files in order.</summary>
    private (string Folder, List<string> Files) Folder(string name, params string[] photos)
    {
        string folder = Path.Combine(_work, name);
        Directory.CreateDirectory(folder);
        string source = Path.Combine(RepositoryLayout.FindRoot(), "data", "photos");
        var files = new List<string>();
        for (int i = 0; i < photos.Length; i++)
        {
            string target = Path.Combine(folder, $"{i:00}-{photos[i]}");
            File.Copy(Path.Combine(source, photos[i]), target);
            files.Add(target);
        }
        return (folder, files);
    }

    private static DscnnModel SmallModel()
    {
        var config = TrainingConfig.Smoke;
        var model = DscnnFactory.Create(config.Architecture, config.Seed, pretrainedBackbone: false);
        DscnnFactory.Initialize(model, seed: 3, includeBackbone: true);
        return model;
    }

    private static ImageFileSource Source(IEnumerable<string> files, string root) => new(ImageFiles.Of(files, root));

    [Theory]
    [InlineData(1, 3, DecodeSchedule.Auto)]
    [InlineData(2, 3, DecodeSchedule.Alternating)]
    [InlineData(2, 2, DecodeSchedule.Overlapped)]
    [InlineData(3, 16, DecodeSchedule.Alternating)]
    public void PipelineCodesEqualSequentialEncoding(int decodeThreads, int batch, DecodeSchedule schedule)
    {
        var (folder, files) = Folder("good", Photos);
        using var model = SmallModel();
        const int size = 64;
        IImageSource reference = Source(files, folder);
        using var sequential = DscnnEncoder.Encode(model, reference, size, batch, includeMaps: true);
        var options = new EncodingPipelineOptions { DecodeThreads = decodeThreads, QueuedBatches = 1, Schedule = schedule };
        using var pipelined = DscnnEncoder.Encode(model, Source(files, folder), size, batch, includeMaps: true, pipeline: options);

        Assert.Equal(sequential.GlobalReal, pipelined.GlobalReal);
        Assert.Equal(sequential.LocalReal, pipelined.LocalReal);
        Assert.Equal(sequential.Global.ToArray().Data, pipelined.Global.ToArray().Data);
        Assert.Equal(sequential.Local.ToArray().Data, pipelined.Local.ToArray().Data);
        Assert.Equal(sequential.LocalMaps!.Count, pipelined.LocalMaps!.Count);
        for (int i = 0; i < files.Count; i++) Assert.Equal(sequential.LocalMaps[i], pipelined.LocalMaps[i]);
        Assert.Equal(sequential.MapSize, pipelined.MapSize);
        Assert.Equal(Enumerable.Range(0, files.Count), pipelined.SourceIndices);
        Assert.Empty(pipelined.Skipped);
        var t = pipelined.Timings!;
        Assert.Equal(files.Count, t.Images);
        Assert.Equal(decodeThreads, t.DecodeThreads);
        Assert.Equal(batch, t.BatchSize);
        Assert.Equal(options.ResolveSchedule(forwardOnCpu: true, TorchSharp.torch.get_num_threads(), decodeThreads), t.Schedule);
        // The photos are larger than 64 px, so every image was resized, and that time is part of decoding.
        Assert.True(t.ResizeSeconds > 0 && t.ResizeSeconds <= t.DecodeSeconds, t.Summary());
        Assert.True(t.WallSeconds > 0 && t.ForwardSeconds > 0 && t.DecodeSeconds > 0);
        Assert.True(t.ForwardSeconds + t.PackSeconds + t.WaitSeconds <= t.WallSeconds * 1.01, t.Summary());
    }

    [Fact]
    public void AutoAlternatesOnlyWhenTheForwardPassAndTheDecodersWouldShareTheCores()
    {
        var auto = new EncodingPipelineOptions();
        int cores = Environment.ProcessorCount;
        Assert.Equal(DecodeSchedule.Alternating, auto.ResolveSchedule(forwardOnCpu: true, torchThreads: cores, decodeThreads: 1));
        Assert.Equal(DecodeSchedule.Overlapped, auto.ResolveSchedule(forwardOnCpu: false, torchThreads: cores, decodeThreads: 1));
        if (cores > 1) Assert.Equal(DecodeSchedule.Overlapped, auto.ResolveSchedule(forwardOnCpu: true, torchThreads: cores - 1, decodeThreads: 1));
        var chosen = new EncodingPipelineOptions { Schedule = DecodeSchedule.Overlapped };
        Assert.Equal(DecodeSchedule.Overlapped, chosen.ResolveSchedule(forwardOnCpu: true, torchThreads: cores, decodeThreads: cores));
    }

    /// <summary>A folder with a JPEG cut in half and a text file named .jpg between good photos.</summary>
    private (string Folder, List<string> Files, string Truncated, string Text) FolderWithBadImages()
    {
        var (folder, files) = Folder("mixed", Photos[..5]);
        string truncated = files[1];
        byte[] bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        string text = files[3];
        File.WriteAllText(text, "this is not an image\n");
        return (folder, files, truncated, text);
    }

    [Fact]
    public void SkipLeavesOutBadImagesAndMapsRowsToTheirSources()
    {
        var (folder, files, truncated, text) = FolderWithBadImages();
        using var model = SmallModel();
        using var codes = DscnnEncoder.Encode(model, Source(files, folder), 64, batchSize: 2, badImages: BadImagePolicy.Skip,
            pipeline: new EncodingPipelineOptions { DecodeThreads = 2 });

        Assert.Equal([0, 2, 4], codes.SourceIndices);
        Assert.Equal(3, codes.Count);
        Assert.Equal([(1, truncated), (3, text)], codes.Skipped.Select(f => (f.Index, f.Path)));
        Assert.All(codes.Skipped, f => Assert.Contains(f.Path, f.Problem));

        // Each row is the code of its own file, encoded alone by the sequential reference (another batch
        // composition, so equal to float32 rounding; bit j is compared where u_j is clearly away from 0).
        int kg = model.GlobalBits;
        for (int row = 0; row < codes.Count; row++)
        {
            string file = files[codes.SourceIndices[row]];
            using var alone = DscnnEncoder.Encode(model, (IImageSource)Source([file], folder), 64, batchSize: 1);
            var expected = alone.GlobalReal;
            var actual = codes.GlobalReal.AsSpan(row * kg, kg).ToArray();
            for (int j = 0; j < kg; j++)
            {
                Assert.Equal(expected[j], actual[j], 4);
                if (Math.Abs(expected[j]) > 1e-3) Assert.Equal(expected[j] > 0, actual[j] > 0);
            }
        }
    }

    [Fact]
    public void StopThrowsNamingTheFirstBadImage()
    {
        var (folder, files, truncated, _) = FolderWithBadImages();
        using var model = SmallModel();
        // Decoders paused between forward passes must stop too, not wait for a pass that will not come.
        foreach (int threads in new[] { 1, 3 })
            foreach (var schedule in new[] { DecodeSchedule.Overlapped, DecodeSchedule.Alternating })
            {
                var e = Assert.Throws<UserInputException>(() => DscnnEncoder.Encode(model, Source(files, folder), 64, batchSize: 1,
                    pipeline: new EncodingPipelineOptions { DecodeThreads = threads, Schedule = schedule }));
                Assert.StartsWith(truncated, e.Message);
            }
    }

    [Fact]
    public void SequentialEncodingReportsSourceIndicesAndTimings()
    {
        var (folder, files) = Folder("sequential", Photos[..3]);
        using var model = SmallModel();
        using var codes = DscnnEncoder.Encode(model, (IImageSource)Source(files, folder), 64, batchSize: 2);
        Assert.Equal([0, 1, 2], codes.SourceIndices);
        Assert.Equal(3, codes.Timings!.Images);
        Assert.Equal(0, codes.Timings.DecodeThreads);
    }
}
