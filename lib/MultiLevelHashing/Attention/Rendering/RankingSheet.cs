using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SkiaSharp;

namespace MultiLevelHashing.Attention.Rendering;

/// <summary>One labelled row of a <see cref="RankingSheet"/>: the top database indices of a ranking.</summary>
public sealed record RankingRow(string Label, IReadOnlyList<int> Ids);

/// <summary>
/// A query's rankings as rows of thumbnails (lib/MultiLevelHashing/README.md section 2.8): the cropped query on the
/// left, then the top k database images of each ranking, framed by their label under the protocol (green positive,
/// red negative, grey ignored) and numbered by rank, so that what re-ranking changed is visible at a glance.
/// </summary>
public static class RankingSheet
{
    /// <summary>Side of the square a thumbnail is fitted into.</summary>
    public const int Tile = 112;

    /// <summary>Frame width around each thumbnail.</summary>
    public const int Frame = 4;

    private const int Gap = 6, LabelWidth = 150, TitleHeight = 26;

    /// <summary>Frame colours: positive, negative, ignored.</summary>
    public static readonly SKColor Positive = new(40, 180, 70), Negative = new(210, 50, 50), Ignored = new(140, 140, 140);

    /// <summary>Renders query <paramref name="query"/> of <paramref name="dataset"/> with <paramref name="rows"/> (first <paramref name="k"/> of each) under <paramref name="protocol"/>.</summary>
    public static SKBitmap Render(LandmarkDataset dataset, int query, IReadOnlyList<RankingRow> rows, int k, EvaluationProtocol protocol, string title)
    {
        if (rows.Count == 0) throw new ArgumentException("no rankings to draw", nameof(rows));
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var relevance = dataset.GroundTruth.Relevance(query, protocol);
        var positives = relevance.Positives.ToHashSet();
        var ignored = relevance.Ignored.ToHashSet();
        int cell = Tile + 2 * Frame;
        int width = Gap + LabelWidth + cell + 2 * Gap + k * (cell + Gap);
        int height = TitleHeight + rows.Count * (cell + Gap + 14) + Gap;
        var sheet = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(sheet);
        canvas.Clear(new SKColor(24, 24, 24));
        using var font = CaptionFont.At(13);
        using var small = CaptionFont.At(11);
        using var white = new SKPaint { Color = SKColors.White, IsAntialias = true };
        canvas.DrawText(title, Gap, TitleHeight - 8, SKTextAlign.Left, font, white);
        var q = dataset.Queries[query];
        using var queryTile = Thumbnail(q.Path, q.Box);
        for (int r = 0; r < rows.Count; r++)
        {
            int top = TitleHeight + r * (cell + Gap + 14);
            canvas.DrawText(rows[r].Label, Gap, top + cell / 2, SKTextAlign.Left, font, white);
            int x = Gap + LabelWidth;
            Draw(canvas, queryTile, x, top, new SKColor(70, 130, 230));
            canvas.DrawText("query", x + cell / 2, top + cell + 12, SKTextAlign.Center, small, white);
            x += cell + 2 * Gap;
            for (int i = 0; i < Math.Min(k, rows[r].Ids.Count); i++, x += cell + Gap)
            {
                int id = rows[r].Ids[i];
                using var thumb = Thumbnail(dataset.Database[id].Path, null);
                var colour = positives.Contains(id) ? Positive : ignored.Contains(id) ? Ignored : Negative;
                Draw(canvas, thumb, x, top, colour);
                canvas.DrawText($"{i + 1}", x + cell / 2, top + cell + 12, SKTextAlign.Center, small, white);
            }
        }
        canvas.Flush();
        return sheet;
    }

    /// <summary>Writes <see cref="Render"/>'s sheet as a PNG at <paramref name="path"/>, atomically.</summary>
    public static string Write(string path, LandmarkDataset dataset, int query, IReadOnlyList<RankingRow> rows, int k, EvaluationProtocol protocol, string title)
    {
        using var sheet = Render(dataset, query, rows, k, protocol, title);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllBytes(path, MapOverlay.EncodePng(sheet));
        return path;
    }

    private static void Draw(SKCanvas canvas, SKBitmap thumb, int x, int y, SKColor frame)
    {
        using var paint = new SKPaint { Color = frame };
        canvas.DrawRect(x, y, Tile + 2 * Frame, Tile + 2 * Frame, paint);
        canvas.DrawBitmap(thumb, x + Frame + (Tile - thumb.Width) / 2, y + Frame + (Tile - thumb.Height) / 2);
    }

    /// <summary>The image (cropped to <paramref name="box"/> when given) fitted into <see cref="Tile"/> x <see cref="Tile"/>.</summary>
    private static SKBitmap Thumbnail(string path, BoundingBox? box)
    {
        using var image = ImageLoader.LoadRgb(path, box, ImageResize.Longer(Tile));
        return ContactSheet.ToBitmap(image);
    }
}
