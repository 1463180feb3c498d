using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MultiLevelHashing.Model.Backbones;

/// <summary>
/// ResNet18 as exported by CNTK in <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (lib/MultiLevelHashing/README.md section 2.1), the
/// ImageNet backbone of the DSCNN: stages of [2, 2, 2, 3] BasicBlocks, convolutions without bias, 1x1 conv + BN
/// shortcuts where the shape changes, BN eps 1e-5. CNTK pads "same" style: output ceil(n / stride), the odd
/// padding pixel before rather than after (the export's pads at 224 are [3, 3, 2, 2] for the stem and [1, 1, 0, 0]
/// for the stem max-pool and stride-2 convolutions). <see cref="SamePad"/> computes those pads for any input size,
/// which reproduces the ONNX graph at 224 x 224 and keeps the module fully convolutional.
/// Forward returns the last conv map F (N x 512 x h x w); its global average is the package's 512-D feature.
/// Input: RGB in [0, 255]; preprocessing identical to <c>ResNetPreprocess.onnx</c> (RGB to BGR, minus the
/// 224 x 224 mean image, bilinearly resized when the input has another size).
/// </summary>
public sealed class ResNet18Backbone : Backbone
{
    /// <summary>Blocks per stage.</summary>
    public static readonly int[] BlocksPerStage = [2, 2, 2, 3];

    /// <summary>Output channels per stage.</summary>
    public static readonly int[] ChannelsPerStage = [64, 128, 256, 512];

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1, layer2, layer3, layer4;
    private readonly Tensor mean_image;

    /// <summary>Creates the architecture with random weights and a per-channel mean; use <see cref="ResNet18Weights.LoadImageNet"/> for the real ones.</summary>
    public ResNet18Backbone() : base(nameof(ResNet18Backbone))
    {
        int[] c = ChannelsPerStage;
        conv1 = nn.Conv2d(3, c[0], 7, stride: 2, padding: 0L, bias: false);
        bn1 = nn.BatchNorm2d(c[0], eps: 1e-5);
        layer1 = MakeStage(c[0], c[0], BlocksPerStage[0], 1);
        layer2 = MakeStage(c[0], c[1], BlocksPerStage[1], 2);
        layer3 = MakeStage(c[1], c[2], BlocksPerStage[2], 2);
        layer4 = MakeStage(c[2], c[3], BlocksPerStage[3], 2);
        // BGR channel means of the package's mean image, used until real weights are loaded.
        mean_image = tensor(new float[] { 103.06f, 115.90f, 123.15f }).reshape(1, 3, 1, 1).expand(1, 3, 224, 224).contiguous();
        RegisterComponents();
    }

    private static Sequential MakeStage(int inChannels, int outChannels, int blocks, int stride)
    {
        var modules = new List<nn.Module<Tensor, Tensor>> { new BasicBlock(inChannels, outChannels, stride) };
        for (int i = 1; i < blocks; i++) modules.Add(new BasicBlock(outChannels, outChannels, 1));
        return nn.Sequential(modules);
    }

    /// <inheritdoc />
    public override int OutputChannels => ChannelsPerStage[^1];

    /// <inheritdoc />
    public override string Kind => "resnet18-imagenet";

    /// <inheritdoc />
    public override IEnumerable<nn.Module> LastStage => [layer4];

    /// <inheritdoc />
    public override bool FreezeBatchNormStatistics => true;

    /// <summary>The 1 x 3 x 224 x 224 BGR mean image subtracted from every input (a buffer, saved with the weights).</summary>
    public Tensor MeanImage => mean_image;

    internal Conv2d Stem => conv1;
    internal BatchNorm2d StemNorm => bn1;
    internal IReadOnlyList<Sequential> Stages => [layer1, layer2, layer3, layer4];

    /// <summary>RGB [0, 255] to the network's input: BGR minus the mean image (resized to the input's size when needed).</summary>
    public Tensor Preprocess(Tensor rgb)
    {
        using var scope = NewDisposeScope();
        var bgr = rgb.flip(1);
        long h = rgb.shape[2], w = rgb.shape[3];
        var mean = h == mean_image.shape[2] && w == mean_image.shape[3]
            ? mean_image
            : F.interpolate(mean_image, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false);
        return (bgr - mean.to(rgb.device)).MoveToOuterDisposeScope();
    }

    /// <summary>Feature map F of an RGB [0, 255] batch.</summary>
    public override Tensor forward(Tensor rgb)
    {
        using var scope = NewDisposeScope();
        var x = Preprocess(rgb);
        x = F.relu(bn1.forward(conv1.forward(SamePad(x, 7, 2))));
        x = MaxPoolSame(x, 3, 2);
        x = layer1.forward(x);
        x = layer2.forward(x);
        x = layer3.forward(x);
        x = layer4.forward(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// CNTK "same" padding for a <paramref name="kernel"/> x kernel window with <paramref name="stride"/>: output
    /// ceil(n / stride), total padding (out - 1) stride + kernel - n, of which ceil(total / 2) goes before.
    /// </summary>
    public static Tensor SamePad(Tensor x, int kernel, int stride, double value = 0)
    {
        static (long Before, long After) Pads(long n, int k, int s)
        {
            long output = (n + s - 1) / s;
            long total = Math.Max(0, (output - 1) * s + k - n);
            long before = (total + 1) / 2;
            return (before, total - before);
        }
        var (top, bottom) = Pads(x.shape[2], kernel, stride);
        var (left, right) = Pads(x.shape[3], kernel, stride);
        return F.pad(x, [left, right, top, bottom], value: value);
    }

    /// <summary>
    /// Max pooling over <paramref name="kernel"/> x kernel windows with <paramref name="stride"/> and CNTK "same"
    /// padding (<see cref="SamePad"/> with -inf, which never wins the max). Without gradient, as the maximum of the
    /// kernel's strided slices, rows first and then columns: the same values as <c>max_pool2d</c> (a maximum is
    /// exact in any order), in about a third of LibTorch's NCHW max-pooling time on the stem (38 against 14 ms for a
    /// batch of 16 at 160 px; lib/MultiLevelHashing/README.md section 4.4). With gradient, <c>max_pool2d</c> itself,
    /// whose backward sends a window's gradient to one maximum where an elementwise maximum would split it among ties.
    /// </summary>
    public static Tensor MaxPoolSame(Tensor x, int kernel, int stride)
    {
        var padded = SamePad(x, kernel, stride, double.NegativeInfinity);
        if (x.requires_grad && is_grad_enabled()) return F.max_pool2d(padded, kernel_size: kernel, stride: stride);
        using var scope = NewDisposeScope();
        var rows = StridedMaximum(padded, 2, kernel, stride);
        return StridedMaximum(rows, 3, kernel, stride).MoveToOuterDisposeScope();
    }

    /// <summary>out[i] = max over j &lt; kernel of x[stride i + j] along <paramref name="dim"/>, for every whole window.</summary>
    private static Tensor StridedMaximum(Tensor x, int dim, int kernel, int stride)
    {
        long n = x.shape[dim], windows = (n - kernel) / stride + 1;
        Tensor? result = null;
        for (int j = 0; j < kernel; j++)
        {
            var taken = x.slice(dim, j, j + (windows - 1) * stride + 1, stride);
            result = result is null ? taken : maximum(result, taken);
        }
        return result!;
    }

    /// <summary>The package's 512-D feature: the global average of F.</summary>
    public Tensor PooledFeatures(Tensor rgb)
    {
        using var scope = NewDisposeScope();
        return forward(rgb).mean([2, 3]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ResNet BasicBlock: conv3x3 - BN - ReLU - conv3x3 - BN, plus the input (or its 1x1 conv + BN projection
    /// when the shape changes), then ReLU. Stride-2 3x3 convs pad "same" CNTK style (<see cref="SamePad"/>).
    /// </summary>
    public sealed class BasicBlock : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1, conv2;
        private readonly BatchNorm2d bn1, bn2;
        private readonly Conv2d? downsample_conv;
        private readonly BatchNorm2d? downsample_bn;
        private readonly int _stride;

        /// <summary>A block from <paramref name="inChannels"/> to <paramref name="outChannels"/> with the given stride.</summary>
        public BasicBlock(int inChannels, int outChannels, int stride) : base(nameof(BasicBlock))
        {
            _stride = stride;
            conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: stride == 1 ? 1L : 0L, bias: false);
            bn1 = nn.BatchNorm2d(outChannels, eps: 1e-5);
            conv2 = nn.Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(outChannels, eps: 1e-5);
            if (stride != 1 || inChannels != outChannels)
            {
                downsample_conv = nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false);
                downsample_bn = nn.BatchNorm2d(outChannels, eps: 1e-5);
            }
            RegisterComponents();
        }

        internal Conv2d Conv1 => conv1;
        internal Conv2d Conv2 => conv2;
        internal BatchNorm2d Bn1 => bn1;
        internal BatchNorm2d Bn2 => bn2;
        internal Conv2d? ShortcutConv => downsample_conv;
        internal BatchNorm2d? ShortcutNorm => downsample_bn;

        /// <inheritdoc />
        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var input = _stride == 1 ? x : SamePad(x, 3, _stride);
            var y = F.relu(bn1.forward(conv1.forward(input)));
            y = bn2.forward(conv2.forward(y));
            var shortcut = downsample_conv is null ? x : downsample_bn!.forward(downsample_conv.forward(x));
            return F.relu(y + shortcut).MoveToOuterDisposeScope();
        }
    }
}
