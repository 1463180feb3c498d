using System.Text.RegularExpressions;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Data;

/// <summary>What a <see cref="DatasetSpec"/> names.</summary>
public enum DatasetSpecKind
{
    /// <summary>A mini-landmarks preset, generated under <c>data/generated</c> on first use.</summary>
    MiniLandmarksPreset,
    /// <summary>The folder of a generated mini-landmarks benchmark (it holds <c>views.tsv</c>).</summary>
    MiniLandmarksFolder,
    /// <summary>Images in the official layout plus a ground truth and optional distractor folders (Oxford, Paris, revisited, or any benchmark in their format).</summary>
    Benchmark,
}

/// <summary>
/// A benchmark the toolkit knows by name, with what its ground truth must carry and whether it takes distractors.
/// </summary>
/// <param name="Name">The name a specification starts with, e.g. <c>roxford5k</c>.</param>
/// <param name="Description">What it is, for help texts.</param>
/// <param name="Revisited">True when the ground truth must carry revisited (easy/hard/junk) labels, false when classic (good/ok/junk).</param>
/// <param name="Distractors">True when distractor folders are required, false when they are not allowed.</param>
/// <param name="GroundTruthFiles">The official ground-truth files that fit, for messages.</param>
public sealed record KnownBenchmark(string Name, string Description, bool Revisited, bool Distractors, string GroundTruthFiles);

/// <summary>
/// The one dataset specification of every command that takes <c>--dataset</c> (train, encode, index, benchmark):
/// a mini-landmarks preset or folder, or real images plus ground truth plus optional distractor folders
/// (lib/MultiLevelHashing/README.md section 3.5). Syntax:
/// <code>
/// mini-landmarks/smoke|full|large | FOLDER-WITH-views.tsv
/// NAME:images=DIR,gt=FILE[,distractors=DIR]...
/// </code>
/// <c>NAME</c> is one of <see cref="KnownBenchmarks"/> (checked: the ground truth must carry that benchmark's labels,
/// and 105k/106k/+1m take distractors) or any other short name (unchecked, used in output names). <c>gnd</c> is a
/// synonym of <c>gt</c>. Image folders are searched recursively, so Paris's per-landmark subfolders are read as
/// they come from the download; a leading <c>~/</c> is the home folder. Commas separate the options, so paths
/// cannot contain one.
/// </summary>
public sealed partial class DatasetSpec
{
    /// <summary>Benchmarks known by name (lib/MultiLevelHashing/README.md sections 3.1-3.3).</summary>
    public static readonly IReadOnlyList<KnownBenchmark> KnownBenchmarks =
    [
        new("oxford5k", "Oxford5k (classic)", false, false, "gt_files_170407 (folder or .tgz) or gnd_oxford5k.pkl"),
        new("oxford105k", "Oxford5k plus the Flickr100k distractors", false, true, "gt_files_170407 (folder or .tgz) or gnd_oxford5k.pkl"),
        new("paris6k", "Paris6k (classic)", false, false, "gnd_paris6k.pkl or the Paris text lists"),
        new("paris106k", "Paris6k plus the Flickr100k distractors", false, true, "gnd_paris6k.pkl or the Paris text lists"),
        new("roxford5k", "revisited Oxford (easy, medium, hard)", true, false, "gnd_roxford5k.pkl"),
        new("rparis6k", "revisited Paris (easy, medium, hard)", true, false, "gnd_rparis6k.pkl"),
        new("roxford5k+1m", "revisited Oxford plus the 1M distractors", true, true, "gnd_roxford5k.pkl"),
        new("rparis6k+1m", "revisited Paris plus the 1M distractors", true, true, "gnd_rparis6k.pkl"),
    ];

    /// <summary>One-paragraph description of the syntax for <c>--help</c>.</summary>
    public const string Help =
        "'mini-landmarks/smoke', 'mini-landmarks/full' or 'mini-landmarks/large' (generated under data/generated on first use), the folder of a generated " +
        "mini-landmarks benchmark, or real images with their ground truth: NAME:images=DIR,gt=FILE[,distractors=DIR]... where NAME is " +
        "oxford5k, oxford105k, paris6k, paris106k, roxford5k, rparis6k, roxford5k+1m or rparis6k+1m (or any other name, unchecked), " +
        "gt (or gnd) is a gt_files folder, its .tgz or a gnd_*.pkl, and image folders are searched recursively " +
        "(e.g. roxford5k:images=oxbuild_images,gnd=gnd_roxford5k.pkl)";

    private static readonly string[] MiniLandmarksPrefixes = ["mini-landmarks/", "mini-landmarks:"];

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.+-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    private DatasetSpec(string text, DatasetSpecKind kind, string name, string? preset, string? folder,
                        string? images, string? groundTruth, IReadOnlyList<string> distractors, KnownBenchmark? known)
    {
        Text = text; Kind = kind; Name = name; Preset = preset; Folder = folder;
        Images = images; GroundTruth = groundTruth; Distractors = distractors; Known = known;
    }

    /// <summary>The specification as given.</summary>
    public string Text { get; }

    /// <summary>What it names.</summary>
    public DatasetSpecKind Kind { get; }

    /// <summary>Short name for output files: <c>mini-landmarks-smoke</c>, <c>roxford5k</c>, ...; only letters, digits and <c>_.+-</c>.</summary>
    public string Name { get; }

    /// <summary>The mini-landmarks preset (<see cref="DatasetSpecKind.MiniLandmarksPreset"/>).</summary>
    public string? Preset { get; }

    /// <summary>The mini-landmarks folder (<see cref="DatasetSpecKind.MiniLandmarksFolder"/>).</summary>
    public string? Folder { get; }

    /// <summary>The image folder (<see cref="DatasetSpecKind.Benchmark"/>).</summary>
    public string? Images { get; }

    /// <summary>The ground truth: gt_files folder, .tgz or gnd pickle (<see cref="DatasetSpecKind.Benchmark"/>).</summary>
    public string? GroundTruth { get; }

    /// <summary>Distractor folders, searched recursively and appended to the database in this order.</summary>
    public IReadOnlyList<string> Distractors { get; }

    /// <summary>The known benchmark named, or null for mini-landmarks and custom names.</summary>
    public KnownBenchmark? Known { get; }

    /// <summary>
    /// Parses <paramref name="text"/> without touching the disk (except to tell a mini-landmarks folder from a preset).
    /// </summary>
    /// <exception cref="UserInputException">The text is not a specification; the message says what is wrong and the syntax.</exception>
    public static DatasetSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        if (t.Length == 0) throw Error(text, "empty dataset specification");
        string unified = t.Replace('\\', '/').TrimEnd('/');
        foreach (string prefix in MiniLandmarksPrefixes)
            if (unified.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && !Directory.Exists(t))
            {
                string preset = unified[prefix.Length..].ToLowerInvariant();
                if (preset is not ("smoke" or "full" or "large"))
                    throw Error(text, $"unknown mini-landmarks preset '{preset}' (expected smoke, full or large)");
                return new DatasetSpec(text, DatasetSpecKind.MiniLandmarksPreset, "mini-landmarks-" + preset, preset, null, null, null, [], null);
            }

        int colon = t.IndexOf(':');
        // A Windows drive letter ("C:\data") is a path, not a name followed by options.
        bool isOptions = colon > 0 && t.IndexOf('=', colon) > colon && !(colon == 1 && t.Length > 2 && t[2] is '\\' or '/');
        if (!isOptions)
        {
            string folder = ExpandHome(t);
            if (!Directory.Exists(folder))
                throw Error(text, "dataset folder not found; " + Expected);
            if (!File.Exists(Path.Combine(folder, MiniLandmarksLayout.ViewsFileName)))
                throw UserInputException.InFile(folder, $"not a mini-landmarks benchmark (no {MiniLandmarksLayout.ViewsFileName}); " + Expected);
            string folderName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
            return new DatasetSpec(text, DatasetSpecKind.MiniLandmarksFolder, "mini-landmarks-" + SafeName(folderName), null, folder, null, null, [], null);
        }

        string name = t[..colon].Trim();
        if (!NamePattern().IsMatch(name))
            throw Error(text, $"'{name}' is not a dataset name (letters, digits and _ . + - only)");
        var known = KnownBenchmarks.FirstOrDefault(k => k.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        string? images = null, groundTruth = null;
        var distractors = new List<string>();
        foreach (string part in t[(colon + 1)..].Split(','))
        {
            string item = part.Trim();
            if (item.Length == 0) continue;
            int eq = item.IndexOf('=');
            if (eq <= 0 || eq == item.Length - 1)
                throw Error(text, $"'{item}' is not KEY=VALUE (keys: images, gt or gnd, distractors)");
            string key = item[..eq].Trim().ToLowerInvariant(), value = ExpandHome(item[(eq + 1)..].Trim());
            switch (key)
            {
                case "images":
                    if (images is not null) throw Error(text, "images= is given twice");
                    images = value;
                    break;
                case "gt" or "gnd" or "ground-truth":
                    if (groundTruth is not null) throw Error(text, "the ground truth (gt= or gnd=) is given twice");
                    groundTruth = value;
                    break;
                case "distractors":
                    distractors.Add(value);
                    break;
                default:
                    throw Error(text, $"unknown key '{key}' (keys: images, gt or gnd, distractors)");
            }
        }
        if (images is null) throw Error(text, "images=DIR is missing (the benchmark's image folder, e.g. oxbuild_images)");
        if (groundTruth is null)
            throw Error(text, $"gt=FILE is missing (the ground truth{(known is null ? ": a gt_files folder, its .tgz or a gnd_*.pkl" : ", " + known.GroundTruthFiles)})");
        if (known is not null && known.Distractors && distractors.Count == 0)
            throw Error(text, $"{known.Name} is {known.Description}: give distractors=DIR");
        if (known is not null && !known.Distractors && distractors.Count > 0)
        {
            string with = KnownBenchmarks.FirstOrDefault(k => k.Distractors && k.Revisited == known.Revisited && k.GroundTruthFiles == known.GroundTruthFiles)?.Name ?? "another name";
            throw Error(text, $"{known.Name} has no distractors; with distractors it is {with}");
        }
        return new DatasetSpec(text, DatasetSpecKind.Benchmark, known?.Name ?? name.ToLowerInvariant(), null, null, images, groundTruth, distractors, known);
    }

    /// <summary>
    /// Opens the dataset: generates a mini-landmarks preset when missing, or reads the images, ground truth and
    /// distractors, and checks a known benchmark's labels (e.g. <c>roxford5k</c> needs easy/hard labels).
    /// </summary>
    /// <exception cref="UserInputException">Missing folders or files, malformed ground truth, labels that do not fit the name.</exception>
    public LandmarkDataset Open(IProgress<ProgressReport>? progress = null)
    {
        switch (Kind)
        {
            case DatasetSpecKind.MiniLandmarksPreset:
                var summary = MiniLandmarksGenerator.Ensure(MiniLandmarksConfig.Preset(Preset!), progress: progress);
                return LandmarkDataset.OpenMiniLandmarks(summary.Directory);
            case DatasetSpecKind.MiniLandmarksFolder:
                return LandmarkDataset.OpenMiniLandmarks(Folder!);
        }
        progress.Report("open " + Name, 0, 0, "files");
        var dataset = LandmarkDataset.Open(Images!, GroundTruth!, Distractors, Name, searchSubfolders: true);
        if (Known is not null)
        {
            var protocols = dataset.GroundTruth.Protocols;
            if (Known.Revisited && !protocols.Contains(EvaluationProtocol.Medium))
                throw UserInputException.InFile(GroundTruth!, $"{Known.Name} needs the revisited labels (easy, hard, junk) of {Known.GroundTruthFiles}; this ground truth has only classic labels");
            if (!Known.Revisited && !protocols.Contains(EvaluationProtocol.Classic))
                throw UserInputException.InFile(GroundTruth!, $"{Known.Name} needs classic labels (good, ok, junk: {Known.GroundTruthFiles}); this ground truth has only revisited labels, so name it {(Known.Name.StartsWith("oxford", StringComparison.Ordinal) ? "roxford5k" : "rparis6k")}");
        }
        progress.Report("open " + Name, 1, 1, "files");
        return dataset;
    }

    /// <summary>Parses and opens in one step.</summary>
    public static LandmarkDataset Open(string text, IProgress<ProgressReport>? progress = null) => Parse(text).Open(progress);

    /// <inheritdoc />
    public override string ToString() => Text;

    private const string Expected = "expected " + Help;

    private static DatasetSpecException Error(string text, string problem) =>
        new($"'{text}': {problem}. Syntax: mini-landmarks/smoke|full|large | FOLDER | NAME:images=DIR,gt=FILE[,distractors=DIR]");

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
            : path;

    private static string SafeName(string s)
    {
        var chars = s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '+' or '-' ? c : '_').ToArray();
        return chars.Length == 0 ? "dataset" : new string(chars);
    }
}

/// <summary>A dataset specification that does not parse; the message names the text and the problem (a caller adds where the text came from, e.g. a command-line option).</summary>
public sealed class DatasetSpecException(string message) : UserInputException(message);
