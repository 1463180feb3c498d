using System.Security.Cryptography;
using System.Text;
using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Training;

/// <summary>
/// How the views of an unlabelled photo collection are made for self-supervised training
/// (lib/MultiLevelHashing/README.md section 2.10).
/// </summary>
public sealed record SelfSupervisedViewSettings
{
    /// <summary>Training views synthesised per photo; any two of them form a positive pair.</summary>
    public int ViewsPerPhoto { get; init; } = 16;

    /// <summary>Fraction of the identity photos held out for validation (never trained on).</summary>
    public double ValidationFraction { get; init; } = 0.15;

    /// <summary>Clear views per held-out photo used as validation queries.</summary>
    public int QueriesPerValidationPhoto { get; init; } = 2;

    /// <summary>Fraction of the photos used only as backgrounds, occluders and validation distractors (at least one).</summary>
    public double BackgroundFraction { get; init; } = 0.1;

    /// <summary>Longer side of every view, in pixels.</summary>
    public int ViewSize { get; init; } = 320;

    /// <summary>Seed of the split and of every view; the same seed and photos give byte-identical views.</summary>
    public long Seed { get; init; } = 2016;

    /// <summary>Views at twice the training image size (at most 320 px, at least 64), so that resizing for training only shrinks them.</summary>
    public static SelfSupervisedViewSettings For(TrainingConfig config) => new() { ViewSize = Math.Clamp(2 * config.ImageSize, 64, 320) };

    /// <summary>
    /// The view generator's settings for <paramref name="photoCount"/> photos: every photo its own scene, the
    /// background share reserved, the rest split into training and validation identities.
    /// </summary>
    public MiniLandmarksConfig ViewConfig(string name, int photoCount)
    {
        if (ViewsPerPhoto < 2) throw new UserInputException($"self-supervised views: ViewsPerPhoto must be at least 2 (a positive pair needs two views), got {ViewsPerPhoto}");
        if (ValidationFraction is <= 0 or >= 1) throw new UserInputException($"self-supervised views: ValidationFraction must be in (0, 1), got {ValidationFraction}");
        if (BackgroundFraction is < 0 or >= 1) throw new UserInputException($"self-supervised views: BackgroundFraction must be in [0, 1), got {BackgroundFraction}");
        int reserved = Math.Max(1, (int)Math.Round(photoCount * BackgroundFraction));
        return new MiniLandmarksConfig
        {
            Name = name, Seed = Seed, LandmarkCount = 0, ReservedScenes = reserved, TrainFraction = 1 - ValidationFraction,
            ViewsPerLandmark = ViewsPerPhoto, QueriesPerLandmark = QueriesPerValidationPhoto, DistractorCount = 2 * ViewsPerPhoto, ViewSize = ViewSize,
        };
    }
}

/// <summary>
/// Siamese pairs without labels (lib/MultiLevelHashing/README.md section 2.10): every photo of a collection is its own
/// identity; <see cref="ViewSynthesizer"/> renders several views of each (tilt, scale, crop, clutter, occluders,
/// lighting, blur, noise, JPEG), and two views of one photo are similar, views of different photos are not. The views
/// are written in the mini-landmarks layout (<see cref="MiniLandmarksGenerator"/>), so training reads them like a
/// labelled dataset: <see cref="Views"/>' training split carries the photo identity as its label, and its benchmark
/// (held-out photos: a clear query view against the other views of the same photo, among views of other held-out
/// photos and distractors) is the validation, which therefore measures how well the code finds other views of an
/// unseen photo, not landmark retrieval. Deterministic for a seed and the photos' bytes.
/// </summary>
public sealed class SelfSupervisedPairSource
{
    private SelfSupervisedPairSource(LandmarkDataset views, IReadOnlyList<string> trainingSources, IReadOnlyList<string> trainingPhotos,
        IReadOnlyList<string> validationPhotos, IReadOnlyList<string> backgroundPhotos)
    {
        Views = views;
        TrainingSources = trainingSources;
        TrainingPhotos = trainingPhotos;
        ValidationPhotos = validationPhotos;
        BackgroundPhotos = backgroundPhotos;
    }

    /// <summary>The generated views: training views labelled by photo, and the held-out photos' validation benchmark.</summary>
    public LandmarkDataset Views { get; }

    /// <summary>Source photo (relative to the photo folder) of each training view, in <see cref="Views"/>' training order.</summary>
    public IReadOnlyList<string> TrainingSources { get; }

    /// <summary>Photo identity of each training view (the label the siamese pairs are drawn from).</summary>
    public IReadOnlyList<int> Labels => [.. Views.Train.Select(i => i.Label)];

    /// <summary>Photos trained on as identities.</summary>
    public IReadOnlyList<string> TrainingPhotos { get; }

    /// <summary>Held-out photos of the validation benchmark.</summary>
    public IReadOnlyList<string> ValidationPhotos { get; }

    /// <summary>Photos used only as backgrounds, occluders and validation distractors.</summary>
    public IReadOnlyList<string> BackgroundPhotos { get; }

    /// <summary>The training views as an image source.</summary>
    public ImageFileSource Images => ImageFileSource.Train(Views);

    /// <summary>The pair sampler over the photo identities: positives two views of one photo, negatives views of two photos.</summary>
    public PairSampler Sampler(int seed, double positiveFraction = 0.5, int negativeCandidates = 1) =>
        new(Labels, seed, positiveFraction, negativeCandidates);

    /// <summary>
    /// Every image file under <paramref name="photoFolder"/> (recursively, in ordinal order of the relative path) as an
    /// identity; views go to <c>&lt;viewRoot&gt;/&lt;folder name&gt;-&lt;hash of its full path&gt;</c> and are reused when up to date.
    /// </summary>
    /// <exception cref="UserInputException">Folder missing, fewer than 4 images, or an image that does not decode.</exception>
    public static SelfSupervisedPairSource FromFolder(string photoFolder, SelfSupervisedViewSettings settings, string viewRoot,
        IProgress<ProgressReport>? progress = null)
    {
        if (!Directory.Exists(photoFolder)) throw new UserInputException($"{photoFolder}: image folder not found");
        string full = Path.GetFullPath(photoFolder);
        var extensions = new HashSet<string>(ImageLoader.ImageExtensions, StringComparer.OrdinalIgnoreCase);
        var files = Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories)
            .Where(f => extensions.Contains(Path.GetExtension(f)))
            .Select(f => Path.GetRelativePath(full, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal).ToList();
        string tag = new string([.. Path.GetFileName(Path.TrimEndingDirectorySeparator(full)).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..8];
        return FromPhotos(full, files, settings, viewRoot, $"{(tag.Length > 0 ? tag : "images")}-{hash}", progress);
    }

    /// <summary>
    /// The photos <paramref name="photoFiles"/> (relative to <paramref name="photoDirectory"/>) as identities; views go to
    /// <c>&lt;viewRoot&gt;/&lt;name&gt;</c> and are reused when made from the same settings and photo bytes.
    /// </summary>
    public static SelfSupervisedPairSource FromPhotos(string photoDirectory, IReadOnlyList<string> photoFiles, SelfSupervisedViewSettings settings,
        string viewRoot, string name, IProgress<ProgressReport>? progress = null)
    {
        if (photoFiles.Count < 4)
            throw new UserInputException($"{photoDirectory}: {photoFiles.Count} image(s) found; self-supervised training needs at least 4 " +
                                         "(training and held-out validation photos, and one for backgrounds)");
        if (photoFiles.Distinct(StringComparer.Ordinal).Count() != photoFiles.Count)
            throw new UserInputException($"{photoDirectory}: a photo is listed twice");
        // Scene names carry no file name: they must be valid ground-truth stems whatever the files are called.
        var catalog = photoFiles.Select((f, i) => new PhotoEntry(f, $"photo_{i + 1:D5}", "landmark", "-", f, "-")).ToList();
        var config = settings.ViewConfig(name, catalog.Count);
        var summary = MiniLandmarksGenerator.Ensure(config, viewRoot, photoDirectory, catalog, progress);
        var views = LandmarkDataset.OpenMiniLandmarks(summary.Directory);
        var sceneFile = catalog.ToDictionary(p => p.Scene, p => p.File, StringComparer.Ordinal);
        var source = ReadSources(new MiniLandmarksLayout(summary.Directory).ViewsFile);
        var trainingSources = views.Train.Select(i => source[i.Name]).ToList();
        var used = summary.TrainLandmarks.Concat(summary.TestLandmarks).ToHashSet(StringComparer.Ordinal);
        return new SelfSupervisedPairSource(views, trainingSources,
            [.. summary.TrainLandmarks.Select(s => sceneFile[s])], [.. summary.TestLandmarks.Select(s => sceneFile[s])],
            [.. catalog.Where(p => !used.Contains(p.Scene)).Select(p => p.File)]);
    }

    private static Dictionary<string, string> ReadSources(string viewsFile)
    {
        var lines = File.ReadAllLines(viewsFile);
        var header = lines[0].Split('\t');
        int name = Array.IndexOf(header, "name"), src = Array.IndexOf(header, "source");
        if (name < 0 || src < 0) throw UserInputException.InFile(viewsFile, "expected the columns 'name' and 'source'", 1);
        return lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t')).ToDictionary(f => f[name], f => f[src], StringComparer.Ordinal);
    }
}

/// <summary>Trains the DSCNN from an unlabelled photo collection (lib/MultiLevelHashing/README.md section 2.10).</summary>
public static class SelfSupervisedTraining
{
    /// <summary>
    /// Trains with <paramref name="config"/> on <paramref name="pairs"/>' training views, labels being photo identities;
    /// the per-epoch validation is the held-out photos' benchmark. Same presets, checkpoints and resumption as
    /// <see cref="DatasetTraining.Train"/>, which it calls.
    /// </summary>
    public static TrainingResult Train(SelfSupervisedPairSource pairs, TrainingConfig config, TrainingRunOptions? options = null,
        IProgress<ProgressReport>? progress = null) => DatasetTraining.Train(pairs.Views, config, options, progress);
}
