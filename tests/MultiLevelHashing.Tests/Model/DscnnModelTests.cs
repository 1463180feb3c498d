using System.Diagnostics;
using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Search;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Model;

public class DscnnModelTests
{
    [Fact]
    public void ForwardReturnsBothCodesMapsAndFeatures()
    {
        manual_seed(0);
        using var model = new DscnnModel(new SmallCnnBackbone(32), globalBits: 16, localBits: 24);
        model.eval();
        using var x = rand(3, 3, 64, 96) * 255;
        using var noGrad = no_grad();
        using var o = model.forward(x);
        Assert.Equal(new long[] { 3, 16 }, o.GlobalCodes.shape);
        Assert.Equal(new long[] { 3, 24 }, o.LocalCodes.shape);
        Assert.Equal(new long[] { 3, 24, 4, 6 }, o.LocalMaps.shape);
        Assert.Equal(new long[] { 3, 32, 4, 6 }, o.Features.shape);
        // u_g = tanh(W GAP(F) + b), u_l = spatial max of U = tanh(1x1 conv(F)), recomputed independently.
        using var gap = o.Features.mean([2, 3]);
        using var ug = (gap.matmul(model.GlobalHead.Weight.t()) + model.GlobalHead.Bias).tanh();
        Assert.True(ug.allclose(o.GlobalCodes, rtol: 1e-5, atol: 1e-6));
        using var ul = o.LocalMaps.amax([2, 3]);
        Assert.True(ul.allclose(o.LocalCodes, rtol: 0, atol: 0));
        Assert.True(o.GlobalCodes.abs().max().item<float>() < 1f);
    }

    [Fact]
    public void EncoderPacksSignBitsLsbFirst()
    {
        manual_seed(1);
        using var model = new DscnnModel(new SmallCnnBackbone(16), globalBits: 16, localBits: 8);
        using var x = rand(5, 3, 32, 32) * 255;
        using var codes = DscnnEncoder.Encode(model, x, batchSize: 2, includeMaps: true);
        Assert.Equal(5, codes.Count);
        Assert.Equal(5, codes.LocalMaps!.Count);
        Assert.Equal(8 * 2 * 2, codes.LocalMaps[0].Length);
        for (int i = 0; i < 5; i++)
        {
            var bytes = codes.Global.CodeBytes(i);
            for (int j = 0; j < 16; j++)
                Assert.Equal(codes.GlobalReal[i * 16 + j] > 0, ((bytes[j / 8] >> (j % 8)) & 1) == 1);
        }
        // Batching does not change the result (beyond float rounding of batch-size-dependent kernels).
        using var single = DscnnEncoder.Encode(model, x, batchSize: 5);
        Assert.All(single.GlobalReal.Zip(codes.GlobalReal), p => Assert.Equal(p.First, p.Second, 1e-5));
    }
}

/// <summary>Process-wide memory is only meaningful when nothing else runs in the test process.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementCollection
{
    public const string Name = "memory measurement";
}

[Collection(MemoryMeasurementCollection.Name)]
public class EncoderMemoryTests
{
    [Fact]
    public void EncodingManyBatchesKeepsProcessMemoryFlat()
    {
        manual_seed(2);
        using var model = new DscnnModel(new SmallCnnBackbone(64), globalBits: 64, localBits: 256);
        var (images, _) = SyntheticImages.Create(classes: 4, perClass: 16, size: 96, seed: 3);
        using var _images = images;
        long Rss() { using var p = Process.GetCurrentProcess(); p.Refresh(); return p.WorkingSet64; }
        // Warm-up: allocator pools and caches fill here.
        for (int i = 0; i < 5; i++) DscnnEncoder.Encode(model, images, 96, batchSize: 16).Dispose();
        GC.Collect(); GC.WaitForPendingFinalizers();
        long before = Rss();
        int batches = 0;
        for (int i = 0; i < 40; i++)
        {
            using var codes = DscnnEncoder.Encode(model, images, 96, batchSize: 16, includeMaps: i % 2 == 0);
            batches += 4;
        }
        GC.Collect(); GC.WaitForPendingFinalizers();
        long growth = Rss() - before;
        // 160 batches; leaking only the inputs would cost 160 x 16 x 3 x 96 x 96 x 4 B = 283 MB.
        Assert.Equal(160, batches);
        Assert.True(growth < 40L << 20, $"process memory grew by {growth >> 20} MiB over {batches} batches");
    }
}
