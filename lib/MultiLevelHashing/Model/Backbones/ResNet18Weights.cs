using MultiLevelHashing.Torch;
using MultiLevelHashing.Model.Onnx;
using MultiLevelHashing.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiLevelHashing.Model.Backbones;

/// <summary>
/// Imports the ImageNet weights of <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (lib/MultiLevelHashing/README.md section 2.1) into a
/// <see cref="ResNet18Backbone"/>. The ONNX graph is traced from its input (stem, then each block's main path and
/// shortcut) rather than matched by parameter names, so any structural mismatch fails with a clear message.
/// </summary>
public static class ResNet18Weights
{
    /// <summary>Path of the model relative to a build output (where the library's build copies it).</summary>
    public const string ModelRelativePath = "DnnImageModels/ResNet18Onnx/ResNet18.onnx";

    /// <summary>Path of the preprocessing model (mean image) relative to a build output.</summary>
    public const string PreprocessRelativePath = "DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx";

    /// <summary>
    /// Folder holding <c>DnnImageModels/</c>: env <c>MLH_RESNET18_DIR</c>, else the folder of this library's
    /// assembly, else the application base directory.
    /// </summary>
    public static string ModelsDirectory()
    {
        string? env = Environment.GetEnvironmentVariable("MLH_RESNET18_DIR");
        if (!string.IsNullOrWhiteSpace(env)) return env;
        foreach (string? dir in new[] { Path.GetDirectoryName(typeof(ResNet18Weights).Assembly.Location), AppContext.BaseDirectory })
            if (!string.IsNullOrEmpty(dir) && File.Exists(Path.Combine(dir, ModelRelativePath))) return dir;
        return AppContext.BaseDirectory;
    }

    /// <summary>Full path of <c>ResNet18.onnx</c>.</summary>
    public static string ModelPath => Path.Combine(ModelsDirectory(), ModelRelativePath);

    /// <summary>Full path of <c>ResNetPreprocess.onnx</c>.</summary>
    public static string PreprocessPath => Path.Combine(ModelsDirectory(), PreprocessRelativePath);

    /// <summary>The package that ships the weights, at the version the build copies.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The error for a missing model file: which package provides it and how to get it.</summary>
    public static UserInputException MissingWeights(string path) => UserInputException.InFile(path,
        $"ImageNet ResNet18 weights not found. They come from the NuGet package {PackageId}, which the build copies into " +
        "every output folder: run 'dotnet build Research.sln -c Release' (it restores the package), or set MLH_RESNET18_DIR " +
        "to a folder that holds DnnImageModels/");

    /// <summary>A ResNet18 backbone with the package's ImageNet weights and mean image, in eval mode.</summary>
    public static ResNet18Backbone LoadImageNet(string? modelPath = null, string? preprocessPath = null)
    {
        var backbone = new ResNet18Backbone();
        Load(backbone, modelPath ?? ModelPath, preprocessPath ?? PreprocessPath);
        backbone.eval();
        return backbone;
    }

    /// <summary>Copies the weights of <paramref name="modelPath"/> and the mean image of <paramref name="preprocessPath"/> into <paramref name="backbone"/>.</summary>
    public static void Load(ResNet18Backbone backbone, string modelPath, string preprocessPath)
    {
        foreach (string path in new[] { modelPath, preprocessPath })
            if (!File.Exists(path)) throw MissingWeights(path);
        var graph = OnnxModelReader.Read(modelPath);
        var prep = OnnxModelReader.Read(preprocessPath);
        using var noGrad = no_grad();
        new Tracer(graph, modelPath).LoadInto(backbone);

        var sub = prep.Nodes.FirstOrDefault(n => n.OpType == "Sub")
                  ?? throw UserInputException.InFile(preprocessPath, "no Sub node (mean subtraction) found");
        var mean = sub.Inputs.Select(i => prep.Tensors.GetValueOrDefault(i)).FirstOrDefault(t => t is not null)
                   ?? throw UserInputException.InFile(preprocessPath, "the Sub node has no constant mean image");
        if (!mean.Shape.SequenceEqual(backbone.MeanImage.shape))
            throw UserInputException.InFile(preprocessPath, $"mean image has shape [{string.Join(",", mean.Shape)}], expected [1,3,224,224]");
        var concat = prep.Nodes.FirstOrDefault(n => n.OpType == "Concat");
        var split = prep.Nodes.FirstOrDefault(n => n.OpType == "Split");
        // The graph must reorder RGB to BGR (Split into R,G,B then Concat B,G,R) as the backbone assumes.
        if (concat is null || split is null || !concat.Inputs.SequenceEqual(split.Outputs.Reverse()))
            throw UserInputException.InFile(preprocessPath, "expected an RGB to BGR channel swap (Split then reversed Concat)");
        using var m = tensor(mean.Data, mean.Shape);
        backbone.MeanImage.copy_(m);
    }

    private sealed class Tracer(OnnxGraph graph, string path)
    {
        private readonly Dictionary<string, List<OnnxNode>> _consumers = BuildConsumers(graph);

        private static Dictionary<string, List<OnnxNode>> BuildConsumers(OnnxGraph g)
        {
            var d = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
            foreach (var n in g.Nodes)
                foreach (var i in n.Inputs)
                {
                    if (!d.TryGetValue(i, out var list)) d[i] = list = [];
                    list.Add(n);
                }
            return d;
        }

        private UserInputException Fail(string problem) => UserInputException.InFile(path, $"unexpected ResNet18 graph: {problem}");

        private OnnxNode Single(string tensorName, string op, Func<OnnxNode, bool>? where = null)
        {
            var found = _consumers.GetValueOrDefault(tensorName, []).Where(n => n.OpType == op && (where?.Invoke(n) ?? true)).ToList();
            if (found.Count != 1) throw Fail($"expected one {op} consuming '{tensorName}', found {found.Count}");
            return found[0];
        }

        private OnnxTensor Tensor(string name) => graph.Tensors.GetValueOrDefault(name) ?? throw Fail($"no float tensor '{name}'");

        private static long[] Kernel(OnnxNode n) => n.IntAttributes.GetValueOrDefault("kernel_shape") ?? [];

        private void Copy(TorchSharp.Modules.Parameter target, OnnxTensor source, string what) => CopyTensor(target, source, what);

        private void CopyTensor(torch.Tensor target, OnnxTensor source, string what)
        {
            if (!source.Shape.SequenceEqual(target.shape))
                throw Fail($"{what}: '{source.Name}' has shape [{string.Join(",", source.Shape)}], module expects [{string.Join(",", target.shape)}]");
            using var t = tensor(source.Data, source.Shape);
            target.copy_(t);
        }

        /// <summary>Loads a Conv node's weight; returns its output name.</summary>
        private string LoadConv(OnnxNode conv, Conv2d target, string what)
        {
            if (conv.Inputs.Length != 2) throw Fail($"{what}: convolution '{conv.Name}' has a bias or lacks weights");
            Copy(target.weight!, Tensor(conv.Inputs[1]), what);
            return conv.Outputs[0];
        }

        /// <summary>Loads the BN consuming <paramref name="input"/>; returns its output name.</summary>
        private string LoadNorm(string input, BatchNorm2d target, string what)
        {
            var bn = Single(input, "BatchNormalization");
            if (bn.Inputs.Length != 5) throw Fail($"{what}: batch norm '{bn.Name}' has {bn.Inputs.Length} inputs");
            float eps = bn.FloatAttributes.GetValueOrDefault("epsilon")?[0] ?? 1e-5f;
            if (Math.Abs(eps - 1e-5f) > 1e-9f) throw Fail($"{what}: batch norm eps {eps}, module uses 1e-5");
            Copy(target.weight!, Tensor(bn.Inputs[1]), what + " scale");
            Copy(target.bias!, Tensor(bn.Inputs[2]), what + " bias");
            CopyTensor(target.running_mean!, Tensor(bn.Inputs[3]), what + " mean");
            CopyTensor(target.running_var!, Tensor(bn.Inputs[4]), what + " variance");
            return bn.Outputs[0];
        }

        public void LoadInto(ResNet18Backbone b)
        {
            if (graph.Inputs.Count == 0) throw Fail("no graph input");
            string x = graph.Inputs.First(i => !graph.Tensors.ContainsKey(i));
            var stem = Single(x, "Conv");
            if (!Kernel(stem).SequenceEqual([7L, 7L])) throw Fail("the stem is not a 7x7 convolution");
            x = LoadConv(stem, b.Stem, "stem conv");
            x = LoadNorm(x, b.StemNorm, "stem bn");
            x = Single(x, "Relu").Outputs[0];
            x = Single(x, "MaxPool").Outputs[0];
            for (int s = 0; s < 4; s++)
            {
                var blocks = b.Stages[s].children().Cast<ResNet18Backbone.BasicBlock>().ToList();
                for (int k = 0; k < blocks.Count; k++)
                {
                    string what = $"layer{s + 1}.{k}";
                    var block = blocks[k];
                    string input = x;
                    var main1 = Single(input, "Conv", n => Kernel(n).SequenceEqual([3L, 3L]));
                    string y = LoadConv(main1, block.Conv1, what + " conv1");
                    y = LoadNorm(y, block.Bn1, what + " bn1");
                    y = Single(y, "Relu").Outputs[0];
                    y = LoadConv(Single(y, "Conv"), block.Conv2, what + " conv2");
                    y = LoadNorm(y, block.Bn2, what + " bn2");
                    string shortcut = input;
                    if (block.ShortcutConv is not null)
                    {
                        var sc = Single(input, "Conv", n => Kernel(n).SequenceEqual([1L, 1L]));
                        shortcut = LoadConv(sc, block.ShortcutConv, what + " shortcut conv");
                        shortcut = LoadNorm(shortcut, block.ShortcutNorm!, what + " shortcut bn");
                    }
                    else if (_consumers.GetValueOrDefault(input, []).Any(n => n.OpType == "Conv" && Kernel(n).SequenceEqual([1L, 1L])))
                        throw Fail($"{what}: the graph has a projection shortcut where the module has none");
                    var add = Single(y, "Add");
                    if (!add.Inputs.Contains(shortcut)) throw Fail($"{what}: the residual Add does not take the block's shortcut");
                    x = Single(add.Outputs[0], "Relu").Outputs[0];
                }
            }
            var pool = _consumers.GetValueOrDefault(x, []);
            if (pool.Count != 1 || pool[0].OpType is not ("AveragePool" or "GlobalAveragePool"))
                throw Fail("the last block is not followed by average pooling");
        }
    }
}
