using System.Text;
using System.Text.Json;
using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Regions;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiLevelHashing.Training;

/// <summary>What a checkpoint holds besides tensors.</summary>
/// <param name="Config">The run's configuration.</param>
/// <param name="EpochsDone">Epochs finished when it was written.</param>
/// <param name="OptimizerStep">Optimizer steps taken.</param>
/// <param name="History">Loss and mAP history so far.</param>
/// <param name="BackboneStored">False when the backbone is the unchanged ImageNet ResNet18 (heads-only training), which loading takes from the weights package.</param>
/// <param name="Selection">The dataset-level selection of local bits stored with the model (lib/MultiLevelHashing/README.md section 2.7), or null.</param>
public sealed record CheckpointInfo(TrainingConfig Config, int EpochsDone, long OptimizerStep, TrainingHistory History, bool BackboneStored,
    SelectedLocalBits? Selection = null)
{
    /// <summary>
    /// Names of the landmarks the model was trained on, so that a benchmark can refuse to score it on them
    /// (<see cref="TrainingOverlap"/>); null in checkpoints written before it was recorded.
    /// </summary>
    public IReadOnlyList<string>? TrainingLandmarks { get; init; }

    /// <summary>
    /// The PCA-sign region coder stored with the model by <c>mlh regions</c> (lib/MultiLevelHashing/README.md section
    /// 2.3; its projection is in the tensors <see cref="Checkpoint.RegionWeight"/> and <see cref="Checkpoint.RegionBias"/>),
    /// or null: checkpoints written before it was stored, or without one, load as before.
    /// </summary>
    public RegionCoderInfo? RegionCoder { get; init; }
}

/// <summary>
/// DSCNN training checkpoints: one file with a magic, a format version, a JSON header (configuration, progress,
/// history), the model's and the optimizer's tensors (<see cref="TensorSerializer"/>), and a SHA-256 of the payload
/// (<see cref="ChecksummedFile"/>). Written atomically (temporary file, then rename). Reading checks all of it and names the file and the problem when it is not a
/// checkpoint, has another format version, is truncated or damaged, or does not fit the model.
/// </summary>
public static class Checkpoint
{
    /// <summary>Version of the file layout this build writes and reads.</summary>
    public const int FormatVersion = 1;

    private static readonly byte[] Magic = "MLHCKPT\0"u8.ToArray();

    /// <summary>
    /// Writes a checkpoint of <paramref name="model"/> (and <paramref name="optimizer"/>) to <paramref name="path"/>.
    /// A region coder that <c>mlh regions</c> stored in the file being replaced is kept when it was fitted on exactly
    /// this model's backbone (lib/MultiLevelHashing/README.md section 2.3: it codes backbone maps, so training only the
    /// heads leaves it valid) and dropped otherwise; the bit selection is always dropped, since it depends on the local
    /// head that training changes.
    /// </summary>
    public static void Save(string path, TrainingConfig config, DscnnModel model, HashOptimizer? optimizer, int epochsDone, TrainingHistory history,
        IReadOnlyList<string>? trainingLandmarks = null)
    {
        bool backboneStored = config.StoresBackbone;
        var info = new CheckpointInfo(config, epochsDone, optimizer?.Step ?? 0, history, backboneStored) { TrainingLandmarks = trainingLandmarks };
        var tensors = new List<(string, Tensor)>();
        foreach (var (name, t) in model.state_dict())
            if (backboneStored || !name.StartsWith("backbone.", StringComparison.Ordinal)) tensors.Add(("model." + name, t));
        if (optimizer is not null)
            foreach (var (name, t) in optimizer.State()) tensors.Add(("optimizer." + name, t));
        using var replaced = ReadReplaced(path);
        if (replaced?.Info.RegionCoder is { } coder && SameBackbone(replaced, model, backboneStored) &&
            replaced.Tensors.TryGetValue(RegionWeight, out var weight) && replaced.Tensors.TryGetValue(RegionBias, out var bias))
        {
            info = info with { RegionCoder = coder };
            tensors.Add((RegionWeight, weight));
            tensors.Add((RegionBias, bias));
        }
        Write(path, info, tensors);
    }

    /// <summary>
    /// The description of the region coder stored in the checkpoint at <paramref name="path"/>, or null when there is no
    /// file, it stores none, or it cannot be read; for reporting what a command that rewrites the file kept.
    /// </summary>
    public static RegionCoderInfo? StoredRegionCoder(string path)
    {
        using var contents = ReadReplaced(path);
        return contents?.Info.RegionCoder;
    }

    // The checkpoint a save is about to replace, or null when there is none or it cannot be read (it is replaced either way).
    private static Contents? ReadReplaced(string path)
    {
        if (!File.Exists(path)) return null;
        try { return Read(path); }
        catch (UserInputException) { return null; }
    }

    // Whether the replaced checkpoint's backbone is exactly the model's: both the unchanged ImageNet weights (not stored),
    // or both stored with equal tensors.
    private static bool SameBackbone(Contents replaced, DscnnModel model, bool backboneStored)
    {
        if (replaced.Info.BackboneStored != backboneStored) return false;
        if (!backboneStored) return true;
        foreach (var (name, t) in model.state_dict())
        {
            if (!name.StartsWith("backbone.", StringComparison.Ordinal)) continue;
            if (!replaced.Tensors.TryGetValue("model." + name, out var stored) || !stored.shape.SequenceEqual(t.shape)) return false;
            using var here = t.detach().cpu();
            using var same = here.eq(stored).all();
            if (!same.item<bool>()) return false;
        }
        return true;
    }

    /// <summary>
    /// Stores <paramref name="selection"/> in the checkpoint at <paramref name="path"/> (rewritten atomically, tensors
    /// unchanged), so that searches with the model use it without a separate file.
    /// </summary>
    public static void SaveSelection(string path, SelectedLocalBits selection)
    {
        using var contents = Read(path);
        if (selection.LocalBits != contents.Info.Config.LocalBits)
            throw UserInputException.InFile(path, $"the selection is for {selection.LocalBits} local bits, the checkpoint's model has {contents.Info.Config.LocalBits}");
        Write(path, contents.Info with { Selection = selection }, [.. contents.Tensors.Select(kv => (kv.Key, kv.Value))]);
    }

    /// <summary>Tensor name of the stored region coder's weight (B x C).</summary>
    public const string RegionWeight = "regions.weight";

    /// <summary>Tensor name of the stored region coder's bias (B).</summary>
    public const string RegionBias = "regions.bias";

    /// <summary>
    /// Stores the PCA-sign region coder <paramref name="coder"/> (lib/MultiLevelHashing/README.md section 2.3) in the
    /// checkpoint at <paramref name="path"/> (rewritten atomically; the model, optimizer and bit selection unchanged;
    /// a coder stored before is replaced), so that <c>mlh index --regions</c> and <c>mlh query --regions</c> code
    /// images with exactly the same projection.
    /// </summary>
    public static void SaveRegionCoder(string path, RegionHashHead coder, RegionCoderInfo info)
    {
        if (info.Bits != coder.Bits || info.Channels != coder.Channels)
            throw new ArgumentException($"the description says {info.Bits} bits from {info.Channels} channels, the coder has {coder.Bits} from {coder.Channels}", nameof(info));
        using var contents = Read(path);
        using var weight = coder.Weight.detach().cpu().to(ScalarType.Float32).clone();
        using var bias = coder.Bias.detach().cpu().to(ScalarType.Float32).clone();
        var tensors = contents.Tensors.Where(kv => kv.Key is not (RegionWeight or RegionBias)).Select(kv => (kv.Key, kv.Value)).ToList();
        tensors.Add((RegionWeight, weight));
        tensors.Add((RegionBias, bias));
        Write(path, contents.Info with { RegionCoder = info }, tensors);
    }

    /// <summary>
    /// The region coder stored in the checkpoint at <paramref name="path"/> with its description, or null when it has
    /// none (run <c>mlh regions</c>). A stored coder whose tensors do not match its description names the file.
    /// </summary>
    public static (RegionHashHead Coder, RegionCoderInfo Info)? LoadRegionCoder(string path)
    {
        using var contents = Read(path);
        if (contents.Info.RegionCoder is not { } info) return null;
        if (!contents.Tensors.TryGetValue(RegionWeight, out var weight) || !contents.Tensors.TryGetValue(RegionBias, out var bias))
            throw UserInputException.InFile(path, "the checkpoint describes a region coder but lacks its tensors; run mlh regions again");
        if (info.Bits <= 0 || info.Bits % 8 != 0 || info.Bits > BitPacking.MaxBits || info.Channels <= 0 ||
            !weight.shape.SequenceEqual([info.Bits, info.Channels]) || !bias.shape.SequenceEqual([info.Bits]))
            throw UserInputException.InFile(path, $"the stored region coder's tensors ([{string.Join(",", weight.shape)}], [{string.Join(",", bias.shape)}]) " +
                                                  $"do not match its {info.Bits} bits from {info.Channels} channels");
        var coder = new RegionHashHead(info.Channels, info.Bits);
        coder.SetProjection(weight, bias);
        coder.eval();
        return (coder, info);
    }

    /// <summary>
    /// <see cref="LoadRegionCoder"/> for the commands that need one: a checkpoint without a stored coder is refused,
    /// naming the file and the command that stores one.
    /// </summary>
    public static (RegionHashHead Coder, RegionCoderInfo Info) RequireRegionCoder(string path) =>
        LoadRegionCoder(path)
        ?? throw UserInputException.InFile(path, "the checkpoint stores no region coder; run mlh regions --checkpoint C --dataset D first");

    private static void Write(string path, CheckpointInfo info, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        ChecksummedFile.Write(path, Magic, FormatVersion, w =>
        {
            w.Write(JsonSerializer.Serialize(info, TrainingConfig.JsonOptions));
            w.Write(tensors.Count);
            foreach (var (name, t) in tensors)
            {
                w.Write(name);
                TensorSerializer.Write(w, t);
            }
        });
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
        byte[] payload = ChecksummedFile.ReadPayload(path, Magic, FormatVersion, "DSCNN checkpoint");
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var r = new BinaryReader(new MemoryStream(payload), Encoding.UTF8);
            var info = JsonSerializer.Deserialize<CheckpointInfo>(r.ReadString(), TrainingConfig.JsonOptions)
                       ?? throw new InvalidDataException("empty header");
            int count = r.ReadInt32();
            for (int i = 0; i < count; i++)
            {
                string name = r.ReadString();
                var t = TensorSerializer.Read(r);
                tensors[name] = t.DetachFromDisposeScope();
            }
            return new Contents(info, tensors, path);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not UserInputException)
        {
            // The payload passed its checksum, so this is a file written by something else (or crafted): any parse failure names it.
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
