using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Data.MiniLandmarks;

/// <summary>
/// Settings of the generated mini-landmarks benchmark, a small stand-in for Oxford5k/Paris6k that needs no download
/// (the paper's evaluation protocol, lib/MultiLevelHashing/README.md section 3.4, applied to views synthesised from real photos).
/// Use <see cref="Smoke"/>, <see cref="Full"/> or <see cref="Large"/> and override with <c>with</c>.
/// </summary>
public sealed record MiniLandmarksConfig
{
    /// <summary>Preset name; also the output folder under <c>data/generated/mini-landmarks/</c>.</summary>
    public string Name { get; init; } = "smoke";

    /// <summary>Seed of every random choice; the same seed gives byte-identical files.</summary>
    public long Seed { get; init; } = 2016;

    /// <summary>Landmarks (photo scenes) to use, train and test together; 0 = every scene not reserved for distractors.</summary>
    public int LandmarkCount { get; init; } = 12;

    /// <summary>Scenes kept out of the landmarks so that distractors and backgrounds come from photos no landmark uses.</summary>
    public int ReservedScenes { get; init; } = 6;

    /// <summary>Fraction of landmarks that go to the training split; the rest are test landmarks (disjoint).</summary>
    public double TrainFraction { get; init; } = 0.5;

    /// <summary>Views rendered per landmark (both splits).</summary>
    public int ViewsPerLandmark { get; init; } = 6;

    /// <summary>Queries per test landmark; each is an extra clear view, in the database and cropped to its box.</summary>
    public int QueriesPerLandmark { get; init; } = 1;

    /// <summary>Distractor images in the database (views of reserved photos).</summary>
    public int DistractorCount { get; init; } = 12;

    /// <summary>Longer side of every generated image, in pixels.</summary>
    public int ViewSize { get; init; } = 160;

    /// <summary>Probability that a view is composited onto a background photo (clutter) rather than a plain blurred backdrop.</summary>
    public double ClutterProbability { get; init; } = 0.85;

    /// <summary>Probability that a view gets 1-3 occluders.</summary>
    public double OccluderProbability { get; init; } = 0.5;

    /// <summary>Probability of a Gaussian blur.</summary>
    public double BlurProbability { get; init; } = 0.3;

    /// <summary>Probability of additive Gaussian noise.</summary>
    public double NoiseProbability { get; init; } = 0.4;

    /// <summary>Largest perspective tilt (fraction by which one side shrinks).</summary>
    public double MaxTilt { get; init; } = 0.3;

    /// <summary>Lowest JPEG quality.</summary>
    public int JpegQualityMin { get; init; } = 55;

    /// <summary>Highest JPEG quality.</summary>
    public int JpegQualityMax { get; init; } = 95;

    /// <summary>Visible fraction from which a view is "good" (Oxford: a clear picture of the object).</summary>
    public double GoodVisibility { get; init; } = 0.6;

    /// <summary>Visible fraction from which a view is "ok" (Oxford: more than 25% of the object clearly visible); below it, "junk".</summary>
    public double OkVisibility { get; init; } = 0.25;

    /// <summary>A good view must also cover at least this fraction of the image; smaller ones are "ok".</summary>
    public double GoodMinArea { get; init; } = 0.08;

    /// <summary>
    /// Subfolder of the photo folder whose own <c>photos.tsv</c> adds photos to the main catalog (the <see cref="Large"/>
    /// preset's <c>large/</c>), or null for the main catalog alone. Left out of <see cref="ToJson"/> when null, so the
    /// settings, and with them the files, of the presets that do not use it stay as they were.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ExtraPhotoFolder { get; init; }

    /// <summary>Smoke preset: 12 landmarks (6 train, 6 test), 6 views each, 160 px; a few seconds on 2 cores.</summary>
    public static MiniLandmarksConfig Smoke { get; } = new();

    /// <summary>Full preset: every available scene, 16 views per landmark, 3 queries per test landmark, 200 distractors, 320 px.</summary>
    public static MiniLandmarksConfig Full { get; } = new()
    {
        Name = "full", LandmarkCount = 0, ViewsPerLandmark = 16, QueriesPerLandmark = 3, DistractorCount = 200, ViewSize = 320,
    };

    /// <summary>
    /// Large preset: the main photos plus the 135 of <c>data/photos/large/</c> (180 landmark scenes), 12 reserved scenes,
    /// every other scene a landmark (84 train, 84 test), 12 views per landmark, 3 queries per test landmark (252), 400
    /// distractors, 320 px: a benchmark whose seed spread is small enough to compare methods (lib/MultiLevelHashing/README.md section 3.4).
    /// </summary>
    public static MiniLandmarksConfig Large { get; } = new()
    {
        Name = "large", ExtraPhotoFolder = "large", LandmarkCount = 0, ReservedScenes = 12, ViewsPerLandmark = 12, QueriesPerLandmark = 3,
        DistractorCount = 400, ViewSize = 320,
    };

    /// <summary>The preset named <paramref name="name"/> (smoke, full or large).</summary>
    /// <exception cref="UserInputException">Unknown name.</exception>
    public static MiniLandmarksConfig Preset(string name) => name.ToLowerInvariant() switch
    {
        "smoke" => Smoke,
        "full" => Full,
        "large" => Large,
        _ => throw new UserInputException($"unknown mini-landmarks preset '{name}' (expected smoke, full or large)"),
    };

    /// <summary>The preset of a run mode: <see cref="Smoke"/> or <see cref="Full"/>.</summary>
    public static MiniLandmarksConfig ForMode(RunMode mode) => mode == RunMode.Full ? Full : Smoke;

    /// <summary>Checks ranges; throws <see cref="UserInputException"/> naming the bad setting.</summary>
    public void Validate()
    {
        void Check(bool ok, string what) { if (!ok) throw new UserInputException($"mini-landmarks config '{Name}': {what}"); }
        Check(Name.Length > 0 && Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'), "Name must be letters, digits, '-' or '_'");
        Check(LandmarkCount >= 0, "LandmarkCount must be >= 0");
        Check(ReservedScenes >= 1, "ReservedScenes must be >= 1 (distractors need photos no landmark uses)");
        Check(TrainFraction > 0 && TrainFraction < 1, "TrainFraction must be in (0, 1)");
        Check(ViewsPerLandmark >= 1, "ViewsPerLandmark must be >= 1");
        Check(QueriesPerLandmark >= 1, "QueriesPerLandmark must be >= 1");
        Check(DistractorCount >= 0, "DistractorCount must be >= 0");
        Check(ViewSize is >= 32 and <= 2048, "ViewSize must be in 32..2048");
        Check(JpegQualityMin is >= 1 and <= 100 && JpegQualityMax is >= 1 and <= 100 && JpegQualityMin <= JpegQualityMax, "JPEG qualities must satisfy 1 <= min <= max <= 100");
        Check(OkVisibility > 0 && OkVisibility < GoodVisibility && GoodVisibility <= 1, "need 0 < OkVisibility < GoodVisibility <= 1");
        foreach (var (p, n) in new[] { (ClutterProbability, "ClutterProbability"), (OccluderProbability, "OccluderProbability"), (BlurProbability, "BlurProbability"), (NoiseProbability, "NoiseProbability"), (GoodMinArea, "GoodMinArea") })
            Check(p >= 0 && p <= 1, $"{n} must be in [0, 1]");
        Check(MaxTilt >= 0 && MaxTilt < 0.9, "MaxTilt must be in [0, 0.9)");
        Check(ExtraPhotoFolder is null || (ExtraPhotoFolder.Length > 0 && ExtraPhotoFolder.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')),
              "ExtraPhotoFolder must be a subfolder name (letters, digits, '-' or '_')");
    }

    /// <summary>Canonical JSON of the settings (property order fixed by this type).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>First 16 hex digits of the SHA-256 of <see cref="ToJson"/>.</summary>
    public string Hash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToJson())))[..16];

    internal static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
