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
public sealed record MatchSide(string Path, BoundingBox? Box, RegionCodes Codes, int Index, string Caption);

/// <summary>
/// Region-to-region matches drawn as lines between a query and a database photo (lib/MultiLevelHashing/README.md
/// sections 2.7 and 2.8): each query region's best database region under the selective kernel, from grid cell centre to
/// grid cell centre, the line's opacity by the kernel value; matches that one placement of the query on the grid explains
/// (the spatial verifier's inliers, when there are at least its minimum) in green, the others in orange. The grid is drawn over both photos: the network sees each
/// stretched to a square, so a cell is a fixed fraction of the photo's width and height.
/// </summary>
public static class MatchSheet
{
    /// <summary>Longer side each photo is scaled to.</summary>
    public const int PhotoSide = 320;

    private const int Gap = 24, TitleHeight = 26, LineHeight = 17, CaptionHeight = 22;

    /// <summary>Inlier and outlier line colours.</summary>
    public static readonly SKColor Inlier = new(60, 220, 90), Outlier = new(255, 150, 40);

    /// <summary>
    /// Renders <paramref name="matches"/> between <paramref name="query"/> and <paramref name="image"/>;
    /// <paramref name="inliers"/> (a subset of the matches) are drawn as inliers.
    /// </summary>
    public static SKBitmap Render(MatchSide query, MatchSide image, IReadOnlyList<RegionMatch> matches, IReadOnlyCollection<RegionMatch> inliers, string title)
    {
        using var left = Photo(query);
        using var right = Photo(image);
        int width = Gap + left.Width + Gap * 2 + right.Width + Gap;
        using var font = CaptionFont.At(13);
        var titleLines = Wrap(title, font, width - 2 * Gap);
        int titleHeight = TitleHeight + (titleLines.Count - 1) * LineHeight;
        int photoHeight = Math.Max(left.Height, right.Height);
        int height = titleHeight + photoHeight + CaptionHeight + Gap / 2;
        var sheet = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(sheet);
        canvas.Clear(new SKColor(24, 24, 24));
        using var white = new SKPaint { Color = SKColors.White, IsAntialias = true };
        for (int i = 0; i < titleLines.Count; i++)
            canvas.DrawText(titleLines[i], Gap, TitleHeight - 8 + i * LineHeight, SKTextAlign.Left, font, white);

        var leftOrigin = new SKPoint(Gap, titleHeight);
        var rightOrigin = new SKPoint(Gap + left.Width + 2 * Gap, titleHeight);
        canvas.DrawBitmap(left, leftOrigin);
        canvas.DrawBitmap(right, rightOrigin);
        DrawGrid(canvas, leftOrigin, left, query.Codes);
        DrawGrid(canvas, rightOrigin, right, image.Codes);
        canvas.DrawText(query.Caption, leftOrigin.X, titleHeight + photoHeight + 16, SKTextAlign.Left, font, white);
        canvas.DrawText(image.Caption, rightOrigin.X, titleHeight + photoHeight + 16, SKTextAlign.Left, font, white);

        var queryPositions = query.Codes.Positions(query.Index);
        var imagePositions = image.Codes.Positions(image.Index);
        var inlierSet = inliers.ToHashSet();
        float strongest = matches.Count == 0 ? 1 : Math.Max(1e-6f, matches.Max(m => m.Value));
        using var line = new SKPaint { IsAntialias = true, StrokeWidth = 2, Style = SKPaintStyle.Stroke };
        using var dot = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        // Outliers first, so the inliers stay visible on top.
        foreach (var m in matches.OrderBy(m => inlierSet.Contains(m)).ThenBy(m => m.Value))
        {
            var colour = inlierSet.Contains(m) ? Inlier : Outlier;
            byte alpha = (byte)Math.Clamp(80 + 175 * m.Value / strongest, 0, 255);
            line.Color = colour.WithAlpha(alpha);
            dot.Color = colour.WithAlpha(alpha);
            var from = CellCentre(leftOrigin, left, query.Codes, queryPositions[m.QueryRegion]);
            var to = CellCentre(rightOrigin, right, image.Codes, imagePositions[m.ImageRegion]);
            canvas.DrawLine(from, to, line);
            canvas.DrawCircle(from, 3, dot);
            canvas.DrawCircle(to, 3, dot);
        }
        canvas.Flush();
        return sheet;
    }

    /// <summary>Writes <see cref="Render"/>'s sheet as a PNG at <paramref name="path"/>, atomically.</summary>
    public static string Write(string path, MatchSide query, MatchSide image, IReadOnlyList<RegionMatch> matches, IReadOnlyCollection<RegionMatch> inliers, string title)
    {
        using var sheet = Render(query, image, matches, inliers, title);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllBytes(path, MapOverlay.EncodePng(sheet));
        return path;
    }

    /// <summary>
    /// The sheets of query <paramref name="query"/>'s highest-ranked positive and highest-ranked negative in
    /// <paramref name="ranking"/> (a region-level search's ranking): what region matching finds on the same landmark, and
    /// what it finds on another one. Titles give the rank, the region score, the matches and the verifier's inliers.
    /// Written under <paramref name="folder"/> as <c>&lt;query id&gt;-positive.png</c> and <c>-negative.png</c>.
    /// </summary>
    public static IReadOnlyList<(string Path, string Title)> WriteTopPositiveAndNegative(string folder, LandmarkDataset dataset, int query,
        RegionRanking ranking, RegionMatcher matcher, RegionCodes queryRegions, SpatialVerifier verifier, EvaluationProtocol protocol)
    {
        var relevance = dataset.GroundTruth.Relevance(query, protocol);
        var positives = relevance.Positives.ToHashSet();
        var ignored = relevance.Ignored.ToHashSet();
        var q = dataset.Queries[query];
        var sheets = new List<(string, string)>();
        foreach (var (kind, wanted) in new[] { ("positive", true), ("negative", false) })
        {
            int rank = Array.FindIndex(ranking.Ids, id => !ignored.Contains(id) && positives.Contains(id) == wanted);
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
