using MultiLevelHashing.Tests.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Model.Onnx;
using MultiLevelHashing.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Model;

/// <summary>Shares one imported backbone across the tests of a class (importing takes about 2 s).</summary>
public sealed class ImageNetBackboneFixture : IDisposable
{
    public ResNet18Backbone Backbone { get; } = ResNet18Weights.LoadImageNet();
    public void Dispose() => Backbone.Dispose();
}

public class ResNet18ImportTests(ImageNetBackboneFixture fixture, ITestOutputHelper output) : IClassFixture<ImageNetBackboneFixture>
{
    /// <summary>ONNX Runtime's 512-D feature of a 224 x 224 RGB [0, 255] image: ResNetPreprocess.onnx then ResNet18.onnx.</summary>
    private static float[] OnnxRuntimeFeature(float[] rgb224)
    {
        using var prep = new InferenceSession(ResNet18Weights.PreprocessPath);
        using var net = new InferenceSession(ResNet18Weights.ModelPath);
        var input = new DenseTensor<float>(rgb224, [1, 3, 224, 224]);
        using var pre = prep.Run([NamedOnnxValue.CreateFromTensor(prep.InputMetadata.Keys.Single(), input)]);
        var preprocessed = pre.First().AsTensor<float>();
        using var feat = net.Run([NamedOnnxValue.CreateFromTensor(net.InputMetadata.Keys.Single(), preprocessed)]);
        return feat.First().AsTensor<float>().ToArray();
    }

    private static IEnumerable<(string Name, float[] Pixels)> TestImages()
    {
        // A smooth synthetic image (always available) and the repository's real photos.
        var synthetic = new float[3 * 224 * 224];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 224; y++)
                for (int x = 0; x < 224; x++)
                    synthetic[(c * 224 + y) * 224 + x] = (float)(127.5 + 120 * Math.Sin(0.05 * x * (c + 1) + 0.03 * y));
        yield return ("synthetic", synthetic);
        // Real photos of different kinds: a building, an animal, a street scene.
        string photos = Path.Combine(TestPaths.RepositoryRoot, "data", "photos");
        foreach (var item in BackboneParity.Photos(new[] { "building.jpg", "chelsea.jpg", "leuven-a.jpg" }.Select(f => Path.Combine(photos, f))))
            yield return item;
    }

    [Fact]
    public void FeaturesMatchOnnxRuntimeBelow1e4()
    {
        var rows = BackboneParity.Compare(fixture.Backbone, OnnxRuntimeFeature, TestImages());
        Assert.Equal(4, rows.Count);
        foreach (var row in rows)
        {
            output.WriteLine($"{row.Image}: max |ours - onnxruntime| = {row.MaxAbsDifference:E2} (max |feature| {row.MaxAbsFeature:F3})");
            Assert.True(row.MaxAbsDifference < 1e-4, $"{row.Image}: max abs diff {row.MaxAbsDifference}");
            Assert.True(row.MaxAbsFeature > 0.1); // a real, non-degenerate feature
        }
    }

    [Fact]
    public void IsFullyConvolutional()
    {
        using var noGrad = no_grad();
        using var a = full(new long[] { 2, 3, 224, 224 }, 100f);
        using var fa = fixture.Backbone.forward(a);
        Assert.Equal(new long[] { 2, 512, 7, 7 }, fa.shape);
        using var b = full(new long[] { 1, 3, 160, 264 }, 100f);
        using var fb = fixture.Backbone.forward(b);
        Assert.Equal(new long[] { 1, 512, 5, 9 }, fb.shape);
    }

    [Fact]
    public void DamagedModelFileNamesTheFile()
    {
        string dir = TestPaths.NewTempDirectory("dscnn");
        string path = Path.Combine(dir, "broken.onnx");
        var bytes = File.ReadAllBytes(ResNet18Weights.PreprocessPath);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<UserInputException>(() => OnnxModelReader.Read(path));
        Assert.Contains(path, e.Message);
        var missing = Assert.Throws<UserInputException>(() => ResNet18Weights.LoadImageNet(Path.Combine(dir, "none.onnx")));
        Assert.Contains("none.onnx", missing.Message);
        // A model of another architecture is refused with a structural message, not loaded partially.
        var wrong = Assert.Throws<UserInputException>(() => ResNet18Weights.LoadImageNet(ResNet18Weights.PreprocessPath));
        Assert.Contains("unexpected ResNet18 graph", wrong.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void MissingWeightsNameThePackageAndHowToRestoreIt()
    {
        string missing = Path.Combine(TestPaths.NewTempDirectory("no-weights"), ResNet18Weights.ModelRelativePath);
        var e = Assert.Throws<UserInputException>(() => ResNet18Weights.LoadImageNet(missing));
        Assert.Contains(missing, e.Message);
        Assert.Contains(ResNet18Weights.PackageId, e.Message);
        Assert.Contains("dotnet build Research.sln", e.Message);
    }

    [Fact]
    public void TheBuildCopiedTheWeightsIntoThisOutput()
    {
        // The weights reach every build output from the package (build/ResNet18Weights.targets), cold cache or not.
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, ResNet18Weights.ModelRelativePath)));
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, ResNet18Weights.PreprocessRelativePath)));
    }
}
