using System.Collections;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using MultiLevelHashing.Model.Backbones;
using MultiLevelHashing.Runtime;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MultiLevelHashing.Model;

/// <summary>The shape of an exported DSCNN, written beside its weights so that either side can rebuild the network.</summary>
/// <param name="Format">Always <see cref="StateDictFile.FormatName"/>.</param>
/// <param name="Architecture">Backbone, code lengths, pooling and descriptor normalisation.</param>
/// <param name="ImageSize">Side of the square input the model was trained at.</param>
public sealed record ExportedModelInfo(string Format, DscnnArchitecture Architecture, int ImageSize);

/// <summary>
/// A DSCNN as a PyTorch state_dict (lib/MultiLevelHashing/README.md section 1.5): <c>.safetensors</c> or a
/// <c>torch.save</c> pickle (<c>.pt</c>, <c>.pth</c>), read and written by TorchSharp.PyBridge, with the architecture in a
/// JSON file beside it (<c>model.safetensors</c> gets <c>model.json</c>). Parameter and buffer names are TorchSharp's
/// state_dict names, which are PyTorch's for a module tree with the same attribute names
/// (<c>backbone.layer4.2.conv1.weight</c>, <c>global_head.fc.weight</c>, ...).
/// </summary>
public static class StateDictFile
{
    /// <summary>The <see cref="ExportedModelInfo.Format"/> value of files this version writes.</summary>
    public const string FormatName = "mlh-dscnn-state-dict/1";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The architecture file that goes with <paramref name="weightsPath"/>.</summary>
    public static string InfoPath(string weightsPath) => Path.ChangeExtension(weightsPath, ".json");

    /// <summary>
    /// Writes every parameter and buffer of <paramref name="model"/> (float32 on the CPU, as stored) to
    /// <paramref name="path"/> in the format its extension names, and the architecture to <see cref="InfoPath"/>; both atomically.
    /// </summary>
    public static void Save(DscnnModel model, DscnnArchitecture architecture, int imageSize, string path)
    {
        var format = FormatOf(path);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in model.state_dict())
            state[name] = tensor.detach().cpu().contiguous();
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        AtomicFile.Write(path, stream =>
        {
            if (format == WeightsFormat.Safetensors) Safetensors.SaveStateDict(stream, state, leaveOpen: true);
            else WritePickle(stream, state);
        });
        AtomicFile.WriteAllText(InfoPath(path), JsonSerializer.Serialize(new ExportedModelInfo(FormatName, architecture, imageSize), Json) + "\n");
    }

    /// <summary>
    /// Writes <paramref name="state"/> as a <c>torch.save</c> zip whose entries are stored uncompressed, as torch.save stores
    /// them (<c>torch.load(mmap=True)</c> maps the tensor records in place and refuses compressed ones). PyBridge's pickler
    /// deflates its entries, so its archive is copied entry by entry, in order, into a stored one.
    /// </summary>
    private static void WritePickle(Stream destination, Dictionary<string, Tensor> state)
    {
        using var deflated = new MemoryStream();
        PyTorchPickler.PickleStateDict(deflated, new Hashtable(state), leaveOpen: true);
        deflated.Position = 0;
        using var stored = new MemoryStream();
        using (var source = new ZipArchive(deflated, ZipArchiveMode.Read, leaveOpen: true))
        using (var target = new ZipArchive(stored, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                var copy = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression);
                copy.LastWriteTime = entry.LastWriteTime;
                using var from = entry.Open();
                using var to = copy.Open();
                from.CopyTo(to);
            }
        }
        stored.Position = 0;
        stored.CopyTo(destination);
    }

    /// <summary>Reads the architecture file of <paramref name="weightsPath"/>.</summary>
    public static ExportedModelInfo ReadInfo(string weightsPath)
    {
        string infoPath = InfoPath(weightsPath);
        if (!File.Exists(infoPath)) throw UserInputException.InFile(infoPath, $"architecture file of {Path.GetFileName(weightsPath)} not found (mlh export writes both)");
        ExportedModelInfo? info;
        try
        {
            info = JsonSerializer.Deserialize<ExportedModelInfo>(File.ReadAllText(infoPath), Json);
        }
        catch (JsonException e)
        {
            throw UserInputException.InFile(infoPath, $"not a valid architecture file ({e.Message})");
        }
        if (info is null || info.Format != FormatName)
            throw UserInputException.InFile(infoPath, $"format '{info?.Format}' is not {FormatName}");
        return info;
    }

    /// <summary>
    /// Copies the tensors of the state_dict file <paramref name="path"/> into <paramref name="model"/>. Every parameter and
    /// buffer of the model must be present with its shape and element type, and the file may hold nothing else.
    /// </summary>
    public static void Load(string path, DscnnModel model)
    {
        var loaded = Read(path);
        try
        {
            using var noGrad = no_grad();
            var state = model.state_dict();
            foreach (var (name, target) in state)
            {
                if (!loaded.TryGetValue(name, out var source))
                    throw UserInputException.InFile(path, $"state_dict lacks '{name}' (exported from another architecture?)");
                if (!source.shape.SequenceEqual(target.shape))
                    throw UserInputException.InFile(path, $"'{name}' has shape [{string.Join(",", source.shape)}], the model expects [{string.Join(",", target.shape)}]");
                if (source.dtype != target.dtype)
                    throw UserInputException.InFile(path, $"'{name}' is {source.dtype}, the model expects {target.dtype}");
                target.copy_(source);
            }
            var extra = loaded.Keys.Where(k => !state.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
            if (extra.Count > 0)
                throw UserInputException.InFile(path, $"state_dict has {extra.Count} tensor(s) the model does not: {string.Join(", ", extra.Take(5))}");
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    /// <summary>Builds the model that the architecture file of <paramref name="path"/> describes and loads its weights.</summary>
    public static (DscnnModel Model, ExportedModelInfo Info) LoadModel(string path, Device? device = null)
    {
        var info = ReadInfo(path);
        // Every tensor comes from the file, so the ImageNet weights package is not needed.
        var model = DscnnFactory.Create(info.Architecture, seed: 0, pretrainedBackbone: false);
        try
        {
            Load(path, model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        if (device is not null) model.to(device);
        return (model, info);
    }

    /// <summary>The name-to-tensor map stored in <paramref name="path"/>.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        var format = FormatOf(path);
        if (!File.Exists(path)) throw UserInputException.InFile(path, "weights file not found");
        try
        {
            if (format == WeightsFormat.Safetensors) return Safetensors.LoadStateDict(path);
            var table = PyTorchUnpickler.UnpickleStateDict(path);
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (DictionaryEntry entry in table)
            {
                if (entry.Key is not string name || entry.Value is not Tensor tensor)
                    throw UserInputException.InFile(path, $"entry '{entry.Key}' is not a named tensor; expected a state_dict saved with torch.save(model.state_dict())");
                result[name] = tensor;
            }
            return result;
        }
        catch (UserInputException) { throw; }
        catch (Exception e) when (e is InvalidDataException or IOException or JsonException or NotImplementedException
                                       or ArgumentException or InvalidCastException or NotSupportedException
                                       or Razorvine.Pickle.PickleException or EndOfStreamException or KeyNotFoundException)
        {
            throw UserInputException.InFile(path, $"not a readable {(format == WeightsFormat.Safetensors ? "safetensors" : "PyTorch state_dict")} file ({e.GetType().Name}: {e.Message})");
        }
    }

    private enum WeightsFormat { Safetensors, Pickle }

    private static WeightsFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".safetensors" => WeightsFormat.Safetensors,
        ".pt" or ".pth" => WeightsFormat.Pickle,
        var other => throw new UserInputException($"{path}: unknown weights format '{other}'; use .safetensors, .pt or .pth"),
    };
}
