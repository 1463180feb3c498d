using System.Globalization;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Data;

/// <summary>Which part of a dataset an image belongs to.</summary>
public enum DatasetSplit
{
    /// <summary>Training images (landmarks disjoint from the test landmarks).</summary>
    Train,
    /// <summary>Retrieval database (test landmarks and distractors); queries come from here.</summary>
    Test,
}

/// <summary>One image of a dataset.</summary>
/// <param name="Name">Name without extension (the ground truth's name).</param>
/// <param name="Path">Image file.</param>
/// <param name="Label">Index into <see cref="LandmarkDataset.Landmarks"/>, or -1 for a distractor or an unlabelled image.</param>
/// <param name="Split">Train or test.</param>
/// <param name="VisibleFraction">Fraction of the landmark visible in the image, where known (generated views).</param>
/// <param name="Box">Box of the visible landmark in the image, where known (generated views).</param>
/// <param name="Grade">Oxford-style grade of a generated view: good, ok or junk (null for distractors and real data).</param>
public sealed record DatasetImage(string Name, string Path, int Label, DatasetSplit Split,
                                  double? VisibleFraction = null, BoundingBox? Box = null, string? Grade = null);

/// <summary>One query: an image cropped to <see cref="Box"/>.</summary>
/// <param name="Id">Query id from the ground truth.</param>
/// <param name="ImageName">Query image name.</param>
/// <param name="Path">Query image file.</param>
/// <param name="Box">Region the query is cropped to.</param>
/// <param name="Label">Landmark index, or -1 when the ground truth does not say.</param>
public sealed record DatasetQuery(string Id, string ImageName, string Path, BoundingBox Box, int Label);

/// <summary>
/// A retrieval benchmark on disk: an image folder plus its ground truth, optional distractor folders
/// (Oxford105k / Paris106k) and, for generated data, a labelled training split. lib/MultiLevelHashing/README.md section 3 and
/// the paper's evaluation on Oxford5k/105k and Paris6k.
/// </summary>
public sealed class LandmarkDataset
{
    /// <summary>Creates a dataset from its parts; <paramref name="database"/> must follow the ground truth's database order.</summary>
    public LandmarkDataset(string name, string root, IReadOnlyList<string> landmarks, IReadOnlyList<DatasetImage> train,
                           IReadOnlyList<DatasetImage> database, IReadOnlyList<DatasetQuery> queries, GroundTruth groundTruth,
                           IReadOnlyList<int>? trainLandmarks = null, IReadOnlyList<int>? testLandmarks = null)
    {
        if (database.Count != groundTruth.DatabaseImages.Count)
            throw new ArgumentException("the database images must match the ground truth's database list", nameof(database));
        for (int i = 0; i < database.Count; i++)
            if (database[i].Name != groundTruth.DatabaseImages[i])
                throw new ArgumentException($"database image {i} is '{database[i].Name}' but the ground truth lists '{groundTruth.DatabaseImages[i]}'", nameof(database));
        Name = name; Root = root; Landmarks = landmarks; Train = train; Database = database; Queries = queries; GroundTruth = groundTruth;
        TrainLandmarks = trainLandmarks ?? [.. train.Where(t => t.Label >= 0).Select(t => t.Label).Distinct().Order()];
        TestLandmarks = testLandmarks ?? [.. database.Where(t => t.Label >= 0).Select(t => t.Label).Distinct().Order()];
    }

    /// <summary>Display name ("oxford5k", "mini-landmarks/smoke").</summary>
    public string Name { get; }

    /// <summary>Folder the dataset was opened from.</summary>
    public string Root { get; }

    /// <summary>Landmark names; image labels index this list.</summary>
    public IReadOnlyList<string> Landmarks { get; }

    /// <summary>Labelled training images (empty for real Oxford/Paris, which have no training split).</summary>
    public IReadOnlyList<DatasetImage> Train { get; }

    /// <summary>Retrieval database in <see cref="GroundTruth"/> index order (distractors appended last).</summary>
    public IReadOnlyList<DatasetImage> Database { get; }

    /// <summary>Queries in ground-truth order.</summary>
    public IReadOnlyList<DatasetQuery> Queries { get; }

    /// <summary>The benchmark's ground truth over <see cref="Database"/>.</summary>
    public GroundTruth GroundTruth { get; }

    /// <summary>Labels of training landmarks.</summary>
    public IReadOnlyList<int> TrainLandmarks { get; }

    /// <summary>Labels of test landmarks (disjoint from <see cref="TrainLandmarks"/> for generated data).</summary>
    public IReadOnlyList<int> TestLandmarks { get; }

    /// <summary>
    /// Fold <paramref name="fold"/> of a <paramref name="folds"/>-fold split of the training landmarks, so that training
    /// settings can be chosen without looking at the test benchmark (cross-validation over landmarks). The training
    /// landmarks are shuffled with <paramref name="seed"/> and dealt into the folds; the returned dataset trains on the
    /// other folds' views, and its benchmark is built from this fold's views under the mini-landmarks rules: every
    /// held-out view graded good is a query cropped to its box; the database is all held-out views (the query's own
    /// view included, as in Oxford); positives are the landmark's good and ok views, junk its junk views (revisited:
    /// easy = good, hard = ok). The test benchmark is not touched.
    /// </summary>
    /// <exception cref="UserInputException">The training views carry no grades or boxes (only generated data does), or a fold would hold fewer than 2 landmarks.</exception>
    public LandmarkDataset ValidationFold(int fold, int folds = 4, int seed = 0)
    {
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), "must be at least 2");
        if (fold < 0 || fold >= folds) throw new ArgumentOutOfRangeException(nameof(fold), $"must be in [0, {folds})");
        var labelled = Train.Where(t => t.Label >= 0).ToList();
        if (labelled.Any(t => t.Grade is null || t.Box is null))
            throw new UserInputException($"{Root}: a validation split needs graded training views with boxes (generated mini-landmarks); '{Name}' has none");
        var landmarks = TrainLandmarks.Order().ToArray();
        if (landmarks.Length < 2 * folds)
            throw new UserInputException($"{Root}: {landmarks.Length} training landmarks are too few for {folds} validation folds of at least 2 landmarks");
        new Random(seed).Shuffle(landmarks);
        var heldOut = landmarks.Where((_, i) => i % folds == fold).Order().ToList();
        var validation = heldOut.ToHashSet();

        var database = labelled.Where(t => validation.Contains(t.Label)).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var index = database.Select((t, i) => (t.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var queries = new List<DatasetQuery>();
        var truth = new List<GroundTruthQuery>();
        foreach (int label in heldOut)
        {
            var views = database.Where(t => t.Label == label).ToList();
            int[] Indices(string grade) => [.. views.Where(t => t.Grade == grade).Select(t => index[t.Name]).Order()];
            var (classic, revisited) = GroundTruth.LabelsFromGrades(Indices("good"), Indices("ok"), Indices("junk"));
            int number = 0;
            foreach (var view in views.Where(t => t.Grade == "good"))
            {
                string id = $"{Landmarks[label]}_validation_{++number}";
                queries.Add(new DatasetQuery(id, view.Name, view.Path, view.Box!.Value, label));
                truth.Add(new GroundTruthQuery(id, view.Name, view.Box!.Value, Landmarks[label], classic, revisited));
            }
        }
        if (queries.Count == 0) throw new UserInputException($"{Root}: no view of validation fold {fold} is graded good, so it has no queries");
        var groundTruth = new GroundTruth($"{Root} (validation fold {fold + 1}/{folds} of {Name}, seed {seed})",
            database.Select(t => t.Name).ToList(), truth, databaseIsComplete: true);
        var train = Train.Where(t => !validation.Contains(t.Label)).ToList();
        return new LandmarkDataset($"{Name}/validation-{fold + 1}of{folds}", Root, Landmarks, train, database, queries, groundTruth,
            testLandmarks: heldOut);
    }

    /// <summary>Loads query <paramref name="query"/> cropped to its box, as CHW floats in [0, 1].</summary>
    public ChwImage LoadQuery(int query, ImageResize? resize = null, ImageLoadOptions? options = null)
        => ImageLoader.LoadChw(Queries[query].Path, Queries[query].Box, resize, options);

    /// <summary>
    /// Opens a benchmark in the official layout: an image folder (e.g. <c>oxbuild_images</c>), a ground truth
    /// (gt_files folder, .tgz or gnd_*.pkl) and optional distractor folders (searched recursively; Oxford105k/Paris106k).
    /// With text lists the database is every image in the folder, sorted by name; with a pickle it is the pickle's
    /// <c>imlist</c>, and each listed image must exist. Distractors are appended in sorted order.
    /// With <paramref name="searchSubfolders"/> the image folder is searched recursively (Paris6k comes as one
    /// subfolder per landmark); images are known by file name alone, so two files of one name are an error.
    /// </summary>
    /// <exception cref="UserInputException">Missing folders or images, or names that clash.</exception>
    public static LandmarkDataset Open(string imageDirectory, string groundTruthPath, IEnumerable<string>? distractorDirectories = null, string? name = null,
                                       bool searchSubfolders = false)
    {
        if (!Directory.Exists(imageDirectory)) throw new UserInputException($"{imageDirectory}: image folder not found");
        var truth = GroundTruthReader.Read(groundTruthPath);
        var files = ScanFolder(imageDirectory, recursive: searchSubfolders);
        if (files.Count == 0) throw new UserInputException($"{imageDirectory}: no images ({string.Join(", ", ImageLoader.ImageExtensions)}){(searchSubfolders ? "" : " directly in the folder")}");
        List<string> names;
        if (truth.DatabaseIsComplete)
        {
            names = [.. truth.DatabaseImages];
            var missing = names.Where(n => !files.ContainsKey(n)).Take(5).ToList();
            if (missing.Count > 0)
                throw new UserInputException($"{imageDirectory}: images listed by {groundTruthPath} are missing, e.g. {string.Join(", ", missing)}");
        }
        else
            names = [.. files.Keys.Order(StringComparer.Ordinal)];

        foreach (var dir in distractorDirectories ?? [])
        {
            if (!Directory.Exists(dir)) throw new UserInputException($"{dir}: distractor folder not found");
            var d = ScanFolder(dir, recursive: true);
            foreach (var n in d.Keys.Order(StringComparer.Ordinal))
            {
                if (!files.TryAdd(n, d[n])) throw new UserInputException($"{d[n]}: distractor image name '{n}' clashes with {files[n]}");
                names.Add(n);
            }
        }
        truth = truth.WithDatabase(names, isComplete: true);

        var landmarks = truth.Queries.Select(q => q.Landmark).Where(l => l is not null).Select(l => l!).Distinct().Order(StringComparer.Ordinal).ToList();
        var landmarkIndex = landmarks.Select((l, i) => (l, i)).ToDictionary(t => t.l, t => t.i, StringComparer.Ordinal);
        var label = new int[names.Count];
        Array.Fill(label, -1);
        foreach (var q in truth.Queries)
            if (q.Landmark is not null && q.Classic is not null)
                foreach (int i in q.Classic.Positives)
                    if (label[i] < 0) label[i] = landmarkIndex[q.Landmark];

        var database = names.Select((n, i) => new DatasetImage(n, files[n], label[i], DatasetSplit.Test)).ToList();
        var queries = truth.Queries.Select(q =>
        {
            string path = files.TryGetValue(q.ImageName, out var p) ? p
                : ImageLoader.FindImage(imageDirectory, q.ImageName) ?? throw new UserInputException($"{imageDirectory}: query image '{q.ImageName}' of query {q.Id} not found");
            return new DatasetQuery(q.Id, q.ImageName, path, q.Box, q.Landmark is null ? -1 : landmarkIndex[q.Landmark]);
        }).ToList();
        return new LandmarkDataset(name ?? System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(imageDirectory))),
                                   imageDirectory, landmarks, [], database, queries, truth);
    }

    /// <summary>
    /// Opens a generated mini-landmarks benchmark (see <see cref="MiniLandmarks.MiniLandmarksGenerator"/>): the database
    /// in <c>jpg/</c> with its ground truth in <c>gt_files/</c>, training views in <c>train/</c>, and per-view landmark,
    /// visible fraction and box from <c>views.tsv</c>. Both classic and revisited labels are available
    /// (easy = good, hard = ok).
    /// </summary>
    public static LandmarkDataset OpenMiniLandmarks(string root)
    {
        var layout = new MiniLandmarks.MiniLandmarksLayout(root);
        if (!File.Exists(layout.ViewsFile)) throw new UserInputException($"{root}: not a generated mini-landmarks folder ({MiniLandmarks.MiniLandmarksLayout.ViewsFileName} missing); run 'mlh prepare'");
        var rows = ReadViews(layout.ViewsFile);
        var landmarks = rows.Where(r => r.Landmark != "-").Select(r => r.Landmark).Distinct().Order(StringComparer.Ordinal).ToList();
        var li = landmarks.Select((l, i) => (l, i)).ToDictionary(t => t.l, t => t.i, StringComparer.Ordinal);
        int Label(ViewRow r) => r.Landmark == "-" ? -1 : li[r.Landmark];

        var pickle = PickleGroundTruth.Read(layout.PickleFile);
        var text = OxfordTextGroundTruth.ReadDirectory(layout.GroundTruthDirectory).WithDatabase(pickle.DatabaseImages);
        // The text lists carry ids and landmarks, the pickle the revisited labels over the same database order.
        if (text.Queries.Count != pickle.Queries.Count)
            throw new UserInputException($"{root}: gt_files and {MiniLandmarks.MiniLandmarksLayout.PickleFileName} disagree on the number of queries");
        var queriesGt = text.Queries.Select((q, i) => q with { Revisited = pickle.Queries[i].Revisited }).ToList();
        var truth = new GroundTruth(layout.GroundTruthDirectory, pickle.DatabaseImages, queriesGt, databaseIsComplete: true);

        var byName = rows.ToDictionary(r => r.Name, StringComparer.Ordinal);
        var database = truth.DatabaseImages.Select(n =>
        {
            if (!byName.TryGetValue(n, out var r)) throw new UserInputException($"{layout.ViewsFile}: no row for database image '{n}'");
            return new DatasetImage(n, System.IO.Path.Combine(layout.DatabaseDirectory, n + ".jpg"), Label(r), DatasetSplit.Test, r.Visible, r.Box, r.Grade);
        }).ToList();
        var train = rows.Where(r => r.Split == "train")
            .Select(r => new DatasetImage(r.Name, System.IO.Path.Combine(layout.TrainDirectory, r.Name + ".jpg"), Label(r), DatasetSplit.Train, r.Visible, r.Box, r.Grade))
            .ToList();
        var queries = truth.Queries.Select(q => new DatasetQuery(q.Id, q.ImageName, System.IO.Path.Combine(layout.DatabaseDirectory, q.ImageName + ".jpg"), q.Box,
            q.Landmark is not null && li.TryGetValue(q.Landmark, out int l) ? l : -1)).ToList();
        string name = "mini-landmarks/" + System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(root)));
        return new LandmarkDataset(name, root, landmarks, train, database, queries, truth);
    }

    /// <summary>
    /// The generated mini-landmarks benchmark for <paramref name="config"/> (default: the preset of <c>MLH_MODE</c>),
    /// generated under <c>data/generated/mini-landmarks/</c> first when missing or stale.
    /// </summary>
    public static LandmarkDataset EnsureMiniLandmarks(MiniLandmarks.MiniLandmarksConfig? config = null, IProgress<ProgressReport>? progress = null)
    {
        config ??= MiniLandmarks.MiniLandmarksConfig.ForMode(RunModes.FromEnvironment());
        var summary = MiniLandmarks.MiniLandmarksGenerator.Ensure(config, progress: progress);
        return OpenMiniLandmarks(summary.Directory);
    }

    internal sealed record ViewRow(string Name, string Split, string Landmark, double? Visible, BoundingBox? Box, string? Grade);

    internal static List<ViewRow> ReadViews(string path)
    {
        var rows = new List<ViewRow>();
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) throw UserInputException.InFile(path, "empty file");
        var header = lines[0].Split('\t');
        int Col(string c) => Array.IndexOf(header, c) is int i and >= 0 ? i : throw UserInputException.InFile(path, $"missing column '{c}'", 1);
        int cName = Col("name"), cSplit = Col("split"), cLm = Col("landmark"), cGrade = Col("label"), cVis = Col("visible"), cX1 = Col("x1"), cY1 = Col("y1"), cX2 = Col("x2"), cY2 = Col("y2");
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var f = lines[i].Split('\t');
            if (f.Length != header.Length) throw UserInputException.InFile(path, $"expected {header.Length} tab-separated fields, found {f.Length}", i + 1);
            double? D(int c) => f[c] == "-" ? null : double.TryParse(f[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw UserInputException.InFile(path, $"'{f[c]}' in column '{header[c]}' is not a number", i + 1);
            BoundingBox? box = f[cX1] == "-" ? null : new BoundingBox(D(cX1)!.Value, D(cY1)!.Value, D(cX2)!.Value, D(cY2)!.Value);
            rows.Add(new ViewRow(f[cName], f[cSplit], f[cLm], D(cVis), box, f[cGrade] == "-" ? null : f[cGrade]));
        }
        return rows;
    }

    private static Dictionary<string, string> ScanFolder(string directory, bool recursive)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var exts = new HashSet<string>(ImageLoader.ImageExtensions, StringComparer.OrdinalIgnoreCase);
        foreach (var file in Directory.EnumerateFiles(directory, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal))
        {
            if (!exts.Contains(System.IO.Path.GetExtension(file))) continue;
            string n = System.IO.Path.GetFileNameWithoutExtension(file);
            if (!result.TryAdd(n, file)) throw new UserInputException($"{file}: image name '{n}' clashes with {result[n]}");
        }
        return result;
    }
}
