using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MultiLevelHashing.Model;
using MultiLevelHashing.Model.Backbones;

namespace MultiLevelHashing.Training;

/// <summary>Which parameters the siamese training updates.</summary>
public enum FreezePolicy
{
    /// <summary>Only the global and local hash heads; the backbone's maps F are computed once and cached.</summary>
    HeadsOnly,
    /// <summary>The backbone's last stage (ResNet18 layer4) and the heads.</summary>
    Layer4AndHeads,
    /// <summary>Everything.</summary>
    All,
}

/// <summary>
/// Everything that defines a DSCNN training run (lib/MultiLevelHashing/README.md section 2.5). Defaults are the <see cref="Full"/> preset's;
/// override with <c>with</c>. The seed fixes the head initialisation, the pair sampling and so the result.
/// </summary>
public sealed record TrainingConfig
{
    /// <summary>Seed of initialisation and pair sampling.</summary>
    public int Seed { get; init; } = 0;

    /// <summary>Backbone: ImageNet ResNet18 (default) or the small CNN.</summary>
    public BackboneKind Backbone { get; init; } = BackboneKind.ResNet18;

    /// <summary>Output channels of the small CNN (ignored for ResNet18).</summary>
    public int SmallCnnChannels { get; init; } = 64;

    /// <summary>Images are resized to ImageSize x ImageSize. 160 keeps ResNet18 feature extraction fast on CPU (F is 5 x 5).</summary>
    public int ImageSize { get; init; } = 160;

    /// <summary>Global code length Kg (paper: 16 to 128; 64 by default).</summary>
    public int GlobalBits { get; init; } = 64;

    /// <summary>Local code length Kl (256 by default).</summary>
    public int LocalBits { get; init; } = 256;

    /// <summary>Pooling of the global head.</summary>
    public FeaturePooling Pooling { get; init; } = FeaturePooling.Gap;

    /// <summary>
    /// L2-normalise the pooled descriptor before the global head's linear layer (as float retrieval descriptors
    /// and the LSH baseline are); without it, image-level activation strength leaks into every bit.
    /// </summary>
    public bool NormalizeGlobalDescriptor { get; init; } = true;

    /// <summary>The network this configuration trains: backbone, code lengths, pooling.</summary>
    [JsonIgnore]
    public DscnnArchitecture Architecture => new(Backbone, GlobalBits, LocalBits, Pooling, NormalizeGlobalDescriptor, SmallCnnChannels);

    /// <summary>
    /// How the global head starts: <see cref="GlobalHeadInit.LearnedWhitening"/> (default) fits a supervised whitening
    /// on the training descriptors, which puts the code above random projections before any siamese step. The
    /// cross-validated comparison of the starts is the candidate table of notebook 04
    /// (<c>notebooks/04-choosing-training-settings.ipynb</c>; <c>mlh reproduce --mode full --only 04</c> runs it).
    /// </summary>
    public GlobalHeadInit HeadInit { get; init; } = GlobalHeadInit.LearnedWhitening;

    /// <summary>
    /// Shrinkage lambda of the learned whitening's within-landmark scatter towards the identity (see
    /// <see cref="LearnedWhitening"/>). 3: the best of the settings cross-validated in notebook 04
    /// (<c>notebooks/04-choosing-training-settings.ipynb</c>), by less than the spread.
    /// </summary>
    public double WhiteningShrinkage { get; init; } = 3.0;

    /// <summary>Weight alpha of the quantization term.</summary>
    public double Alpha { get; init; } = 0.01;

    /// <summary>Weight beta of the local level: L = L_g + beta L_l.</summary>
    public double Beta { get; init; } = 0.25;

    /// <summary>
    /// Weight gamma of the global code's bit-independence term over each batch's images (<see cref="DshLoss.BitIndependence"/>);
    /// 0 turns it off. Without it the code collapses onto the training landmarks; notebook 04
    /// (<c>notebooks/04-choosing-training-settings.ipynb</c>) measures what it is worth in validation mAP.
    /// </summary>
    public double Gamma { get; init; } = 10;

    /// <summary>Margin per bit: m = MarginPerBit x K (2 gives the DSH form m = 2K).</summary>
    public double MarginPerBit { get; init; } = 2.0;

    /// <summary>Which parameters train.</summary>
    public FreezePolicy Freeze { get; init; } = FreezePolicy.HeadsOnly;

    /// <summary>Cache the backbone's maps F when only the heads train (computed once, keyed by a hash of what determines them).</summary>
    public bool CacheFeatures { get; init; } = true;

    // The three decisions that follow from Freeze, made here only, so that training, validation, checkpoints and
    // experiments agree on them.

    /// <summary>True when training updates any backbone parameter (<see cref="Freeze"/> is not heads-only).</summary>
    [JsonIgnore]
    public bool BackboneTrains => Freeze != FreezePolicy.HeadsOnly;

    /// <summary>True when the backbone's maps F are computed once and reused: the backbone is frozen and caching is on.</summary>
    [JsonIgnore]
    public bool UsesCachedMaps => !BackboneTrains && CacheFeatures;

    /// <summary>
    /// True when a checkpoint must store the backbone's weights: anything but the unchanged ImageNet ResNet18, which
    /// loading takes from the weights package instead (a 45 MB saving per checkpoint).
    /// </summary>
    [JsonIgnore]
    public bool StoresBackbone => !(Backbone == BackboneKind.ResNet18 && !BackboneTrains);

    /// <summary>Optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Base learning rate (3e-4: gentle enough to keep what the learned-whitening start already gets right).</summary>
    public double LearningRate { get; init; } = 3e-4;

    /// <summary>
    /// Weight decay (decoupled for Adam). Strong (0.05) because the heads see few landmarks and must generalise to
    /// unseen ones.
    /// </summary>
    public double WeightDecay { get; init; } = 0.05;

    /// <summary>Momentum (SGD only).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Learning-rate schedule.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Cosine;

    /// <summary>Epochs (12; the per-epoch validation curve of notebook 03 shows where it levels off).</summary>
    public int Epochs { get; init; } = 12;

    /// <summary>Pairs drawn per epoch.</summary>
    public int PairsPerEpoch { get; init; } = 4096;

    /// <summary>Pairs per optimisation step.</summary>
    public int BatchPairs { get; init; } = 64;

    /// <summary>Fraction of positive pairs.</summary>
    public double PositiveFraction { get; init; } = 0.5;

    /// <summary>
    /// Hard-negative mining: each negative is the closest (current global codes, Euclidean) of this many random
    /// candidates; 1 (default) turns mining off (notebook 04 compares the two).
    /// </summary>
    public int NegativeCandidates { get; init; } = 1;

    /// <summary>Images per forward batch when computing features or codes.</summary>
    public int InferenceBatch { get; init; } = 16;

    /// <summary>Compute the validation mAP of the global code after every epoch.</summary>
    public bool ValidateEachEpoch { get; init; } = true;

    /// <summary>
    /// Smoke preset: the small CNN trained end to end at 64 x 64 for 3 short epochs; seconds on 2 cores.
    /// For tests, notebooks in smoke mode and checking a setup.
    /// </summary>
    public static TrainingConfig Smoke => new()
    {
        Backbone = BackboneKind.SmallCnn,
        SmallCnnChannels = 64,
        ImageSize = 64,
        Freeze = FreezePolicy.All,
        CacheFeatures = false,
        Epochs = 3,
        PairsPerEpoch = 256,
        BatchPairs = 32,
        LearningRate = 3e-3,
        WeightDecay = 1e-4,
    };

    /// <summary>
    /// Full preset: ImageNet ResNet18 at 160 x 160, heads only on cached maps F, global head started from learned
    /// whitening, 12 epochs of 4096 pairs with the bit-independence term. About a minute per seed on 2 cores for
    /// full mini-landmarks once the maps are cached.
    /// </summary>
    public static TrainingConfig Full => new();

    /// <summary>A preset by name ("smoke" or "full", any case).</summary>
    public static TrainingConfig Preset(string name) => name.ToLowerInvariant() switch
    {
        "smoke" => Smoke,
        "full" => Full,
        _ => throw new ArgumentException($"unknown preset '{name}' (known: smoke, full)"),
    };

    /// <summary>Checks ranges; throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public TrainingConfig Validate()
    {
        void Check(bool ok, string field, string why) { if (!ok) throw new ArgumentException($"{field}: {why}"); }
        Check(ImageSize >= 32, nameof(ImageSize), "must be at least 32");
        Check(GlobalBits >= 8 && GlobalBits % 8 == 0 && GlobalBits <= 1024, nameof(GlobalBits), "a multiple of 8 in [8, 1024]");
        Check(LocalBits >= 8 && LocalBits % 8 == 0 && LocalBits <= 1024, nameof(LocalBits), "a multiple of 8 in [8, 1024]");
        Check(Alpha >= 0, nameof(Alpha), "must be >= 0");
        Check(Gamma >= 0, nameof(Gamma), "must be >= 0");
        Check(Beta >= 0, nameof(Beta), "must be >= 0");
        Check(MarginPerBit > 0, nameof(MarginPerBit), "must be > 0");
        Check(LearningRate > 0, nameof(LearningRate), "must be > 0");
        Check(Epochs >= 1, nameof(Epochs), "must be >= 1");
        Check(PairsPerEpoch >= 1, nameof(PairsPerEpoch), "must be >= 1");
        Check(BatchPairs >= 1, nameof(BatchPairs), "must be >= 1");
        Check(PositiveFraction is >= 0 and <= 1, nameof(PositiveFraction), "must be in [0, 1]");
        Check(NegativeCandidates >= 1, nameof(NegativeCandidates), "must be >= 1");
        Check(WhiteningShrinkage >= 0, nameof(WhiteningShrinkage), "must be >= 0");
        Check(HeadInit != GlobalHeadInit.LearnedWhitening || Backbone != BackboneKind.SmallCnn || GlobalBits <= SmallCnnChannels,
            nameof(GlobalBits), "learned whitening keeps at most as many directions as the backbone has channels");
        Check(InferenceBatch >= 1, nameof(InferenceBatch), "must be >= 1");
        Check(SmallCnnChannels >= 1, nameof(SmallCnnChannels), "must be >= 1");
        return this;
    }

    /// <summary>Serializer settings: enums as names, unknown keys rejected.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The configuration as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Parses JSON written by <see cref="ToJson"/>; unknown keys fail.</summary>
    public static TrainingConfig FromJson(string json) =>
        JsonSerializer.Deserialize<TrainingConfig>(json, JsonOptions) ?? throw new JsonException("empty configuration");

    /// <summary>
    /// This configuration with settings overridden by name (<c>Gamma=0</c>, <c>HeadInit=Centered</c>; names are matched
    /// without regard to case; values are numbers in invariant culture, true/false, or enum names, any case). Unknown
    /// names and values that do not fit the setting's type throw <see cref="ArgumentException"/> naming the setting;
    /// the result is validated.
    /// </summary>
    public TrainingConfig WithOverrides(IEnumerable<(string Name, string Value)> overrides)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(ToJson())!.AsObject();
        var properties = typeof(TrainingConfig).GetProperties().Where(p => json.ContainsKey(p.Name)).ToList();
        foreach (var (name, value) in overrides)
        {
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"unknown setting '{name}' (known: {string.Join(", ", properties.Select(p => p.Name))})");
            string text = value.Trim();
            var type = property.PropertyType;
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            json[property.Name] = type switch
            {
                _ when type.IsEnum => Enum.TryParse(type, text, ignoreCase: true, out var e) && Enum.IsDefined(type, e!)
                    ? System.Text.Json.Nodes.JsonValue.Create(e!.ToString())
                    : throw new ArgumentException($"{property.Name}: '{text}' is not one of {string.Join(", ", Enum.GetNames(type))}"),
                _ when type == typeof(bool) => bool.TryParse(text, out bool v)
                    ? System.Text.Json.Nodes.JsonValue.Create(v) : throw new ArgumentException($"{property.Name}: '{text}' is not true or false"),
                _ when type == typeof(int) => int.TryParse(text, System.Globalization.NumberStyles.Integer, inv, out int v)
                    ? System.Text.Json.Nodes.JsonValue.Create(v) : throw new ArgumentException($"{property.Name}: '{text}' is not an integer"),
                _ when type == typeof(double) => double.TryParse(text, System.Globalization.NumberStyles.Float, inv, out double v)
                    ? System.Text.Json.Nodes.JsonValue.Create(v) : throw new ArgumentException($"{property.Name}: '{text}' is not a number"),
                _ => throw new ArgumentException($"{property.Name}: cannot be overridden by name"),
            };
        }
        return FromJson(json.ToJsonString()).Validate();
    }

    /// <summary>First 16 hex digits of the SHA-256 of <see cref="ToJson"/>; recorded with results and checkpoints.</summary>
    public string Hash() => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ToJson())))[..16].ToLowerInvariant();

    /// <summary>Hash of only what determines the backbone's maps F (backbone, image size), the feature-cache key.</summary>
    public string FeatureHash() => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
        $"{Backbone}|{SmallCnnChannels}|{ImageSize}|{(Backbone == BackboneKind.SmallCnn ? Seed : 0)}")))[..16].ToLowerInvariant();
}
