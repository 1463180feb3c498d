using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Data;

/// <summary>
/// Axis-aligned query region in pixel coordinates of the full image, as the benchmarks write it:
/// <c>x1 y1 x2 y2</c> with (x1, y1) the top-left and (x2, y2) the bottom-right corner.
/// Oxford5k/Paris6k and the revisited files store floats; cropping rounds outward and clips to the image.
/// </summary>
public readonly record struct BoundingBox(double X1, double Y1, double X2, double Y2)
{
    /// <summary>Width <c>X2 - X1</c>.</summary>
    public double Width => X2 - X1;

    /// <summary>Height <c>Y2 - Y1</c>.</summary>
    public double Height => Y2 - Y1;

    /// <summary>True when every coordinate is finite, non-negative and the box has positive width and height.</summary>
    public bool IsValid => double.IsFinite(X1) && double.IsFinite(Y1) && double.IsFinite(X2) && double.IsFinite(Y2)
                           && X1 >= 0 && Y1 >= 0 && X2 > X1 && Y2 > Y1;

    /// <summary>Integer pixel rectangle (x, y, width, height) covering the box, rounded outward and clipped to an image of the given size.</summary>
    public (int X, int Y, int Width, int Height) ToPixelRectangle(int imageWidth, int imageHeight)
    {
        int x1 = Math.Clamp((int)Math.Floor(X1), 0, Math.Max(0, imageWidth - 1));
        int y1 = Math.Clamp((int)Math.Floor(Y1), 0, Math.Max(0, imageHeight - 1));
        int x2 = Math.Clamp((int)Math.Ceiling(X2), x1 + 1, imageWidth);
        int y2 = Math.Clamp((int)Math.Ceiling(Y2), y1 + 1, imageHeight);
        return (x1, y1, x2 - x1, y2 - y1);
    }

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"{X1} {Y1} {X2} {Y2}");
}

/// <summary>Labels of one query under the classic protocol, as database indices.</summary>
/// <param name="Positives">good ∪ ok, sorted, without duplicates.</param>
/// <param name="Junk">junk, sorted, without duplicates.</param>
/// <param name="Good">The good list alone where the source has it (text lists); null for a pickle, which stores only good ∪ ok.</param>
/// <param name="Ok">The ok list alone where the source has it; null for a pickle.</param>
public sealed record ClassicLabels(int[] Positives, int[] Junk, int[]? Good = null, int[]? Ok = null);

/// <summary>Labels of one query under the revisited protocols (Radenović et al. 2018), as database indices.</summary>
public sealed record RevisitedLabels(int[] Easy, int[] Hard, int[] Junk);

/// <summary>Positives and ignored images of one query under one protocol, as sorted database indices.</summary>
public sealed record QueryRelevance(int[] Positives, int[] Ignored);

/// <summary>
/// One query: its image, its box and its labels. <see cref="Id"/> is the text-list stem (<c>all_souls_1</c>) for
/// gt_files sources and the query image name for pickles.
/// </summary>
/// <param name="Id">Stable name of the query.</param>
/// <param name="ImageName">Query image name without extension and without the <c>oxc1_</c> prefix.</param>
/// <param name="Box">Query region; the query image is cropped to it.</param>
/// <param name="Landmark">Landmark name where the source tells it (text lists), else null.</param>
/// <param name="Classic">Classic labels, or null when the source has none (revisited pickles).</param>
/// <param name="Revisited">Revisited labels, or null when the source has none (Oxford text lists, classic pickles).</param>
public sealed record GroundTruthQuery(string Id, string ImageName, BoundingBox Box, string? Landmark,
                                     ClassicLabels? Classic, RevisitedLabels? Revisited);

/// <summary>
/// The ground truth of a retrieval benchmark: the database image list, the queries with their boxes, and per
/// protocol the positive and junk sets (lib/MultiLevelHashing/README.md section 3). One model for Oxford5k/Paris6k text lists, classic
/// and revisited <c>gnd_*.pkl</c> files and the generated mini-landmarks benchmark.
/// </summary>
/// <remarks>
/// Image names carry no extension and no <c>oxc1_</c> prefix. Label arrays index <see cref="DatabaseImages"/>.
/// When <see cref="DatabaseIsComplete"/> is false (text lists read without their image folder) the database list is
/// only the images that some list names; a ranked image outside it is then a negative for every query.
/// </remarks>
public sealed class GroundTruth
{
    private readonly Dictionary<string, int> _index;

    /// <summary>Creates a ground truth; validates that every label index is inside the database.</summary>
    public GroundTruth(string source, IReadOnlyList<string> databaseImages, IReadOnlyList<GroundTruthQuery> queries, bool databaseIsComplete)
    {
        Source = source;
        DatabaseImages = databaseImages;
        Queries = queries;
        DatabaseIsComplete = databaseIsComplete;
        _index = new Dictionary<string, int>(databaseImages.Count, StringComparer.Ordinal);
        for (int i = 0; i < databaseImages.Count; i++)
            if (!_index.TryAdd(databaseImages[i], i))
                throw new UserInputException($"{source}: image '{databaseImages[i]}' appears twice in the image list");
        foreach (var q in queries)
        {
            if (q.Classic is null && q.Revisited is null)
                throw new UserInputException($"{source}: query '{q.Id}' has no labels");
            foreach (var arr in Arrays(q))
                foreach (int i in arr)
                    if ((uint)i >= (uint)databaseImages.Count)
                        throw new UserInputException($"{source}: query '{q.Id}' refers to image index {i}, outside the {databaseImages.Count} database images");
        }
    }

    /// <summary>Where the ground truth was read from (a path), for messages.</summary>
    public string Source { get; }

    /// <summary>Database image names in index order.</summary>
    public IReadOnlyList<string> DatabaseImages { get; }

    /// <summary>Queries in the benchmark's official order (the order ranked lists must follow).</summary>
    public IReadOnlyList<GroundTruthQuery> Queries { get; }

    /// <summary>True when <see cref="DatabaseImages"/> is the full database (pickles, or text lists joined with their image folder).</summary>
    public bool DatabaseIsComplete { get; }

    /// <summary>Protocols every query supports: Classic when classic labels exist, Easy/Medium/Hard when revisited labels exist.</summary>
    public IReadOnlyList<EvaluationProtocol> Protocols
    {
        get
        {
            var list = new List<EvaluationProtocol>();
            if (Queries.Count > 0 && Queries.All(q => q.Classic is not null)) list.Add(EvaluationProtocol.Classic);
            if (Queries.Count > 0 && Queries.All(q => q.Revisited is not null))
                list.AddRange([EvaluationProtocol.Easy, EvaluationProtocol.Medium, EvaluationProtocol.Hard]);
            return list;
        }
    }

    /// <summary>The protocol reported when none is asked for: Classic where available, else Medium.</summary>
    public EvaluationProtocol DefaultProtocol => Protocols.Contains(EvaluationProtocol.Classic) ? EvaluationProtocol.Classic : EvaluationProtocol.Medium;

    /// <summary>Index of an image name in <see cref="DatabaseImages"/>, or -1.</summary>
    public int IndexOf(string imageName) => _index.TryGetValue(imageName, out int i) ? i : -1;

    /// <summary>
    /// Positives and ignored images of query <paramref name="query"/> under <paramref name="protocol"/>:
    /// Classic: good ∪ ok / junk. Easy: easy / junk ∪ hard. Medium: easy ∪ hard / junk. Hard: hard / junk ∪ easy.
    /// </summary>
    /// <exception cref="UserInputException">The ground truth has no labels for that protocol.</exception>
    public QueryRelevance Relevance(int query, EvaluationProtocol protocol)
    {
        var q = Queries[query];
        if (protocol == EvaluationProtocol.Classic)
        {
            var c = q.Classic ?? throw new UserInputException($"{Source}: has no classic (good/ok/junk) labels; its protocols are easy, medium and hard");
            return new QueryRelevance(c.Positives, c.Junk);
        }
        var r = q.Revisited ?? throw new UserInputException($"{Source}: has no revisited (easy/hard/junk) labels; its protocol is classic");
        return protocol switch
        {
            EvaluationProtocol.Easy => new QueryRelevance(r.Easy, Union(r.Junk, r.Hard)),
            EvaluationProtocol.Medium => new QueryRelevance(Union(r.Easy, r.Hard), r.Junk),
            EvaluationProtocol.Hard => new QueryRelevance(r.Hard, Union(r.Junk, r.Easy)),
            _ => throw new ArgumentOutOfRangeException(nameof(protocol)),
        };
    }

    /// <summary>
    /// The same ground truth over a new database list (an image folder, optionally with distractors appended):
    /// labels are re-indexed by name. Every labelled image must be in the new list.
    /// </summary>
    public GroundTruth WithDatabase(IReadOnlyList<string> databaseImages, bool isComplete = true)
    {
        var index = new Dictionary<string, int>(databaseImages.Count, StringComparer.Ordinal);
        for (int i = 0; i < databaseImages.Count; i++)
            if (!index.TryAdd(databaseImages[i], i))
                throw new UserInputException($"{Source}: image '{databaseImages[i]}' appears twice in the database");
        int[] Map(int[]? arr)
        {
            if (arr is null) return null!;
            var result = new int[arr.Length];
            for (int k = 0; k < arr.Length; k++)
            {
                string name = DatabaseImages[arr[k]];
                if (!index.TryGetValue(name, out result[k]))
                    throw new UserInputException($"{Source}: the ground truth names image '{name}', which is not in the database image list");
            }
            Array.Sort(result);
            return result;
        }
        var queries = Queries.Select(q => q with
        {
            Classic = q.Classic is null ? null : new ClassicLabels(Map(q.Classic.Positives), Map(q.Classic.Junk),
                q.Classic.Good is null ? null : Map(q.Classic.Good), q.Classic.Ok is null ? null : Map(q.Classic.Ok)),
            Revisited = q.Revisited is null ? null : new RevisitedLabels(Map(q.Revisited.Easy), Map(q.Revisited.Hard), Map(q.Revisited.Junk)),
        }).ToList();
        return new GroundTruth(Source, databaseImages, queries, isComplete);
    }

    /// <summary>
    /// Labels of a query from the grades of its landmark's views (the generated mini-landmarks rule): classic positives
    /// are good and ok, junk is ignored; revisited easy = good, hard = ok. Arguments are sorted database indices.
    /// </summary>
    internal static (ClassicLabels Classic, RevisitedLabels Revisited) LabelsFromGrades(int[] good, int[] ok, int[] junk) =>
        (new ClassicLabels(Union(good, ok), junk, good, ok), new RevisitedLabels(good, ok, junk));

    /// <summary>Sorted union of two sorted index sets.</summary>
    internal static int[] Union(int[] a, int[] b)
    {
        var set = new SortedSet<int>(a);
        set.UnionWith(b);
        return [.. set];
    }

    private static IEnumerable<int[]> Arrays(GroundTruthQuery q)
    {
        if (q.Classic is { } c)
        {
            yield return c.Positives; yield return c.Junk;
            if (c.Good is not null) yield return c.Good;
            if (c.Ok is not null) yield return c.Ok;
        }
        if (q.Revisited is { } r) { yield return r.Easy; yield return r.Hard; yield return r.Junk; }
    }
}
