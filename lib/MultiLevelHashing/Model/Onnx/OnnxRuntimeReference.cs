using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Model.Onnx;

/// <summary>
/// The original ONNX graphs of the ImageNet weights package run by ONNX Runtime: <c>ResNetPreprocess.onnx</c>
/// (RGB to BGR, mean image) then <c>ResNet18.onnx</c> (pooled 512-D feature). The independent reference that the
/// TorchSharp import of the backbone is checked against (lib/MultiLevelHashing/README.md section 2.1); never on the
/// encoding path.
/// </summary>
public sealed class OnnxRuntimeReference : IDisposable
{
    private readonly InferenceSession _preprocess;
    private readonly InferenceSession _network;

    /// <summary>Opens the two graphs; defaults are the package's models in the build output.</summary>
    public OnnxRuntimeReference(string? modelPath = null, string? preprocessPath = null)
    {
        _preprocess = Open(preprocessPath ?? ResNet18Weights.PreprocessPath);
        _network = Open(modelPath ?? ResNet18Weights.ModelPath);
    }

    private static InferenceSession Open(string path)
    {
        if (!File.Exists(path)) throw ResNet18Weights.MissingWeights(path);
        try
        {
            return new InferenceSession(path);
        }
        catch (OnnxRuntimeException e)
        {
            throw UserInputException.InFile(path, $"ONNX Runtime cannot open the model: {e.Message}");
        }
    }

    /// <summary>The 512-D pooled feature of one 224 x 224 planar RGB image in [0, 255].</summary>
    public float[] PooledFeature(float[] rgb224)
    {
        if (rgb224.Length != 3 * 224 * 224)
            throw new ArgumentException($"expected 3 x 224 x 224 = {3 * 224 * 224} values, got {rgb224.Length}", nameof(rgb224));
        var input = new DenseTensor<float>(rgb224, [1, 3, 224, 224]);
        using var pre = _preprocess.Run([NamedOnnxValue.CreateFromTensor(_preprocess.InputMetadata.Keys.Single(), input)]);
        using var feature = _network.Run([NamedOnnxValue.CreateFromTensor(_network.InputMetadata.Keys.Single(), pre.First().AsTensor<float>())]);
        return feature.First().AsTensor<float>().ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _preprocess.Dispose();
        _network.Dispose();
    }
}
