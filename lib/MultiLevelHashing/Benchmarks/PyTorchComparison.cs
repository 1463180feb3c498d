using System.Diagnostics;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Processing;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiLevelHashing.Benchmarks;

/// <summary>The workloads of the PyTorch comparison (lib/MultiLevelHashing/README.md section 4.4).</summary>
public enum ComparisonWorkload
{
    /// <summary>Forward passes of decoded images (images/s).</summary>
    Inference,
    /// <summary>Training steps of the two heads on cached maps F (steps/s).</summary>
    TrainHeads,
    /// <summary>Training steps of layer4 and the heads, the whole backbone in the forward pass (steps/s).</summary>
    TrainLayer4,
    /// <summary>JPEG files to packed codes, decoding in parallel with the network (images/s).</summary>
    EndToEnd,
    /// <summary>The forward pass stage by stage (milliseconds per batch per stage, as JSON; the rate is images/s).</summary>
    Stages,
}

/// <summary>The fixed inputs both sides of the comparison read: weights, JPEG files, decoded pixels, feature maps.</summary>
/// <param name="Folder">Where the files are.</param>
/// <param name="Weights">The exported state_dict (safetensors) with its architecture file beside it.</param>
/// <param name="Images">Folder of JPEG files for the end-to-end rows.</param>
/// <param name="Pixels">uint8 .npy, N x 3*S*S: the inference batch (decoded by the library, the same bytes on both sides).</param>
/// <param name="TrainPixels">uint8 .npy, B x 3*S*S: the images of one layer4 + heads training step.</param>
/// <param name="Features">float32 .npy, B' x C*h*w: the maps F of one heads-only training step.</param>
/// <param name="ImageSize">Input side S.</param>
public sealed record ComparisonInputs(string Folder, string Weights, string Images, string Pixels, string TrainPixels, string Features, int ImageSize);

/// <summary>
/// The C# side of <c>mlh bench pytorch</c>: the same DSCNN, inputs and steps as
/// <c>tests/MultiLevelHashing.Benchmarks/pytorch/dscnn_benchmark.py</c>. Training steps use the trainer's own freeze
/// policy, loss and optimizer (<see cref="DscnnTrainer.ConfigureTrainable"/>, <see cref="DshLoss"/>, <see cref="HashOptimizer"/>).
/// </summary>
public static class PyTorchComparison
{
    /// <summary>
    /// Writes the inputs into <paramref name="folder"/>: the DSCNN (ImageNet ResNet18, heads seeded from
    /// <paramref name="seed"/>, or the model of <paramref name="checkpoint"/>) exported as safetensors; every photo of
    /// <paramref name="photos"/> and its mirror image as JPEG files (quality 90) scaled to a longer side of
    /// <paramref name="longerSide"/> (Oxford and Paris images are 1024 x 768); the decoded inference batch of
    /// <paramref name="inferenceImages"/> images; the images of one layer4 + heads step (<paramref name="layer4Images"/>)
    /// and the maps F of one heads-only step (<paramref name="headsImages"/>).
    /// </summary>
    public static ComparisonInputs Prepare(string folder, string photos, int imageSize, int inferenceImages, int layer4Images,
        int headsImages, string? checkpoint = null, int seed = 1, int longerSide = 1024)
    {
        Directory.CreateDirectory(folder);
        string weights = Path.Combine(folder, "dscnn.safetensors");
        var (model, architecture, size) = checkpoint is null
            ? (DscnnFactory.Create(TrainingConfig.Full.Architecture, seed, pretrainedBackbone: true), TrainingConfig.Full.Architecture, imageSize)
            : LoadCheckpoint(checkpoint);
        using var _ = model;
        if (architecture.Backbone != BackboneKind.ResNet18)
            throw new UserInputException($"the PyTorch comparison builds the ResNet18 DSCNN; {checkpoint} has backbone {architecture.Backbone}");
        StateDictFile.Save(model, architecture, size, weights);

        string images = Path.Combine(folder, "jpg");
        WriteJpegs(photos, images, longerSide);
        var files = ImageFiles.Of(Directory.GetFiles(images, "*.jpg").Order(StringComparer.Ordinal), images);
        if (files.Count == 0) throw new UserInputException($"{photos}: no .jpg photos for the benchmark");

        byte[] Decode(int n)
        {
            int per = 3 * size * size;
            var bytes = new byte[n * per];
            for (int i = 0; i < n; i++) EncodingPipeline.DecodePlanar(files[i % files.Count].Path, null, size, bytes, i * per);
            return bytes;
        }
        string pixels = Path.Combine(folder, "pixels.npy");
        NpyFile.WriteUInt8(pixels, new Array2D<byte>(inferenceImages, 3 * size * size, Decode(inferenceImages)));
        string trainPixels = Path.Combine(folder, "train-pixels.npy");
        NpyFile.WriteUInt8(trainPixels, new Array2D<byte>(layer4Images, 3 * size * size, Decode(layer4Images)));
        var headsBytes = Decode(headsImages);

        string features = Path.Combine(folder, "features.npy");
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
        {
            model.eval();
            var maps = model.Backbone.forward(tensor(headsBytes, new long[] { headsImages, 3, size, size }).to_type(ScalarType.Float32)).contiguous();
            int per = (int)(maps.numel() / headsImages);
            NpyFile.WriteFloat32(features, new Array2D<float>(headsImages, per, maps.data<float>().ToArray()));
        }
        return new ComparisonInputs(folder, weights, images, pixels, trainPixels, features, size);
    }

    private static (DscnnModel, DscnnArchitecture, int) LoadCheckpoint(string path)
    {
        var (model, info) = Checkpoint.LoadModel(path);
        return (model, info.Config.Architecture, info.Config.ImageSize);
    }

    private static void WriteJpegs(string photos, string folder, int longerSide)
    {
        Directory.CreateDirectory(folder);
        var encoder = new JpegEncoder { Quality = 90 };
        foreach (string photo in Directory.GetFiles(photos, "*.jpg").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(photo);
            foreach (bool mirror in new[] { false, true })
            {
                string target = Path.Combine(folder, $"{name}{(mirror ? "-mirror" : "")}.jpg");
                if (File.Exists(target)) continue;
                using var image = ImageLoader.LoadRgb(photo);
                image.Mutate(x =>
                {
                    var (w, h) = ImageResize.Longer(longerSide).TargetSize(image.Width, image.Height);
                    x.Resize(w, h, KnownResamplers.Bicubic);
                    if (mirror) x.Flip(FlipMode.Horizontal);
                });
                AtomicFile.Write(target, stream => image.SaveAsJpeg(stream, encoder));
            }
        }
    }

    /// <summary>
    /// One timed run of <paramref name="workload"/> on <paramref name="threads"/> LibTorch threads: images/s (inference,
    /// end to end) or steps/s (training), after warm-up; <paramref name="detail"/> says where the time went (end to end) or is empty.
    /// </summary>
    public static double Run(ComparisonWorkload workload, ComparisonInputs inputs, int threads, int batch, int repeats, int steps, int warmup,
        int? decodeThreads, out string detail, DecodeSchedule schedule = DecodeSchedule.Auto)
    {
        detail = "";
        torch.set_num_threads(threads);
        var (model, info) = StateDictFile.LoadModel(inputs.Weights);
        using var _ = model;
        int size = info.ImageSize;
        switch (workload)
        {
            case ComparisonWorkload.Inference:
            {
                var raw = NpyFile.ReadUInt8(inputs.Pixels);
                using var pixels = tensor(raw.Data, new long[] { raw.Rows, 3, size, size });
                DscnnEncoder.Encode(model, pixels.to_type(ScalarType.Float32), batch).Dispose();
                var clock = Stopwatch.StartNew();
                for (int r = 0; r < repeats; r++)
                {
                    // The same conversion from bytes per batch as the pipeline, so both sides start from uint8.
                    for (int start = 0; start < raw.Rows; start += batch)
                    {
                        using var scope = NewDisposeScope();
                        var slice = pixels[start..Math.Min(raw.Rows, start + batch)].to_type(ScalarType.Float32);
                        DscnnEncoder.Encode(model, slice, batch).Dispose();
                    }
                }
                return repeats * raw.Rows / clock.Elapsed.TotalSeconds;
            }
            case ComparisonWorkload.TrainHeads:
            case ComparisonWorkload.TrainLayer4:
            {
                bool headsOnly = workload == ComparisonWorkload.TrainHeads;
                using var input = headsOnly ? FeatureTensor(inputs.Features) : PixelTensor(inputs.TrainPixels, size);
                return TrainSteps(model, input, headsOnly, steps, warmup);
            }
            case ComparisonWorkload.EndToEnd:
            {
                var source = new ImageFileSource(ImageFiles.Of(Directory.GetFiles(inputs.Images, "*.jpg").Order(StringComparer.Ordinal), inputs.Images));
                var options = new EncodingPipelineOptions { DecodeThreads = decodeThreads, Schedule = schedule };
                // Warm-up, as for the other rows: LibTorch prepares its convolution kernels on the first batch of a shape.
                using (var warm = zeros(batch, 3, size, size)) DscnnEncoder.Encode(model, warm, batch).Dispose();
                using var codes = DscnnEncoder.Encode(model, source, size, batch, pipeline: options);
                detail = codes.Timings!.Summary();
                return codes.Timings.ImagesPerSecond;
            }
            case ComparisonWorkload.Stages:
            {
                var raw = NpyFile.ReadUInt8(inputs.Pixels);
                using var pixels = tensor(raw.Data, new long[] { raw.Rows, 3, size, size });
                var stages = ProfileStages(model, pixels, batch, repeats);
                detail = System.Text.Json.JsonSerializer.Serialize(stages.ToDictionary(x => x.Stage, x => x.Milliseconds));
                double total = stages.Sum(x => Statistics.Median(x.Milliseconds));
                return batch / (total / 1000);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(workload));
        }
    }

    /// <summary>
    /// The stages of the ResNet18 DSCNN's forward pass, in order, each timed on its own (LibTorch runs CPU operations
    /// synchronously, so a stopwatch around a stage times it): preprocessing, the explicit CNTK "same" padding and the
    /// convolution of the stem, max pooling with its padding (<see cref="ResNet18Backbone.MaxPoolSame"/>), the four
    /// stages and the two heads. The PyTorch side
    /// (<c>dscnn_benchmark.py --mode stages</c>) times the same stages of the same module tree.
    /// </summary>
    public static readonly string[] StageNames =
        ["preprocess", "pad 7x7", "conv1 + bn + relu", "max pool (with its padding)", "layer1", "layer2", "layer3", "layer4", "global head", "local head"];

    /// <summary>
    /// Milliseconds per batch of each of <see cref="StageNames"/>, over <paramref name="passes"/> timed passes (one untimed
    /// pass first) of batches of <paramref name="batch"/> images from <paramref name="pixels"/> (uint8, N x 3 x S x S).
    /// </summary>
    public static List<(string Stage, List<double> Milliseconds)> ProfileStages(DscnnModel model, Tensor pixels, int batch, int passes)
    {
        if (model.Backbone is not ResNet18Backbone backbone)
            throw new UserInputException("the stage profile covers the ResNet18 DSCNN only");
        var times = StageNames.Select(n => (Stage: n, Milliseconds: new List<double>())).ToList();
        model.eval();
        using var noGrad = no_grad();
        var stem = backbone.Stem;
        var stemNorm = backbone.StemNorm;
        for (int pass = 0; pass <= passes; pass++)
            for (int start = 0; start + batch <= pixels.shape[0]; start += batch)
            {
                using var scope = NewDisposeScope();
                var x = pixels[start..(start + batch)].to_type(ScalarType.Float32);
                int stage = 0;
                Tensor Time(Func<Tensor> run)
                {
                    long began = Stopwatch.GetTimestamp();
                    var y = run();
                    if (pass > 0) times[stage].Milliseconds.Add(Stopwatch.GetElapsedTime(began).TotalMilliseconds);
                    stage++;
                    return y;
                }
                x = Time(() => backbone.Preprocess(x));
                x = Time(() => ResNet18Backbone.SamePad(x, 7, 2));
                x = Time(() => nn.functional.relu(stemNorm.forward(stem.forward(x))));
                x = Time(() => ResNet18Backbone.MaxPoolSame(x, 3, 2));
                foreach (var layer in backbone.Stages) x = Time(() => layer.forward(x));
                var features = x;
                Time(() => model.GlobalHead.forward(features));
                Time(() => model.LocalHead.forward(features).Item1);
            }
        return times;
    }

    /// <summary>The relaxed codes (u_g, u_l) of the inference batch, for the comparison with PyTorch's.</summary>
    public static (float[] Global, float[] Local) Codes(ComparisonInputs inputs, int batch)
    {
        var (model, info) = StateDictFile.LoadModel(inputs.Weights);
        using var _ = model;
        using var pixels = PixelTensor(inputs.Pixels, info.ImageSize);
        using var codes = DscnnEncoder.Encode(model, pixels, batch);
        return (codes.GlobalReal, codes.LocalReal);
    }

    private static Tensor PixelTensor(string path, int size)
    {
        var raw = NpyFile.ReadUInt8(path);
        using var bytes = tensor(raw.Data, new long[] { raw.Rows, 3, size, size });
        return bytes.to_type(ScalarType.Float32);
    }

    private static Tensor FeatureTensor(string path)
    {
        var raw = NpyFile.ReadFloat32(path);
        var shape = FeatureShapeOf(raw.Rows, raw.Columns);
        return tensor(raw.Data, new long[] { shape.Images, shape.Channels, shape.Height, shape.Width });
    }

    /// <summary>The shape of the heads-only step's maps F: images x ResNet18's output channels x a square map.</summary>
    public static (int Images, int Channels, int Height, int Width) FeatureShape(ComparisonInputs inputs)
    {
        var raw = NpyFile.ReadFloat32(inputs.Features);
        return FeatureShapeOf(raw.Rows, raw.Columns);
    }

    private static (int Images, int Channels, int Height, int Width) FeatureShapeOf(int rows, int columns)
    {
        int channels = ResNet18Backbone.ChannelsPerStage[^1];
        int side = (int)Math.Round(Math.Sqrt(columns / (double)channels));
        return (rows, channels, side, side);
    }

    /// <summary>The inputs <see cref="Prepare"/> wrote into <paramref name="folder"/> (what a worker process reads).</summary>
    public static ComparisonInputs InputsIn(string folder)
    {
        string weights = Path.Combine(folder, "dscnn.safetensors");
        return new ComparisonInputs(folder, weights, Path.Combine(folder, "jpg"), Path.Combine(folder, "pixels.npy"),
            Path.Combine(folder, "train-pixels.npy"), Path.Combine(folder, "features.npy"), StateDictFile.ReadInfo(weights).ImageSize);
    }

    /// <summary>
    /// Training steps on one batch: pairs (2i, 2i + 1), alternately similar, the Full preset's loss (alpha, beta, gamma,
    /// margin) and AdamW settings; returns steps per second over <paramref name="steps"/> steps after <paramref name="warmup"/>.
    /// </summary>
    internal static double TrainSteps(DscnnModel model, Tensor input, bool headsOnly, int steps, int warmup)
    {
        var config = TrainingConfig.Full with { Freeze = headsOnly ? FreezePolicy.HeadsOnly : FreezePolicy.Layer4AndHeads };
        var trainable = DscnnTrainer.ConfigureTrainable(model, config.Freeze);
        using var optimizer = new HashOptimizer(trainable, config.Optimizer, config.WeightDecay, config.Momentum);
        DscnnTrainer.SetMode(model, config.Freeze, training: true);
        long n = input.shape[0];
        using var first = arange(0, n, 2);
        using var second = arange(1, n, 2);
        using var similar = (arange(n / 2) % 2 == 0).to_type(ScalarType.Float32);
        var clock = new Stopwatch();
        for (int step = 0; step < warmup + steps; step++)
        {
            if (step == warmup) clock.Start();
            using var scope = NewDisposeScope();
            var output = headsOnly ? model.ForwardHeads(input) : model.forward(input);
            var (total, _, _) = DshLoss.Combined(
                output.GlobalCodes.index_select(0, first), output.GlobalCodes.index_select(0, second),
                output.LocalCodes.index_select(0, first), output.LocalCodes.index_select(0, second),
                similar, config.Alpha, config.Beta, config.MarginPerBit);
            total = total + config.Gamma * DshLoss.BitIndependence(output.GlobalCodes);
            optimizer.ZeroGrad();
            total.backward();
            optimizer.Update(config.LearningRate);
            total.item<float>();
        }
        clock.Stop();
        DscnnTrainer.SetMode(model, config.Freeze, training: false);
        return steps / clock.Elapsed.TotalSeconds;
    }

    /// <summary>How far two sets of relaxed codes agree: largest |difference|, bits that differ, and the largest |u| at a differing bit.</summary>
    public sealed record CodeAgreement(double MaxAbsDifference, long BitsCompared, long BitsDiffering, double MaxAbsAtDifferingBit);

    /// <summary>Compares <paramref name="ours"/> with <paramref name="theirs"/> element by element (b = u &gt; 0).</summary>
    public static CodeAgreement Compare(ReadOnlySpan<float> ours, ReadOnlySpan<float> theirs)
    {
        if (ours.Length != theirs.Length) throw new ArgumentException($"{ours.Length} codes against {theirs.Length}");
        double maxDiff = 0, maxAtDiffering = 0;
        long differing = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(ours[i] - theirs[i]));
            if ((ours[i] > 0) != (theirs[i] > 0))
            {
                differing++;
                maxAtDiffering = Math.Max(maxAtDiffering, Math.Max(Math.Abs(ours[i]), Math.Abs(theirs[i])));
            }
        }
        return new CodeAgreement(maxDiff, ours.Length, differing, maxAtDiffering);
    }
}
