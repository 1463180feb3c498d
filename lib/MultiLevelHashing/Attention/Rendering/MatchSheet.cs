using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search.Regions;
using SkiaSharp;

namespace MultiLevelHashing.Attention.Rendering;

/// <summary>One side of a <see cref="MatchSheet"/>: a photo (cropped to the query box when given) and its region codes.</summary>
/// <param name="Path">Image file.</param>
/// <param name="Box">The query box the codes were computed inside; null for a whole database image.</param>
/// <param name="Codes">Region codes holding this image's regions.</param>
/// <param name="Index">The image's index in <paramref name="Codes"/>.</param>
/// <param name="Caption">Text under the photo.</param>
public sealed record MatchSide(string Path, BoundingBox? Box, RegionCodes Codes, int Index, string Caption)
{
    /// <summary>
    /// A box drawn over the photo in white, in pixels of the whole image file (the query box on a query's whole photo,
    /// the landmark's box on a database view); null for none.
    /// </summary>
    public BoundingBox? Outline { get; init; }

    /// <summary>Whether the cell of every region in <see cref="Codes"/> is outlined, to show which locations a selection kept.</summary>
    public bool MarkRegions { get; init; }
}

/// <summary>One line of a <see cref="MatchSheet"/>: a match and how it is drawn.</summary>
/// <param name="Match">The match, by region indices of the two sides' codes.</param>
/// <param name="Colour">Line and end-dot colour (its alpha included).</param>
/// <param name="Width">Stroke width in pixels.</param>
/// <param name="Dashed">Drawn dashed rather than solid.</param>
public readonly record struct MatchLine(RegionMatch Match, SKColor Colour, float Width, bool Dashed = false);

/// <summary>
/// Region-to-region matches drawn as lines between a query and a database photo (lib/MultiLevelHashing/README.md
/// sections 2.3, 2.6 Rendering and 2.8): each query region's best database region under the selective kernel, from grid
/// cell centre to grid cell centre. Two views: verification (figure 7d), the line's opacity by the kernel value, matches
/// that one placement of the query on the grid explains (the spatial verifier's inliers, when there are at least its
/// minimum) in green, the others in orange; and strength (notebooks 05 and 06), each line coloured with viridis and
/// widened by its kernel value, optionally dashed, over the matches a selection dropped in grey. The grid is drawn over
/// both photos: the network sees each stretched to a square, so a cell is a fixed fraction of the photo's width and height.
/// </summary>
public static class MatchSheet
{
    /// <summary>Longer side each photo is scaled to.</summary>
    public const int PhotoSide = 320;

    private const int Gap = 24, TitleHeight = 26, LineHeight = 17, CaptionHeight = 22, BarHeight = 10;

    /// <summary>Inlier and outlier line colours.</summary>
    public static readonly SKColor Inlier = new(60, 220, 90), Outlier = new(255, 150, 40);

    /// <summary>Colour of the matches a selection dropped, drawn thin and dashed under the kept ones (notebook 06).</summary>
    public static readonly SKColor Dropped = new(150, 150, 150, 150);

    /// <summary>
    /// Renders <paramref name="matches"/> between <paramref name="query"/> and <paramref name="image"/>;
    /// <paramref name="inliers"/> (a subset of the matches) are drawn as inliers.
    /// </summary>
    public static SKBitmap Render(MatchSide query, MatchSide image, IReadOnlyList<RegionMatch> matches, IReadOnlyCollection<RegionMatch> inliers, string title) =>
        Render(query, image, VerificationLines(matches, inliers), title);

    /// <summary>
    /// The lines of the verification view (figure 7d): inliers green, the others orange, each line's opacity by its
    /// kernel value relative to the strongest match; outliers first, so that the inliers stay visible on top.
    /// </summary>
    public static IReadOnlyList<MatchLine> VerificationLines(IReadOnlyList<RegionMatch> matches, IReadOnlyCollection<RegionMatch> inliers)
    {
        var inlierSet = inliers.ToHashSet();
        float strongest = matches.Count == 0 ? 1 : Math.Max(1e-6f, matches.Max(m => m.Value));
        return [.. matches.OrderBy(m => inlierSet.Contains(m)).ThenBy(m => m.Value).Select(m =>
            new MatchLine(m, (inlierSet.Contains(m) ? Inlier : Outlier).WithAlpha((byte)Math.Clamp(80 + 175 * m.Value / strongest, 0, 255)), 2))];
    }

    /// <summary>
    /// The lines of the strength view (notebooks 05 and 06): each match coloured with viridis (<see cref="HeatColormap"/>, the
    /// colours of the bit maps) by its kernel value sigma(u) over [0, <paramref name="colourMax"/>], and 1.5 to 4.5 px wide by
    /// the same share, so that the matches that decide the region score stand out; weakest first, so the strongest lie on
    /// top. Matches for which <paramref name="dashed"/> holds are drawn dashed (e.g. those whose query cell lies outside
    /// the query box).
    /// </summary>
    public static IReadOnlyList<MatchLine> StrengthLines(IReadOnlyList<RegionMatch> matches, float colourMax, Func<RegionMatch, bool>? dashed = null)
    {
        if (!(colourMax > 0)) throw new ArgumentOutOfRangeException(nameof(colourMax), colourMax, "the top of the colour range must be positive");
        return [.. matches.OrderBy(m => m.Value).Select(m =>
        {
            double t = Math.Clamp(m.Value / colourMax, 0, 1);
            var (r, g, b) = HeatColormap.At(t);
            return new MatchLine(m, new SKColor(r, g, b), (float)(1.5 + 3 * t), dashed?.Invoke(m) ?? false);
        })];
    }

    /// <summary>
    /// Renders <paramref name="lines"/> between <paramref name="query"/> and <paramref name="image"/> in the order given
    /// (later lines on top), from the query region's cell centre to the database region's. <paramref name="footer"/>, when
    /// given, is text under the captions, wrapped to the sheet's width; with <paramref name="colourMax"/> it is followed by
    /// the viridis bar of <see cref="StrengthLines"/> from 0 to that value.
    /// </summary>
    public static SKBitmap Render(MatchSide query, MatchSide image, IReadOnlyList<MatchLine> lines, string title, string? footer = null, float? colourMax = null) =>
        Render(query, image, lines, [], title, footer, colourMax);

    /// <summary>
    /// <see cref="Render(MatchSide, MatchSide, IReadOnlyList{MatchLine}, string, string?, float?)"/> with
    /// <paramref name="under"/> drawn first, between cells given by their own positions (matches of other codes, such as
    /// those a selection dropped, whose regions are not in the drawn sides' codes).
    /// </summary>
    public static SKBitmap Render(MatchSide query, MatchSide image, IReadOnlyList<MatchLine> lines, IReadOnlyList<(RegionPosition From, RegionPosition To, MatchLine Line)> under,
        string title, string? footer = null, float? colourMax = null)
    {
        using var left = Photo(query);
        using var right = Photo(image);
        int width = Gap + left.Width + Gap * 2 + right.Width + Gap;
        using var font = CaptionFont.At(13);
        var titleLines = Wrap(title, font, width - 2 * Gap);
        int titleHeight = TitleHeight + (titleLines.Count - 1) * LineHeight;
        int photoHeight = Math.Max(left.Height, right.Height);
        using var small = CaptionFont.At(11);
        var footerLines = footer is null ? [] : Wrap(footer, small, width - 2 * Gap);
        int footerHeight = footerLines.Count * LineHeight + (footer is null || colourMax is null ? 0 : BarHeight + 6);
        int height = titleHeight + photoHeight + CaptionHeight + footerHeight + Gap / 2;
        var (sheet, canvas, white) = TitledSheet(width, height, new SKColor(24, 24, 24), titleLines, font);
        using var _ = canvas;
        using var __ = white;

        var leftOrigin = new SKPoint(Gap, titleHeight);
        var rightOrigin = new SKPoint(Gap + left.Width + 2 * Gap, titleHeight);
        canvas.DrawBitmap(left, leftOrigin);
        canvas.DrawBitmap(right, rightOrigin);
        DrawGrid(canvas, leftOrigin, left, query.Codes);
        DrawGrid(canvas, rightOrigin, right, image.Codes);
        DrawSelection(canvas, leftOrigin, left, query);
        DrawSelection(canvas, rightOrigin, right, image);
        DrawOutline(canvas, leftOrigin, left, query);
        DrawOutline(canvas, rightOrigin, right, image);
        float captionY = titleHeight + photoHeight + 16;
        canvas.DrawText(query.Caption, leftOrigin.X, captionY, SKTextAlign.Left, font, white);
        canvas.DrawText(image.Caption, rightOrigin.X, captionY, SKTextAlign.Left, font, white);
        if (footer is not null)
        {
            using var grey = new SKPaint { Color = new SKColor(200, 200, 200), IsAntialias = true };
            float footerY = captionY;
            foreach (string footerLine in footerLines)
            {
                footerY += LineHeight;
                canvas.DrawText(footerLine, Gap, footerY, SKTextAlign.Left, small, grey);
            }
            if (colourMax is { } top) DrawColourBar(canvas, Gap, footerY + 6, width - 2 * Gap, top, small, grey);
        }

        var queryPositions = query.Codes.Positions(query.Index);
        var imagePositions = image.Codes.Positions(image.Index);
        using var line = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var dot = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        using var dash = SKPathEffect.CreateDash([6, 4], 0);
        void Draw(RegionPosition fromCell, RegionPosition toCell, MatchLine l)
        {
            line.Color = l.Colour;
            line.StrokeWidth = l.Width;
            line.PathEffect = l.Dashed ? dash : null;
            dot.Color = l.Colour;
            var from = CellCentre(leftOrigin, left, query.Codes, fromCell);
            var to = CellCentre(rightOrigin, right, image.Codes, toCell);
            canvas.DrawLine(from, to, line);
            float radius = Math.Max(3, l.Width);
            canvas.DrawCircle(from, radius, dot);
            canvas.DrawCircle(to, radius, dot);
        }
        foreach (var (from, to, l) in under) Draw(from, to, l);
        foreach (var l in lines) Draw(queryPositions[l.Match.QueryRegion], imagePositions[l.Match.ImageRegion], l);
        canvas.Flush();
        return sheet;
    }

    /// <summary>Writes a sheet of <paramref name="lines"/> as a PNG at <paramref name="path"/>, atomically (see <see cref="Render(MatchSide, MatchSide, IReadOnlyList{MatchLine}, string, string?, float?)"/>).</summary>
    public static string Write(string path, MatchSide query, MatchSide image, IReadOnlyList<MatchLine> lines, string title, string? footer = null, float? colourMax = null)
    {
        using var sheet = Render(query, image, lines, title, footer, colourMax);
        return WritePng(path, sheet);
    }

    /// <summary>Encodes <paramref name="sheet"/> as a PNG at <paramref name="path"/>, atomically, creating its folder.</summary>
    public static string WritePng(string path, SKBitmap sheet)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllBytes(path, MapOverlay.EncodePng(sheet));
        return path;
    }

    /// <summary>
    /// Sheets one under the other, under a title wrapped to the widest sheet (the panels of a comparison, e.g. one per
    /// region selection in notebook 06).
    /// </summary>
    public static SKBitmap Stack(IReadOnlyList<SKBitmap> panels, string title)
    {
        if (panels.Count == 0) throw new ArgumentException("a stack needs at least one panel", nameof(panels));
        int width = panels.Max(p => p.Width);
        using var font = CaptionFont.At(14);
        var titleLines = Wrap(title, font, width - 2 * Gap);
        int titleHeight = TitleHeight + (titleLines.Count - 1) * LineHeight;
        int height = titleHeight + panels.Sum(p => p.Height) + (panels.Count - 1) * 4;
        var (sheet, canvas, white) = TitledSheet(width, height, new SKColor(60, 60, 60), titleLines, font);
        using var _ = canvas;
        using var __ = white;
        int y = titleHeight;
        foreach (var panel in panels)
        {
            canvas.DrawBitmap(panel, 0, y);
            y += panel.Height + 4;
        }
        canvas.Flush();
        return sheet;
    }

    /// <summary>Writes <see cref="Render(MatchSide, MatchSide, IReadOnlyList{RegionMatch}, IReadOnlyCollection{RegionMatch}, string)"/>'s sheet as a PNG at <paramref name="path"/>, atomically.</summary>
    public static string Write(string path, MatchSide query, MatchSide image, IReadOnlyList<RegionMatch> matches, IReadOnlyCollection<RegionMatch> inliers, string title)
    {
        using var sheet = Render(query, image, matches, inliers, title);
        return WritePng(path, sheet);
    }

    /// <summary>
    /// The sheets of query <paramref name="query"/>'s highest-ranked positive and highest-ranked negative in
    /// <paramref name="ranking"/> (a region-level search's ranking): what region matching finds on the same landmark, and
    /// what it finds on another one; the query's own photo, from which it is cut, is skipped. Titles give the rank, the region score, the matches and the verifier's inliers.
    /// Written under <paramref name="folder"/> as <c>&lt;query id&gt;-positive.png</c> and <c>-negative.png</c>.
    /// </summary>
    public static IReadOnlyList<(string Path, string Title)> WriteTopPositiveAndNegative(string folder, LandmarkDataset dataset, int query,
        RegionRanking ranking, RegionMatcher matcher, RegionCodes queryRegions, SpatialVerifier verifier, EvaluationProtocol protocol)
    {
        var relevance = dataset.GroundTruth.Relevance(query, protocol);
        var positives = relevance.Positives.ToHashSet();
        var ignored = relevance.Ignored.ToHashSet();
        var q = dataset.Queries[query];
        // The query is cut out of its own photo, a database positive: matching the crop to it says nothing, so it is skipped.
        int own = dataset.GroundTruth.IndexOf(q.ImageName);
        var sheets = new List<(string, string)>();
        foreach (var (kind, wanted) in new[] { ("positive", true), ("negative", false) })
        {
            int rank = Array.FindIndex(ranking.Ids, id => !ignored.Contains(id) && id != own && positives.Contains(id) == wanted);
            if (rank < 0) continue;
            int id = ranking.Ids[rank];
            var matches = matcher.Matches(queryRegions, query, id);
            var verification = verifier.Verify(matches, queryRegions, query, matcher.Database, id);
            IReadOnlyList<RegionMatch> inliers = verification.Inliers >= verifier.MinInliers ? verification.InlierMatches : [];
            string score = rank < ranking.Reranked ? $", region score {ranking.RegionScores[rank]:0.000}" : "";
            string title = $"query {q.Id} against {dataset.Database[id].Name}, the top {kind} (rank {rank + 1}{score}): " +
                           $"{matches.Length} matches, {inliers.Count} placed by one {(verifier.Model == GridTransformModel.AxisAligned ? "axis-aligned" : "similarity")} transform";
            string path = Write(Path.Combine(folder, $"{q.Id}-{kind}.png"),
                new MatchSide(q.Path, q.Box, queryRegions, query, $"query {q.Id} (box)"),
                new MatchSide(dataset.Database[id].Path, null, matcher.Database, id, $"{dataset.Database[id].Name} ({kind})"),
                matches, inliers, title);
            sheets.Add((path, title));
        }
        return sheets;
    }

    /// <summary>A blank sheet on <paramref name="background"/> with the wrapped title drawn at its top, its canvas and the white text paint.</summary>
    private static (SKBitmap Sheet, SKCanvas Canvas, SKPaint White) TitledSheet(int width, int height, SKColor background, IReadOnlyList<string> titleLines, SKFont font)
    {
        var sheet = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var canvas = new SKCanvas(sheet);
        canvas.Clear(background);
        var white = new SKPaint { Color = SKColors.White, IsAntialias = true };
        for (int i = 0; i < titleLines.Count; i++)
            canvas.DrawText(titleLines[i], Gap, TitleHeight - 8 + i * LineHeight, SKTextAlign.Left, font, white);
        return (sheet, canvas, white);
    }

    /// <summary>The centre of a region's grid cell on a drawn photo: cell (r, c) covers the fractions [c, c+1]/w and [r, r+1]/h of it.</summary>
    public static SKPoint CellCentre(SKPoint origin, SKBitmap photo, RegionCodes codes, RegionPosition position) =>
        new(origin.X + (position.Column + 0.5f) * photo.Width / codes.GridWidth, origin.Y + (position.Row + 0.5f) * photo.Height / codes.GridHeight);

    /// <summary>Words of <paramref name="text"/> in lines no wider than <paramref name="width"/> (a longer word keeps its own line).</summary>
    private static List<string> Wrap(string text, SKFont font, float width)
    {
        var lines = new List<string>();
        string line = "";
        foreach (string word in text.Split(' '))
        {
            string longer = line.Length == 0 ? word : line + " " + word;
            if (line.Length > 0 && font.MeasureText(longer) > width)
            {
                lines.Add(line);
                line = word;
            }
            else line = longer;
        }
        lines.Add(line);
        return lines;
    }

    /// <summary>The viridis bar of <see cref="StrengthLines"/> from 0 to <paramref name="top"/>, with its end labels.</summary>
    private static void DrawColourBar(SKCanvas canvas, float x, float y, float width, float top, SKFont font, SKPaint text)
    {
        string low = "sigma 0", high = FormattableString.Invariant($"{top:0.###}");
        float left = x + font.MeasureText(low) + 6, right = x + width - font.MeasureText(high) - 6;
        using var paint = new SKPaint { Style = SKPaintStyle.Fill };
        for (float px = left; px < right; px++)
        {
            var (r, g, b) = HeatColormap.At((px - left) / Math.Max(1, right - 1 - left));
            paint.Color = new SKColor(r, g, b);
            canvas.DrawRect(px, y, 1, BarHeight, paint);
        }
        canvas.DrawText(low, x, y + BarHeight - 1, SKTextAlign.Left, font, text);
        canvas.DrawText(high, x + width, y + BarHeight - 1, SKTextAlign.Right, font, text);
    }

    /// <summary>A white outline of the side's <see cref="MatchSide.Outline"/> box, shifted by the crop and scaled as the photo.</summary>
    private static void DrawOutline(SKCanvas canvas, SKPoint origin, SKBitmap photo, MatchSide side)
    {
        if (side.Outline is not { } box) return;
        var (width, height) = side.Box is { } crop ? (crop.Width, crop.Height) : ImageLoader.Size(side.Path);
        double x0 = side.Box?.X1 ?? 0, y0 = side.Box?.Y1 ?? 0;
        float sx = (float)(photo.Width / width), sy = (float)(photo.Height / height);
        float left = Math.Clamp((float)(box.X1 - x0) * sx, 0, photo.Width - 1), right = Math.Clamp((float)(box.X2 - x0) * sx, 0, photo.Width - 1);
        float top = Math.Clamp((float)(box.Y1 - y0) * sy, 0, photo.Height - 1), bottom = Math.Clamp((float)(box.Y2 - y0) * sy, 0, photo.Height - 1);
        using var paint = new SKPaint { Color = SKColors.White, StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
        canvas.DrawRect(origin.X + left, origin.Y + top, right - left, bottom - top, paint);
    }

    /// <summary>With <see cref="MatchSide.MarkRegions"/>, a light outline of every region's cell: the locations a selection kept.</summary>
    private static void DrawSelection(SKCanvas canvas, SKPoint origin, SKBitmap photo, MatchSide side)
    {
        if (!side.MarkRegions) return;
        using var paint = new SKPaint { Color = new SKColor(120, 200, 255, 220), StrokeWidth = 2, Style = SKPaintStyle.Stroke };
        float cw = photo.Width / (float)side.Codes.GridWidth, ch = photo.Height / (float)side.Codes.GridHeight;
        foreach (var p in side.Codes.Positions(side.Index))
            canvas.DrawRect(origin.X + p.Column * cw + 2, origin.Y + p.Row * ch + 2, cw - 4, ch - 4, paint);
    }

    private static void DrawGrid(SKCanvas canvas, SKPoint origin, SKBitmap photo, RegionCodes codes)
    {
        using var grid = new SKPaint { Color = SKColors.White.WithAlpha(60), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        for (int c = 1; c < codes.GridWidth; c++)
        {
            float x = origin.X + c * photo.Width / (float)codes.GridWidth;
            canvas.DrawLine(x, origin.Y, x, origin.Y + photo.Height, grid);
        }
        for (int r = 1; r < codes.GridHeight; r++)
        {
            float y = origin.Y + r * photo.Height / (float)codes.GridHeight;
            canvas.DrawLine(origin.X, y, origin.X + photo.Width, y, grid);
        }
    }

    /// <summary>The photo (cropped to the box when given) with its longer side scaled to <see cref="PhotoSide"/>.</summary>
    private static SKBitmap Photo(MatchSide side)
    {
        using var image = ImageLoader.LoadRgb(side.Path, side.Box, ImageResize.Longer(PhotoSide));
        return ContactSheet.ToBitmap(image);
    }
}
