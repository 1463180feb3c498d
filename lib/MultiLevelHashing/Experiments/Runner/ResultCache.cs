using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Experiments.Runner;

/// <summary>
/// Experiment results cached as JSON in checksummed files (<see cref="ChecksummedFile"/>: magic, version, SHA-256,
/// written atomically), one per <c>kind-key.json</c>, so that notebooks which need the same study (the bit-selection
/// cross-validation behind notebooks 06, 07 and 09) compute it once per code version (lib/MultiLevelHashing/README.md
/// section 1.7). A damaged or unreadable entry is recomputed and replaced: a cache loses nothing by being wrong.
/// </summary>
public sealed class ResultCache
{
    /// <summary>Version of the file layout.</summary>
    public const int FormatVersion = 1;

    // The magic predates the class name; kept so that the file format stays the one already written.
    private static readonly byte[] Magic = "MLHARTEF"u8.ToArray();

    /// <summary>How results are written: enums by name, doubles that may be NaN allowed.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The cache folder, or null for none (every call computes).</summary>
    public string? Directory { get; }

    /// <summary>A cache in <paramref name="directory"/> (null: no caching).</summary>
    public ResultCache(string? directory) => Directory = directory;

    /// <summary>The cache in <see cref="RepositoryLayout.ResultCacheDirectory"/>.</summary>
    public static ResultCache Default() => new(RepositoryLayout.ResultCacheDirectory());

    /// <summary>Where the result of <paramref name="kind"/> and <paramref name="key"/> lives, or null without a folder.</summary>
    public string? PathOf(string kind, string key) => Directory is null ? null : System.IO.Path.Combine(Directory, $"{kind}-{key}.json");

    /// <summary>The cached result, or <paramref name="compute"/>'s result, which is then stored.</summary>
    public T GetOrCompute<T>(string kind, string key, Func<T> compute)
    {
        string? path = PathOf(kind, key);
        if (path is not null && TryRead<T>(path) is { } hit) return hit;
        var value = compute();
        if (path is not null)
        {
            System.IO.Directory.CreateDirectory(Directory!);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(value, JsonOptions);
            ChecksummedFile.Write(path, Magic, FormatVersion, w => w.Write(json));
        }
        return value;
    }

    /// <summary>The result stored at <paramref name="path"/>, or default when it is missing, damaged or of another shape.</summary>
    public static T? TryRead<T>(string path)
    {
        if (!File.Exists(path)) return default;
        try
        {
            byte[] payload = ChecksummedFile.ReadPayload(path, Magic, FormatVersion, "cached experiment result");
            return JsonSerializer.Deserialize<T>(payload, JsonOptions);
        }
        catch (Exception e) when (e is UserInputException or JsonException or NotSupportedException)
        {
            return default;
        }
    }
}
