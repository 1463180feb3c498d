using MultiLevelHashing.Attention;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Model;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;

namespace MultiLevelHashing.Experiments;

/// <summary>How bits fire inside boxes: the localisation numbers of lib/MultiLevelHashing/README.md section 2.6.</summary>
/// <param name="PointingHitRate">Share of (image, firing bit) pairs whose map peaks inside the box.</param>
/// <param name="MassInside">Mean share of a firing bit's positive activation inside the box (its pertinence).</param>
/// <param name="Chance">Mean share of the image the box covers: what a map spread uniformly, or a random peak, would score.</param>
/// <param name="Maps">Number of (image, firing bit) pairs measured.</param>
public sealed record LocalisationScore(double PointingHitRate, double MassInside, double Chance, int Maps);

/// <summary>Test mAP (0-1) of the multi-level search at one setting, a point of <see cref="EncodedDataset.Sweep"/>.</summary>
public sealed record SettingMap(MultiLevelSetting Setting, double Map);

/// <summary>
/// One model's codes and bit maps on a benchmark, its training split, and its queries, ready to score the multi-level
/// search under every selection method (lib/MultiLevelHashing/README.md section 2.7): training maps for the
/// dataset-level selection and the variance control, database maps for the localisation numbers, the maps of each
/// query's full photo for the query-adaptive selection (the compared codes stay those of the cropped query).
/// </summary>
public sealed class EncodedDataset : IDisposable
{
    private readonly LandmarkDataset _dataset;
    private readonly LevelMaps _train, _database, _queries, _queryPhotos;
    private readonly RegionBox[] _trainBoxes, _queryBoxes;
    private readonly int[] _boxedDatabase;
    private readonly RegionBox[] _databaseBoxes;
    private readonly Dictionary<double, BitMask> _datasetMasks = [];
    private readonly Dictionary<double, BitMask[]> _queryMasks = [];

    /// <summary>Packed global codes of the database.</summary>
    public PackedCodes DatabaseGlobal { get; }

    /// <summary>Packed local codes of the database.</summary>
    public PackedCodes DatabaseLocal { get; }

    /// <summary>Packed global codes of the cropped queries.</summary>
    public PackedCodes QueryGlobal { get; }

    /// <summary>Packed local codes of the cropped queries.</summary>
    public PackedCodes QueryLocal { get; }

    /// <summary>Kl.</summary>
    public int LocalBits => DatabaseLocal.Bits;

    /// <summary>The benchmark.</summary>
    public LandmarkDataset Dataset => _dataset;

    private EncodedDataset(LandmarkDataset dataset, LevelMaps train, RegionBox[] trainBoxes, LevelMaps database, LevelMaps queries,
        LevelMaps queryPhotos, RegionBox[] queryBoxes)
    {
        _dataset = dataset; _train = train; _trainBoxes = trainBoxes; _database = database; _queries = queries;
        _queryPhotos = queryPhotos; _queryBoxes = queryBoxes;
        int kg = database.Global.Bits, kl = database.Local.Bits;
        DatabaseGlobal = PackedCodes.FromReal(database.GlobalCodes, kg);
        DatabaseLocal = PackedCodes.FromReal(database.LocalCodes, kl);
        QueryGlobal = PackedCodes.FromReal(queries.GlobalCodes, kg);
        QueryLocal = PackedCodes.FromReal(queries.LocalCodes, kl);
        (_boxedDatabase, _databaseBoxes) = BoxedDatabase(dataset);
    }

    /// <summary>
    /// Computes everything for <paramref name="model"/> (trained with <paramref name="config"/>) at <paramref name="imageSize"/>;
    /// maps of a frozen backbone are cached under <paramref name="cacheDirectory"/>.
    /// </summary>
    public static EncodedDataset Build(DscnnModel model, TrainingConfig config, LandmarkDataset dataset, int imageSize, string? cacheDirectory,
        IProgress<ProgressReport>? progress = null)
    {
        var sized = config with { ImageSize = imageSize };
        var device = model.GlobalHead.Weight.device;
        LevelMaps Maps(IImageSource images)
        {
            using var source = FeatureSource.For(sized, model.Backbone, images, cacheDirectory, device, progress);
            return BitActivationMaps.FromSource(model, source, config.InferenceBatch, progress);
        }
        var (train, trainBoxes) = TrainingSelection.TrainingMaps(model, config, dataset, imageSize, cacheDirectory, progress);
        var database = Maps(ImageFileSource.Database(dataset));
        var queries = Maps(ImageFileSource.Queries(dataset));
        var photos = Maps(new ImageFileSource(ImageFiles.Of(dataset.Queries.Select(q => (q.Path, (BoundingBox?)null)), dataset.Root)));
        var queryBoxes = dataset.Queries.Select(q => TrainingSelection.Region(q.Path, q.Box)).ToArray();
        return new EncodedDataset(dataset, train, trainBoxes, database, queries, photos, queryBoxes);
    }

    /// <summary>The masks of <paramref name="method"/> at share <paramref name="rho"/>: one for all queries, or one per query.</summary>
    public IReadOnlyList<BitMask> Masks(SelectionMethod method, double rho, int seed = 0)
    {
        int count = BitSelection.SelectedCount(LocalBits, rho);
        return method switch
        {
            SelectionMethod.All => [BitMask.All(LocalBits)],
            SelectionMethod.DatasetLevel => [DatasetMask(rho, count)],
            SelectionMethod.QueryAdaptive => QueryMasks(rho, count),
            SelectionMethod.Random => [BitSelection.Random(LocalBits, count, seed)],
            SelectionMethod.HighestVariance => [BitSelection.HighestVariance(_train.LocalCodes, LocalBits, count)],
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
    }

    private BitMask DatasetMask(double rho, int count)
    {
        if (!_datasetMasks.TryGetValue(rho, out var mask))
            _datasetMasks[rho] = mask = BitSelection.DatasetLevel(_train.Local, _trainBoxes, count);
        return mask;
    }

    private BitMask[] QueryMasks(double rho, int count)
    {
        if (!_queryMasks.TryGetValue(rho, out var masks))
        {
            var local = _queryPhotos.Local;
            masks = new BitMask[local.Count];
            for (int q = 0; q < masks.Length; q++)
                masks[q] = BitSelection.QueryAdaptive(local, q, BitPertinence.CellCoverage(_queryBoxes[q], local.Height, local.Width), count);
            _queryMasks[rho] = masks;
        }
        return masks;
    }

    /// <summary>Rankings of the whole database by the multi-level search with <paramref name="masks"/>.</summary>
    public MultiLevelRanking[] Rank(IReadOnlyList<BitMask> masks, MultiLevelSetting setting)
    {
        var search = new MultiLevelSearch(DatabaseGlobal, DatabaseLocal);
        return search.Search(QueryGlobal, QueryLocal, masks, new MultiLevelOptions { Setting = setting });
    }

    /// <summary>mAP (0-1, the benchmark's default protocol) of the multi-level search with <paramref name="method"/>'s masks.</summary>
    public double Map(SelectionMethod method, MultiLevelSetting setting, int seed = 0, EvaluationProtocol? protocol = null) =>
        Score(Rank(Masks(method, setting.Rho, seed), setting), protocol);

    /// <summary>Candidate N of <see cref="Sweep"/> when none are given (those above the database size are left out).</summary>
    public static IReadOnlyList<int> SweepCandidates { get; } = [10, 20, 50, 100, 200, 400];

    /// <summary>Candidate lambda of <see cref="Sweep"/> when none are given.</summary>
    public static IReadOnlyList<double> SweepLambdas { get; } = [0.25, 0.5, 1, 2, 4];

    /// <summary>
    /// Test mAP of the multi-level search (method README 2.7) with <paramref name="method"/>'s masks at a fixed
    /// <paramref name="rho"/> over a grid of N and lambda: how much the chosen setting depends on them. Settings are
    /// chosen on validation folds (<see cref="BitSelectionStudy"/>); this sweep only shows the test side.
    /// </summary>
    public IReadOnlyList<SettingMap> Sweep(SelectionMethod method, double rho, IReadOnlyList<int>? candidates = null, IReadOnlyList<double>? lambdas = null)
    {
        var masks = Masks(method, rho);
        return [.. from n in (candidates ?? SweepCandidates).Where(n => n <= DatabaseGlobal.Count)
                   from lambda in lambdas ?? SweepLambdas
                   let setting = new MultiLevelSetting(n, lambda, rho)
                   select new SettingMap(setting, Score(Rank(masks, setting), null))];
    }

    /// <summary>mAP of the global code alone (Hamming ranking).</summary>
    public double GlobalMap(EvaluationProtocol? protocol = null) => Score(RetrievalScoring.HammingRankings(DatabaseGlobal, QueryGlobal), protocol);

    /// <summary>mAP of the local code alone with all its bits (Hamming ranking).</summary>
    public double LocalMap(EvaluationProtocol? protocol = null) => Score(RetrievalScoring.HammingRankings(DatabaseLocal, QueryLocal), protocol);

    private double Score(IReadOnlyList<MultiLevelRanking> rankings, EvaluationProtocol? protocol) =>
        Score([.. rankings.Select(r => (IReadOnlyList<int>)r.Ids)], protocol);

    private double Score(IReadOnlyList<IReadOnlyList<int>> rankings, EvaluationProtocol? protocol) =>
        MeanAveragePrecision.Evaluate(_dataset.GroundTruth, rankings, protocol ?? _dataset.GroundTruth.DefaultProtocol).MeanAveragePrecision;

    /// <summary>Localisation of the firing bits of one level over the database images with a landmark box.</summary>
    public LocalisationScore Localisation(bool global) => Localise(global ? _database.Global : _database.Local,
        global ? _database.GlobalCodes : _database.LocalCodes, _boxedDatabase, _databaseBoxes);

    /// <summary>
    /// Localisation numbers of <paramref name="maps"/> over images <paramref name="images"/> with their boxes: for every
    /// (image, bit) pair whose bit is 1 (u &gt; 0), whether its map peaks inside the box and the share of its positive
    /// activation inside; chance is the mean share of the image the boxes cover.
    /// </summary>
    public static LocalisationScore Localise(BitMaps maps, float[] codes, IReadOnlyList<int> images, IReadOnlyList<RegionBox> boxes)
    {
        int hits = 0, count = 0;
        double mass = 0, chance = 0;
        for (int b = 0; b < images.Count; b++)
        {
            int image = images[b];
            var box = boxes[b];
            var cover = BitPertinence.CellCoverage(box, maps.Height, maps.Width);
            chance += box.Area;
            for (int k = 0; k < maps.Bits; k++)
            {
                if (codes[(long)image * maps.Bits + k] <= 0) continue;
                var map = maps.Map(image, k);
                count++;
                if (BitPertinence.PeakInside(map, maps.Height, maps.Width, box)) hits++;
                mass += BitPertinence.Pertinence(map, cover);
            }
        }
        return new LocalisationScore(count > 0 ? (double)hits / count : double.NaN, count > 0 ? mass / count : double.NaN,
            images.Count > 0 ? chance / images.Count : double.NaN, count);
    }

    /// <summary>Both levels' localisation of <paramref name="model"/> on <paramref name="dataset"/>'s database images with a box (no training maps needed).</summary>
    public static (LocalisationScore Global, LocalisationScore Local) DatabaseLocalisation(DscnnModel model, TrainingConfig config, LandmarkDataset dataset,
        int imageSize, string? cacheDirectory, IProgress<ProgressReport>? progress = null)
    {
        using var source = FeatureSource.For(config with { ImageSize = imageSize }, model.Backbone, ImageFileSource.Database(dataset), cacheDirectory,
            model.GlobalHead.Weight.device, progress);
        var maps = BitActivationMaps.FromSource(model, source, config.InferenceBatch, progress);
        var (boxed, boxes) = BoxedDatabase(dataset);
        return (Localise(maps.Global, maps.GlobalCodes, boxed, boxes), Localise(maps.Local, maps.LocalCodes, boxed, boxes));
    }

    /// <summary>The database images that carry a landmark box, and their boxes as regions.</summary>
    private static (int[] Images, RegionBox[] Boxes) BoxedDatabase(LandmarkDataset dataset)
    {
        int[] boxed = [.. Enumerable.Range(0, dataset.Database.Count).Where(i => dataset.Database[i].Box is not null)];
        return (boxed, TrainingSelection.Boxes([.. boxed.Select(i => dataset.Database[i])]));
    }

    /// <summary>Mean selection score of every local bit over the training images (the dataset-level ranking).</summary>
    public double[] TrainingPertinence() => BitSelection.MeanScores(_train.Local, _trainBoxes);

    /// <inheritdoc />
    public void Dispose()
    {
        DatabaseGlobal.Dispose();
        DatabaseLocal.Dispose();
        QueryGlobal.Dispose();
        QueryLocal.Dispose();
    }
}
