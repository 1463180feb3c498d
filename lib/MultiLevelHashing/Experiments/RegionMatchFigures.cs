using System.Globalization;
using MultiLevelHashing.Attention;
using MultiLevelHashing.Attention.Rendering;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search.Regions;
using SkiaSharp;

namespace MultiLevelHashing.Experiments;

/// <summary>A query and one database image whose region matches a figure draws.</summary>
/// <param name="Query">Query index.</param>
/// <param name="Photo">Database index of the query's own photo (the query is the region inside its box).</param>
/// <param name="Image">Database index of the image matched against, a positive other than <paramref name="Photo"/>.</param>
/// <param name="Similarity">Region similarity K(Q, D) of the cropped query (as the search encodes it) to the image.</param>
/// <param name="Rank">The image's rank (1-based) when the whole database is ranked by region codes alone, ignored images left out.</param>
public sealed record RegionPair(int Query, int Photo, int Image, double Similarity, int Rank);

/// <summary>What a strength sheet of <see cref="RegionMatchFigures.WriteStrength"/> shows.</summary>
/// <param name="Path">The PNG.</param>
/// <param name="Title">Its title.</param>
/// <param name="Matches">Every location of the query's photo with its best location of the image (<see cref="RegionMatcher.Matches"/>).</param>
/// <param name="InsideQueryBox">How many of the matches start from a cell inside the query box.</param>
/// <param name="LandInsideImageBox">How many of those end on a cell inside the image's landmark box (0 where it has none).</param>
public sealed record MatchStrengthFigure(string Path, string Title, RegionMatch[] Matches, int InsideQueryBox, int LandInsideImageBox);

/// <summary>One way of keeping locations, and the matches that remain (lib/MultiLevelHashing/README.md sections 2.3 and 2.8).</summary>
/// <param name="Name">The selection ("all locations", "inside the query box", "strongest 16", "random 16").</param>
/// <param name="Query">The query photo's kept locations (one image).</param>
/// <param name="Image">The database image's kept locations (one image).</param>
/// <param name="Matches">Each kept query location with its best kept image location.</param>
/// <param name="Similarity">K(Q, D) of the kept locations, normalised by their own self-similarities.</param>
/// <param name="Kept">Matches that join the same two cells as a match of all locations.</param>
/// <param name="Dropped">Matches of all locations that join two cells no match of this selection joins, with their cells.</param>
public sealed record RegionSelectionPanel(string Name, RegionCodes Query, RegionCodes Image, RegionMatch[] Matches, double Similarity,
    int Kept, IReadOnlyList<(RegionPosition From, RegionPosition To, RegionMatch Match)> Dropped)
{
    /// <summary>Matches of this selection that all locations do not have: a query location whose best image location was dropped, now matched elsewhere.</summary>
    public int New => Matches.Length - Kept;
}

/// <summary>
/// Region-to-region matches of one query and one database image drawn for the bit-map and selection notebooks
/// (lib/MultiLevelHashing/README.md sections 2.3, 2.6 Rendering and 2.8): the query's whole photo, so that its box can
/// be seen against its surroundings, matched location by location to its best positive; lines coloured by the kernel
/// value (<see cref="MatchSheet.StrengthLines"/>). The search itself compares the codes of the cropped query (figure 7d);
/// the whole photo is a database image, so its codes are the database's own.
/// </summary>
public static class RegionMatchFigures
{
    /// <summary>
    /// The PCA-sign region codes of a benchmark as figure 7d and the tables' region rows make them (section 2.3): the
    /// ImageNet backbone's maps at <paramref name="imageSize"/> (cached under <paramref name="featureCache"/>), the coder
    /// fitted on the training views' locations (no labels), a matcher over the database's codes with
    /// <paramref name="config"/>'s kernel, and the cropped queries' codes.
    /// </summary>
    public static (RegionMatcher Matcher, RegionCodes Queries) PcaSignMatcher(LandmarkDataset dataset, RegionStudyConfig config, int imageSize,
        string? featureCache, IProgress<ProgressReport>? progress = null)
    {
        using var descriptors = BackboneDescriptors.Compute(dataset, imageSize, featureCache, progress: progress, withTraining: true);
        var (database, queries) = RegionStudy.PcaSignCodes(descriptors, config.Bits);
        return (new RegionMatcher(database, config.Kernel), queries);
    }

    /// <summary>
    /// The positive of query <paramref name="query"/> that region codes rank highest, other than the query's own photo
    /// (whose match to its own crop says nothing), with its similarity and rank: every database image scored by
    /// <paramref name="matcher"/> against the cropped query's codes <paramref name="queryRegions"/>, ties by index.
    /// </summary>
    /// <exception cref="ArgumentException">The query's photo is not a database image.</exception>
    /// <exception cref="InvalidOperationException">The query has no positive besides its own photo.</exception>
    public static RegionPair BestPositive(LandmarkDataset dataset, int query, RegionMatcher matcher, RegionCodes queryRegions, EvaluationProtocol protocol)
    {
        int photo = PhotoIndex(dataset, query);
        var relevance = dataset.GroundTruth.Relevance(query, protocol);
        var positives = relevance.Positives.ToHashSet();
        var ignored = relevance.Ignored.ToHashSet();
        var all = Enumerable.Range(0, matcher.Database.Count).ToArray();
        var scores = matcher.Similarities(queryRegions, query, all);
        int rank = 0;
        foreach (int id in RegionMatcher.Order(all, scores))
        {
            if (ignored.Contains(id)) continue;
            rank++;
            if (id != photo && positives.Contains(id)) return new RegionPair(query, photo, id, scores[id], rank);
        }
        throw new InvalidOperationException($"query {dataset.Queries[query].Id} has no positive besides its own photo");
    }

    /// <summary>Database index of query <paramref name="query"/>'s own photo.</summary>
    /// <exception cref="ArgumentException">The photo is not in the database.</exception>
    public static int PhotoIndex(LandmarkDataset dataset, int query)
    {
        var q = dataset.Queries[query];
        int photo = dataset.GroundTruth.IndexOf(q.ImageName);
        return photo >= 0 ? photo : throw new ArgumentException($"the photo '{q.ImageName}' of query {q.Id} is not a database image", nameof(query));
    }

    /// <summary>
    /// The regions of image <paramref name="image"/> whose grid cell centre lies inside <paramref name="box"/> (as the
    /// pointing game counts a map's peak, section 2.6; the centre is where a match's line ends), in region order; where
    /// no centre does, the region whose cell the box covers most (cell coverage, section 2.7), so that a small box keeps
    /// a location.
    /// </summary>
    public static int[] CellsInside(RegionCodes codes, int image, RegionBox box)
    {
        var cover = BitPertinence.CellCoverage(box, codes.GridHeight, codes.GridWidth);
        var positions = codes.Positions(image);
        var inside = new List<int>();
        int best = -1;
        for (int r = 0; r < positions.Length; r++)
        {
            var p = positions[r];
            if (box.Contains((p.Column + 0.5) / codes.GridWidth, (p.Row + 0.5) / codes.GridHeight)) inside.Add(r);
            if (best < 0 || cover[p.Row * codes.GridWidth + p.Column] > cover[positions[best].Row * codes.GridWidth + positions[best].Column]) best = r;
        }
        return inside.Count > 0 || best < 0 ? [.. inside] : [best];
    }

    /// <summary>
    /// Figure 5b: every location of the query's whole photo with its best location of the positive, coloured and widened by
    /// the kernel value (viridis from 0 to the strongest match), solid from cells inside the query box and dashed from
    /// the others; the query box and the positive's landmark box (where known) outlined. Written under
    /// <paramref name="folder"/> as <c>&lt;query id&gt;-strength.png</c>.
    /// </summary>
    public static MatchStrengthFigure WriteStrength(string folder, LandmarkDataset dataset, RegionPair pair, RegionMatcher matcher)
    {
        var q = dataset.Queries[pair.Query];
        var image = dataset.Database[pair.Image];
        var photoCodes = matcher.Database.Slice(pair.Photo, 1);
        var matches = matcher.Matches(photoCodes, 0, pair.Image);
        var inQuery = CellsInside(photoCodes, 0, TrainingSelection.Region(q.Path, q.Box)).ToHashSet();
        var inImage = image.Box is { } landmark
            ? CellsInside(matcher.Database, pair.Image, TrainingSelection.Region(image.Path, landmark)).ToHashSet()
            : [];
        int inside = matches.Count(m => inQuery.Contains(m.QueryRegion));
        int landing = matches.Count(m => inQuery.Contains(m.QueryRegion) && inImage.Contains(m.ImageRegion));
        float top = matches.Length == 0 ? 1 : Math.Max(1e-6f, matches.Max(m => m.Value));
        var lines = MatchSheet.StrengthLines(matches, top, m => !inQuery.Contains(m.QueryRegion));
        string landed = image.Box is null ? "" : Invariant($", {landing} of them landing inside the landmark's box");
        string title = Invariant($"query {q.Id}'s whole photo against {image.Name}, its best positive by region codes (rank {pair.Rank}, similarity {pair.Similarity:0.000}): {matches.Length} matches, {inside} from the {inQuery.Count} cells inside the query box{landed}");
        string footer = "white boxes: the query box and the positive's landmark box; line colour and width: kernel value sigma(u) of the pair; " +
                        "solid from a cell whose centre lies inside the query box, dashed from one outside";
        string path = MatchSheet.Write(Path.Combine(folder, $"{q.Id}-strength.png"),
            new MatchSide(q.Path, null, photoCodes, 0, $"query {q.Id} (whole photo)") { Outline = q.Box },
            new MatchSide(image.Path, null, matcher.Database, pair.Image, $"{image.Name} (positive)") { Outline = image.Box },
            lines, title, footer, top);
        return new MatchStrengthFigure(path, title, matches, inside, landing);
    }

    /// <summary>
    /// The matches of the query's whole photo and the pair's image under four selections of locations (section 2.3): all
    /// locations; the query locations inside the query box (query-adaptive, the image keeps all its locations); the
    /// <paramref name="count"/> strongest locations of both (the tables' "strongest regions" row); and as many random ones
    /// of both, seeded (its control). Each selection is matched and scored on its own, with <paramref name="matcher"/>'s
    /// kernel.
    /// </summary>
    public static IReadOnlyList<RegionSelectionPanel> Selections(LandmarkDataset dataset, RegionPair pair, RegionMatcher matcher, int count, int seed)
    {
        var q = dataset.Queries[pair.Query];
        var photo = matcher.Database.Slice(pair.Photo, 1);
        var image = matcher.Database.Slice(pair.Image, 1);
        var inside = CellsInside(photo, 0, TrainingSelection.Region(q.Path, q.Box));
        var choices = new (string Name, RegionCodes Query, RegionCodes Image)[]
        {
            ("all locations", photo, image),
            ("inside the query box", photo.Select((_, _) => inside), image),
            ($"strongest {count}", photo.Strongest(count), image.Strongest(count)),
            ($"random {count}", photo.Random(count, seed + 1), image.Random(count, seed)),
        };
        var panels = new List<RegionSelectionPanel>();
        RegionMatch[]? all = null;
        foreach (var (name, queryCodes, imageCodes) in choices)
        {
            var one = new RegionMatcher(imageCodes, matcher.Kernel);
            var matches = one.Matches(queryCodes, 0, 0);
            all ??= matches;
            // Matches of different selections index different region lists: compare them by the cells they join.
            var cells = matches.Select(m => Cells(queryCodes, imageCodes, m)).ToHashSet();
            var allCells = all.Select(m => Cells(photo, image, m)).ToHashSet();
            var dropped = all.Where(m => !cells.Contains(Cells(photo, image, m)))
                .Select(m => (photo.Positions(0)[m.QueryRegion], image.Positions(0)[m.ImageRegion], m)).ToList();
            panels.Add(new RegionSelectionPanel(name, queryCodes, imageCodes, matches, one.Similarity(queryCodes, 0, 0),
                matches.Count(m => allCells.Contains(Cells(queryCodes, imageCodes, m))), dropped));
        }
        return panels;
    }

    /// <summary>
    /// Figure 6: <see cref="Selections"/> drawn one under the other, the same query photo and image in every panel: the kept
    /// locations of a side that a selection reduced outlined in blue, their matches coloured by kernel value on one scale (the strongest match of all
    /// locations), matches new to the selection dashed, and the matches of all locations it dropped thin, dashed and grey.
    /// Written under <paramref name="folder"/> as <c>&lt;query id&gt;-selections.png</c>.
    /// </summary>
    public static (string Path, string Title, IReadOnlyList<RegionSelectionPanel> Panels) WriteSelections(string folder, LandmarkDataset dataset,
        RegionPair pair, RegionMatcher matcher, int count, int seed)
    {
        var q = dataset.Queries[pair.Query];
        var image = dataset.Database[pair.Image];
        var panels = Selections(dataset, pair, matcher, count, seed);
        var all = panels[0];
        float top = all.Matches.Length == 0 ? 1 : Math.Max(1e-6f, all.Matches.Max(m => m.Value));
        var allCells = all.Matches.Select(m => Cells(all.Query, all.Image, m)).ToHashSet();
        var bitmaps = new List<SKBitmap>();
        try
        {
            for (int i = 0; i < panels.Count; i++)
            {
                var p = panels[i];
                var lines = MatchSheet.StrengthLines(p.Matches, top, m => !allCells.Contains(Cells(p.Query, p.Image, m)));
                var under = p.Dropped.Select(d => (d.From, d.To, new MatchLine(d.Match, MatchSheet.Dropped, 1, Dashed: true))).ToList();
                string heading = Invariant($"{p.Name}: {p.Query.RegionCount(0)} of {all.Query.RegionCount(0)} query and {p.Image.RegionCount(0)} of {all.Image.RegionCount(0)} image locations; {p.Kept} of {all.Matches.Length} matches kept, {p.Dropped.Count} dropped, {p.New} new; similarity {p.Similarity:0.000}");
                bool last = i == panels.Count - 1;
                bitmaps.Add(MatchSheet.Render(
                    new MatchSide(q.Path, null, p.Query, 0, $"query {q.Id} (whole photo)") { Outline = q.Box, MarkRegions = p.Query.RegionCount(0) < all.Query.RegionCount(0) },
                    new MatchSide(image.Path, null, p.Image, 0, $"{image.Name} (positive)") { Outline = image.Box, MarkRegions = p.Image.RegionCount(0) < all.Image.RegionCount(0) },
                    lines, under, heading,
                    last ? "white boxes: the query box and the positive's landmark box; blue: the locations a selection kept; line colour and width: kernel value sigma(u); dashed: matches new to the selection; grey: matches it dropped" : null,
                    last ? top : null));
            }
            string title = Invariant($"query {q.Id} against {image.Name} (its best positive by region codes, rank {pair.Rank}): what each selection of locations keeps");
            using var sheet = MatchSheet.Stack(bitmaps, title);
            return (MatchSheet.WritePng(Path.Combine(folder, $"{q.Id}-selections.png"), sheet), title, panels);
        }
        finally
        {
            foreach (var b in bitmaps) b.Dispose();
        }
    }

    private static (int, int, int, int) Cells(RegionCodes query, RegionCodes image, RegionMatch m)
    {
        var a = query.Positions(0)[m.QueryRegion];
        var b = image.Positions(0)[m.ImageRegion];
        return (a.Row, a.Column, b.Row, b.Column);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
