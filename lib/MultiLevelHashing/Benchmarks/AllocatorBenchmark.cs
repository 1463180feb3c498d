using MultiLevelHashing.Torch;
using System.Diagnostics;
using MultiLevelHashing.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiLevelHashing.Benchmarks;

/// <summary>
/// The workload behind <c>mlh bench allocator</c>: training steps of a small convolutional network on
/// random images, the allocation pattern of DSCNN training (activations of hundreds of KiB to MiB per step).
/// The allocator setting must be chosen before LibTorch allocates, so each setting runs in its own process.
/// </summary>
public static class AllocatorBenchmark
{
    /// <summary>Runs <paramref name="warmup"/> + <paramref name="steps"/> training steps; returns images per second over the timed steps.</summary>
    public static double TrainingImagesPerSecond(int steps, int warmup, int batch, int imageSize, long seed = 0)
    {
        var device = TorchDevice.Default();
        torch.manual_seed(seed);
        using var model = Sequential(
            Conv2d(3, 32, 3, padding: 1), BatchNorm2d(32), ReLU(), MaxPool2d(2),
            Conv2d(32, 64, 3, padding: 1), BatchNorm2d(64), ReLU(), MaxPool2d(2),
            Conv2d(64, 128, 3, padding: 1), BatchNorm2d(128), ReLU(), MaxPool2d(2),
            Conv2d(128, 256, 3, padding: 1), BatchNorm2d(256), ReLU(),
            AdaptiveAvgPool2d(1), Flatten(), Linear(256, 64), Tanh());
        model.to(device);
        using var optimizer = optim.Adam(model.parameters(), 1e-3);
        var clock = new Stopwatch();
        for (int step = 0; step < warmup + steps; step++)
        {
            if (step == warmup) clock.Start();
            using var scope = NewDisposeScope();
            var images = randn(batch, 3, imageSize, imageSize, device: device);
            var target = randn(batch, 64, device: device).sign();
            optimizer.zero_grad();
            var loss = (model.call(images) - target).pow(2).mean();
            loss.backward();
            optimizer.step();
        }
        clock.Stop();
        return steps * batch / clock.Elapsed.TotalSeconds;
    }
}
