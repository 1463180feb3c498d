using MultiLevelHashing.Model;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Model;

/// <summary>Small labelled image sets for training tests: each class is a colour and stripe pattern plus noise.</summary>
internal static class SyntheticImages
{
    public static (TensorImageSource Images, int[] Labels) Create(int classes, int perClass, int size, int seed)
    {
        var gen = new Generator((ulong)seed);
        var labels = new int[classes * perClass];
        using var scope = NewDisposeScope();
        var batch = new List<Tensor>();
        var ys = arange(size, dtype: ScalarType.Float32).reshape(1, size, 1);
        var xs = arange(size, dtype: ScalarType.Float32).reshape(1, 1, size);
        for (int c = 0; c < classes; c++)
        {
            var colour = rand(new long[] { 3, 1, 1 }, generator: gen) * 200;
            double freq = 0.2 + 0.15 * c;
            var stripes = (xs * freq + ys * (0.1 * (c % 3))).sin() * 40;
            for (int k = 0; k < perClass; k++)
            {
                labels[c * perClass + k] = c;
                var noise = randn(new long[] { 3, size, size }, generator: gen) * 25;
                batch.Add((colour + stripes + noise).clamp(0, 255));
            }
        }
        var all = stack(batch);
        return (new TensorImageSource(all, $"synthetic-{classes}-{perClass}-{size}-{seed}"), labels);
    }
}
