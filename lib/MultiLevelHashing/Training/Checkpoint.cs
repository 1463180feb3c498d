using MultiLevelHashing.Torch;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiLevelHashing.Training;

/// <summary>What a checkpoint holds besides tensors.</summary>
/// <param name="Config">The run's configuration.</param>
/// <param name="EpochsDone">Epochs finished when it was written.</param>
/// <param name="OptimizerStep">Optimizer steps taken.</param>
/// <param name="History">Loss and mAP history so far.</param>
/// <param name="BackboneStored">False when the backbone is the unchanged ImageNet ResNet18 (heads-only training), which loading takes from the weights package.</param>
public sealed record CheckpointInfo(TrainingConfig Config, int EpochsDone, long OptimizerStep, TrainingHistory History, bool BackboneStored);

/// <summary>
/// DSCNN training checkpoints: one file with a magic, a format version, a JSON header (configuration, progress,
/// history), the model's and the optimizer's tensors, and a SHA-256 of everything before it. Written atomically
/// (temporary file, then rename). Reading checks all of it and names the file and the problem when it is not a
/// checkpoint, has another format version, is truncated or damaged, or does not fit the model.
/// </summary>
public static class Checkpoint
{
    /// <summary>Version of the file layout this build writes and reads.</summary>
    public const int FormatVersion = 1;

    private static readonly byte[] Magic = "MLHCKPT\0"u8.ToArray();
    private const byte Float32 = 1, Int64 = 2;

    /// <summary>Writes a checkpoint of <paramref name="model"/> (and <paramref name="optimizer"/>) to <paramref name="path"/>.</summary>
    public static void Save(string path, TrainingConfig config, DscnnModel model, HashOptimizer? optimizer, int epochsDone, TrainingHistory history)
    {
        bool backboneStored = !(config.Backbone == BackboneKind.ResNet18 && config.Freeze == FreezePolicy.HeadsOnly);
        var info = new CheckpointInfo(config, epochsDone, optimizer?.Step ?? 0, history, backboneStored);
        var tensors = new List<(string, Tensor)>();
        foreach (var (name, t) in model.state_dict())
            if (backboneStored || !name.StartsWith("backbone.", StringComparison.Ordinal)) tensors.Add(("model." + name, t));
        if (optimizer is not null)
            foreach (var (name, t) in optimizer.State()) tensors.Add(("optimizer." + name, t));

        using var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(JsonSerializer.Serialize(info, TrainingConfig.JsonOptions));
            w.Write(tensors.Count);
            foreach (var (name, t) in tensors) WriteTensor(w, name, t);
        }
        byte[] body = payload.ToArray();
        byte[] hash = SHA256.HashData(body);

        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.tmp-{Environment.ProcessId}";
        using (var f = new FileStream(temp, FileMode.Create, FileAccess.Write))
        using (var w = new BinaryWriter(f))
        {
            w.Write(Magic);
            w.Write(FormatVersion);
            w.Write((long)body.Length);
            w.Write(body);
            w.Write(hash);
            w.Flush();
            f.Flush(flushToDisk: true);
        }
        File.Move(temp, full, overwrite: true);
    }

    private static void WriteTensor(BinaryWriter w, string name, Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        w.Write(name);
        byte kind = c.dtype switch
        {
            ScalarType.Float32 => Float32,
            ScalarType.Int64 => Int64,
            _ => throw new NotSupportedException($"tensor '{name}' has type {c.dtype}"),
        };
        w.Write(kind);
        w.Write((byte)c.ndim);
        foreach (long d in c.shape) w.Write(d);
        if (kind == Float32) w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(c.data<float>().ToArray().AsSpan()));
        else w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(c.data<long>().ToArray().AsSpan()));
    }

    /// <summary>A verified checkpoint: its header and tensors (CPU). Dispose to free the tensors.</summary>
    public sealed class Contents(CheckpointInfo info, Dictionary<string, Tensor> tensors, string path) : IDisposable
    {
        /// <summary>Header.</summary>
        public CheckpointInfo Info { get; } = info;

        /// <summary>Tensors by name ("model.*", "optimizer.*").</summary>
        public IReadOnlyDictionary<string, Tensor> Tensors { get; } = tensors;

        /// <summary>File it came from.</summary>
        public string Path { get; } = path;

        /// <inheritdoc />
        public void Dispose()
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Reads and verifies <paramref name="path"/>; problems raise <see cref="UserInputException"/> naming the file.</summary>
    public static Contents Read(string path)
    {
        if (!File.Exists(path)) throw UserInputException.InFile(path, "checkpoint not found");
        byte[] all = File.ReadAllBytes(path);
        int header = Magic.Length + 4 + 8;
        if (all.Length < header || !all.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw UserInputException.InFile(path, "not a DSCNN checkpoint (bad magic)");
        int version = BitConverter.ToInt32(all, Magic.Length);
        if (version != FormatVersion)
            throw UserInputException.InFile(path, $"checkpoint format version {version}; this build reads version {FormatVersion}");
        long length = BitConverter.ToInt64(all, Magic.Length + 4);
        if (length < 0 || header + length + 32 != all.Length)
            throw UserInputException.InFile(path, $"truncated or damaged checkpoint (header says {length} payload bytes, file has {all.Length - header - 32})");
        var body = all.AsSpan(header, (int)length);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(all.AsSpan(header + (int)length, 32)))
            throw UserInputException.InFile(path, "damaged checkpoint (SHA-256 checksum mismatch)");

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var r = new BinaryReader(new MemoryStream(all, header, (int)length), Encoding.UTF8);
            var info = JsonSerializer.Deserialize<CheckpointInfo>(r.ReadString(), TrainingConfig.JsonOptions)
                       ?? throw new InvalidDataException("empty header");
            int count = r.ReadInt32();
            for (int i = 0; i < count; i++)
            {
                string name = r.ReadString();
                byte kind = r.ReadByte();
                int ndim = r.ReadByte();
                var shape = new long[ndim];
                for (int d = 0; d < ndim; d++) shape[d] = r.ReadInt64();
                long n = shape.Aggregate(1L, (a, b) => a * b);
                Tensor t = kind switch
                {
                    Float32 => tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(r.ReadBytes(checked((int)n * 4))).ToArray(), shape),
                    Int64 => tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(r.ReadBytes(checked((int)n * 8))).ToArray(), shape),
                    _ => throw new InvalidDataException($"tensor '{name}' has unknown type code {kind}"),
                };
                tensors[name] = t.DetachFromDisposeScope();
            }
            return new Contents(info, tensors, path);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or EndOfStreamException or ArgumentException or NotSupportedException)
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw UserInputException.InFile(path, $"unreadable checkpoint contents ({e.Message})");
        }
    }

    /// <summary>Reads only the header of a verified checkpoint.</summary>
    public static CheckpointInfo ReadInfo(string path)
    {
        using var c = Read(path);
        return c.Info;
    }

    /// <summary>Copies the model tensors of <paramref name="contents"/> into <paramref name="model"/>; every tensor must match by name and shape.</summary>
    public static void LoadModel(Contents contents, DscnnModel model)
    {
        using var noGrad = no_grad();
        var state = model.state_dict();
        var expected = state.Where(kv => contents.Info.BackboneStored || !kv.Key.StartsWith("backbone.", StringComparison.Ordinal)).ToList();
        foreach (var (name, target) in expected)
        {
            if (!contents.Tensors.TryGetValue("model." + name, out var source))
                throw UserInputException.InFile(contents.Path, $"checkpoint lacks model tensor '{name}' (built for another architecture?)");
            if (!source.shape.SequenceEqual(target.shape))
                throw UserInputException.InFile(contents.Path, $"model tensor '{name}' has shape [{string.Join(",", source.shape)}], the model expects [{string.Join(",", target.shape)}]");
            target.copy_(source);
        }
        int extra = contents.Tensors.Keys.Count(k => k.StartsWith("model.", StringComparison.Ordinal)) - expected.Count;
        if (extra != 0)
            throw UserInputException.InFile(contents.Path, $"checkpoint has {extra} model tensors the model does not have (built for another architecture?)");
    }

    /// <summary>Restores the optimizer state of <paramref name="contents"/>.</summary>
    public static void LoadOptimizer(Contents contents, HashOptimizer optimizer)
    {
        var state = contents.Tensors.Where(kv => kv.Key.StartsWith("optimizer.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["optimizer.".Length..], kv => kv.Value);
        try
        {
            optimizer.LoadState(state, contents.Info.OptimizerStep);
        }
        catch (InvalidDataException e)
        {
            throw UserInputException.InFile(contents.Path, $"{e.Message} (checkpoint written with another optimizer or freeze policy?)");
        }
    }

    /// <summary>Builds the model a checkpoint describes and loads its weights (ResNet18 backbones not stored come from the weights package).</summary>
    public static (DscnnModel Model, CheckpointInfo Info) LoadModel(string path, Device? device = null)
    {
        using var contents = Read(path);
        var model = DscnnFactory.Create(contents.Info.Config.Architecture, contents.Info.Config.Seed, pretrainedBackbone: !contents.Info.BackboneStored);
        LoadModel(contents, model);
        model.eval();
        if (device is not null) model.to(device);
        return (model, contents.Info);
    }
}
