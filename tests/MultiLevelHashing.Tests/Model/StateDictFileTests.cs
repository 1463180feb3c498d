using System.Buffers.Binary;
using System.IO.Compression;
using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Model;

/// <summary>PyTorch state_dict export and import (safetensors and torch.save pickles) of the DSCNN.</summary>
public sealed class StateDictFileTests : IDisposable
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "mlh-statedict-" + Guid.NewGuid().ToString("N"));

    public StateDictFileTests() => Directory.CreateDirectory(_work);

    public void Dispose()
    {
        if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true);
    }

    private static readonly DscnnArchitecture ResNet = TrainingConfig.Full.Architecture;

    /// <summary>A ResNet18 DSCNN with every tensor random (batch-norm statistics included), so nothing matches by accident.</summary>
    private static DscnnModel RandomResNet(int seed)
    {
        var model = DscnnFactory.Create(ResNet, seed, pretrainedBackbone: false);
        DscnnFactory.Initialize(model, seed, includeBackbone: true);
        using var noGrad = no_grad();
        var generator = new Generator((ulong)seed + 17);
        foreach (var (name, tensor) in model.state_dict())
        {
            if (!tensor.is_floating_point()) { tensor.fill_(seed + 5); continue; }
            if (name.EndsWith("running_var", StringComparison.Ordinal)) tensor.copy_(rand(tensor.shape, generator: generator) + 0.5);
            else if (name.Contains("bn", StringComparison.Ordinal) || name.EndsWith("mean_image", StringComparison.Ordinal))
                tensor.copy_(randn(tensor.shape, generator: generator));
        }
        generator.Dispose();
        return model;
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("model.pt")]
    public void ExportThenImportRestoresEveryTensorExactly(string fileName)
    {
        string path = Path.Combine(_work, fileName);
        using var original = RandomResNet(seed: 11);
        StateDictFile.Save(original, ResNet, 160, path);
        Assert.True(File.Exists(StateDictFile.InfoPath(path)));

        using var other = RandomResNet(seed: 12);
        StateDictFile.Load(path, other);
        var expected = original.state_dict();
        var actual = other.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
        {
            Assert.Equal(tensor.dtype, actual[name].dtype);
            Assert.Equal(tensor.shape, actual[name].shape);
            Assert.True(tensor.equal(actual[name]).all().item<bool>(), $"{name} differs after the round trip");
        }
        // The exported names are PyTorch's for the same module tree.
        Assert.Contains("backbone.layer4.2.conv2.weight", expected.Keys);
        Assert.Contains("backbone.layer2.0.downsample_conv.weight", expected.Keys);
        Assert.Contains("backbone.mean_image", expected.Keys);
        Assert.Contains("global_head.fc.weight", expected.Keys);
        Assert.Contains("local_head.conv.bias", expected.Keys);
    }

    [Fact]
    public void PtEntriesAreStoredUncompressedAsTorchSaveStoresThem()
    {
        string path = Path.Combine(_work, "stored.pt");
        var small = TrainingConfig.Smoke.Architecture;
        using (var model = DscnnFactory.Create(small, seed: 3, pretrainedBackbone: false))
            StateDictFile.Save(model, small, 64, path);
        byte[] zip = File.ReadAllBytes(path);

        // The zip format by hand: end of central directory -> central headers -> local headers; method 0 is "stored".
        int end = zip.Length - 22;
        while (end >= 0 && BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end)) != 0x06054b50) end--;
        Assert.True(end >= 0, "no end-of-central-directory record");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(end + 10));
        int central = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end + 16));
        var names = new List<string>();
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(0x02014b50u, BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(central)));
            int method = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(central + 10));
            uint compressed = BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(central + 20));
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(central + 24));
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(central + 28));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(central + 30));
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(central + 32));
            int local = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(central + 42));
            string name = System.Text.Encoding.UTF8.GetString(zip, central + 46, nameLength);
            names.Add(name);
            Assert.True(method == 0, $"{name}: central directory says method {method}, not stored");
            Assert.Equal(size, compressed);
            Assert.Equal(0x04034b50u, BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(local)));
            Assert.True(BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(local + 8)) == 0, $"{name}: local header is not stored");
            central += 46 + nameLength + extraLength + commentLength;
        }
        Assert.Contains(names, n => n.EndsWith("data.pkl", StringComparison.Ordinal));
        Assert.Contains(names, n => n.Contains("/data/", StringComparison.Ordinal));

        using (var archive = ZipFile.OpenRead(path))
        {
            Assert.Equal(count, archive.Entries.Count);
            Assert.All(archive.Entries, e => Assert.Equal(e.Length, e.CompressedLength));
        }

        // And it still reads back.
        using var other = DscnnFactory.Create(small, seed: 9, pretrainedBackbone: false);
        StateDictFile.Load(path, other);
    }

    [Fact]
    public void LoadModelRebuildsTheArchitectureAndGivesTheSameCodes()
    {
        var small = TrainingConfig.Smoke.Architecture with { GlobalBits = 32, LocalBits = 48, Pooling = FeaturePooling.GeM };
        using var original = DscnnFactory.Create(small, seed: 4, pretrainedBackbone: false);
        string path = Path.Combine(_work, "small.safetensors");
        StateDictFile.Save(original, small, 64, path);

        var (loaded, info) = StateDictFile.LoadModel(path);
        using var _ = loaded;
        Assert.Equal(small, info.Architecture);
        Assert.Equal(64, info.ImageSize);
        using var images = rand(new long[] { 3, 3, 64, 64 }, generator: new Generator(9)) * 255;
        using var a = DscnnEncoder.Encode(original, images);
        using var b = DscnnEncoder.Encode(loaded, images);
        Assert.Equal(a.GlobalReal, b.GlobalReal);
        Assert.Equal(a.LocalReal, b.LocalReal);
    }

    [Fact]
    public void MismatchedFilesAreErrorsNamingTheFile()
    {
        using var model = RandomResNet(seed: 1);
        string path = Path.Combine(_work, "resnet.safetensors");
        StateDictFile.Save(model, ResNet, 160, path);

        // Another code length: the global head's shape differs.
        using var otherBits = DscnnFactory.Create(ResNet with { GlobalBits = 32 }, 0, pretrainedBackbone: false);
        var e = Assert.Throws<UserInputException>(() => StateDictFile.Load(path, otherBits));
        Assert.Contains(path, e.Message);
        Assert.Contains("global_head.fc.weight", e.Message);

        // Another backbone: tensors missing.
        using var smallCnn = DscnnFactory.Create(TrainingConfig.Smoke.Architecture, 0, pretrainedBackbone: false);
        e = Assert.Throws<UserInputException>(() => StateDictFile.Load(path, smallCnn));
        Assert.Contains(path, e.Message);

        // A damaged file.
        string broken = Path.Combine(_work, "broken.safetensors");
        File.WriteAllBytes(broken, [1, 2, 3]);
        e = Assert.Throws<UserInputException>(() => StateDictFile.Load(broken, model));
        Assert.Contains(broken, e.Message);

        // An unknown extension.
        e = Assert.Throws<UserInputException>(() => StateDictFile.Save(model, ResNet, 160, Path.Combine(_work, "model.onnx")));
        Assert.Contains("model.onnx", e.Message);
    }
}
