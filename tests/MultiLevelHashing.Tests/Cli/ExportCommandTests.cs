using System.CommandLine;
using System.Diagnostics;
using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Cli.Commands;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;
using static TorchSharp.torch;

namespace MultiLevelHashing.Tests.Cli;

/// <summary><c>mlh export</c>, and the exported weights in PyTorch when <c>/usr/bin/python3</c> has it.</summary>
[Collection(ConsoleCommandCollection.Name)]
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "mlh-export-" + Guid.NewGuid().ToString("N"));

    public ExportCommandTests() => Directory.CreateDirectory(_work);

    public void Dispose()
    {
        if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true);
    }

    private static Task<int> Invoke(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(ExportCommand.Create());
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    /// <summary>A checkpoint of the ResNet18 DSCNN with random weights everywhere (backbone stored), at 96 px.</summary>
    private string ResNetCheckpoint()
    {
        var config = TrainingConfig.Full with { ImageSize = 96, Freeze = FreezePolicy.Layer4AndHeads };
        using var model = DscnnFactory.Create(config.Architecture, 5, pretrainedBackbone: false);
        DscnnFactory.Initialize(model, seed: 5, includeBackbone: true);
        string path = Path.Combine(_work, "resnet.ckpt");
        Checkpoint.Save(path, config, model, null, 0, new TrainingHistory());
        return path;
    }

    [Fact]
    public async Task ExportedWeightsLoadIntoTheSameModel()
    {
        string checkpoint = ResNetCheckpoint();
        string output = Path.Combine(_work, "model.safetensors");
        Assert.Equal(0, await Invoke("export", "--checkpoint", checkpoint, "--output", output));

        var (fromCheckpoint, info) = Checkpoint.LoadModel(checkpoint);
        using var _ = fromCheckpoint;
        var (fromExport, exported) = StateDictFile.LoadModel(output);
        using var __ = fromExport;
        Assert.Equal(info.Config.Architecture, exported.Architecture);
        Assert.Equal(96, exported.ImageSize);
        var a = fromCheckpoint.state_dict();
        foreach (var (name, tensor) in fromExport.state_dict())
            Assert.True(tensor.shape.SequenceEqual(a[name].shape) && tensor.equal(a[name]).all().item<bool>(), name);
    }

    [SkippableFact]
    public async Task PyTorchGivesTheSameCodesFromTheExportedWeights()
    {
        const string python = "/usr/bin/python3";
        string script = RepositoryLayout.PyTorchBenchmarkScript(RepositoryLayout.FindRoot());
        var (check, _) = Run(python, script, "--mode", "check");
        Skip.If(check != 0, $"{python} has no PyTorch (as root: {PyTorchBenchmark.InstallCommand})");

        string weights = Path.Combine(_work, "model.pt");
        Assert.Equal(0, await Invoke("export", "--checkpoint", ResNetCheckpoint(), "--output", weights));
        var (model, info) = StateDictFile.LoadModel(weights);
        using var _ = model;
        int size = info.ImageSize, n = 3;
        var pixels = new byte[n * 3 * size * size];
        new Random(7).NextBytes(pixels);
        string input = Path.Combine(_work, "pixels.npy");
        NpyFile.WriteUInt8(input, new Array2D<byte>(n, 3 * size * size, pixels));
        string prefix = Path.Combine(_work, "py");
        var (code, stderr) = Run(python, script, "--mode", "infer", "--weights", weights, "--input", input, "--size", size.ToString(),
            "--batch", "2", "--repeats", "0", "--threads", "1", "--codes-out", prefix);
        Assert.True(code == 0, stderr);

        using var batch = tensor(pixels, new long[] { n, 3, size, size }).to_type(ScalarType.Float32);
        using var ours = DscnnEncoder.Encode(model, batch, batchSize: 2);
        var global = PyTorchComparison.Compare(ours.GlobalReal, NpyFile.ReadFloat32(prefix + ".global.npy").Data);
        var local = PyTorchComparison.Compare(ours.LocalReal, NpyFile.ReadFloat32(prefix + ".local.npy").Data);
        Assert.True(global.MaxAbsDifference < 1e-4, $"global codes differ by {global.MaxAbsDifference}");
        Assert.True(local.MaxAbsDifference < 1e-4, $"local codes differ by {local.MaxAbsDifference}");
        // A bit may only flip where u is within float32 noise of 0.
        Assert.True(global.BitsDiffering == 0 || global.MaxAbsAtDifferingBit < 1e-4);
        Assert.True(local.BitsDiffering == 0 || local.MaxAbsAtDifferingBit < 1e-4);
    }

    private static (int Code, string Stderr) Run(string program, params string[] args)
    {
        if (!File.Exists(program)) return (-1, $"{program} not found");
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stderr.Result);
    }
}
