using MultiLevelHashing.Data;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Model.Onnx;
using MultiLevelHashing.Runtime;
using static TorchSharp.torch;

namespace MultiLevelHashing.Experiments;

/// <summary>One image of a parity check.</summary>
/// <param name="Image">File name.</param>
/// <param name="MaxAbsDifference">max_i |ours_i - reference_i| over the 512 features.</param>
/// <param name="MaxAbsFeature">max_i |reference_i|, for scale.</param>
public sealed record ParityRow(string Image, double MaxAbsDifference, double MaxAbsFeature);

/// <summary>
/// Checks the imported ImageNet backbone (lib/MultiLevelHashing/README.md section 2.1) against a reference
/// implementation of the original ONNX graphs: both get the same 224 x 224 RGB [0, 255] pixels, the 512-D pooled
/// features are compared. <see cref="CompareWithOnnxRuntime"/> uses ONNX Runtime (<see cref="OnnxRuntimeReference"/>).
/// </summary>
public static class BackboneParity
{
    /// <summary>
    /// The embedded photos notebook 02 compares in a run mode: three in smoke mode, eight of different content and size in full mode.
    /// </summary>
    public static IReadOnlyList<string> PhotoNames(RunMode mode) => mode == RunMode.Full
        ? ["building.jpg", "chelsea.jpg", "leuven-a.jpg", "graf1.jpg", "astronaut.jpg", "coffee.jpg", "giraffe.jpg", "scream.jpg"]
        : ["building.jpg", "chelsea.jpg", "leuven-a.jpg"];

    /// <summary>Photos resized to 224 x 224 as planar RGB in [0, 255] (the input of ResNetPreprocess.onnx).</summary>
    public static IEnumerable<(string Name, float[] Pixels)> Photos(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            var chw = ImageLoader.LoadChw(path, resize: ImageResize.Exact(224, 224));
            yield return (Path.GetFileName(path), chw.Data.Select(v => v * 255f).ToArray());
        }
    }

    /// <summary>Compares <paramref name="backbone"/>'s pooled features with <paramref name="reference"/>'s on each image.</summary>
    public static IReadOnlyList<ParityRow> Compare(ResNet18Backbone backbone, Func<float[], float[]> reference,
        IEnumerable<(string Name, float[] Pixels)> images)
    {
        var rows = new List<ParityRow>();
        using var noGrad = no_grad();
        foreach (var (name, pixels) in images)
        {
            var expected = reference(pixels);
            float[] actual;
            using (var scope = NewDisposeScope())
                actual = backbone.PooledFeatures(tensor(pixels, 1, 3, 224, 224)).data<float>().ToArray();
            if (expected.Length != actual.Length) throw new InvalidOperationException($"{name}: reference gives {expected.Length} features, the backbone {actual.Length}");
            double diff = 0, scale = 0;
            for (int i = 0; i < actual.Length; i++)
            {
                diff = Math.Max(diff, Math.Abs(actual[i] - expected[i]));
                scale = Math.Max(scale, Math.Abs(expected[i]));
            }
            rows.Add(new ParityRow(name, diff, scale));
        }
        return rows;
    }

    /// <summary>Photos of <paramref name="folder"/> by file name, compared with ONNX Runtime running the package's original graphs.</summary>
    public static IReadOnlyList<ParityRow> CompareWithOnnxRuntime(ResNet18Backbone backbone, string folder, IEnumerable<string> fileNames)
    {
        using var reference = new OnnxRuntimeReference();
        return Compare(backbone, reference.PooledFeature, Photos(fileNames.Select(n => Path.Combine(folder, n))));
    }
}
