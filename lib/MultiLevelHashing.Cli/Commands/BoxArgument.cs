using System.Globalization;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>The <c>--box x1,y1,x2,y2</c> argument of commands that take a query image (<c>mlh query</c>, <c>mlh maps</c>).</summary>
internal static class BoxArgument
{
    public const string Help = "crop the image to x1,y1,x2,y2 (pixels; (x1, y1) top-left), as the official protocol crops queries";

    /// <summary>Parses four comma-separated numbers with x2 &gt; x1 and y2 &gt; y1.</summary>
    /// <exception cref="UserInputException">Not four finite numbers, or an empty box.</exception>
    public static BoundingBox Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                throw new UserInputException($"--box {text}: expected x1,y1,x2,y2 (four numbers), '{parts[i]}' is not a number");
        if (parts.Length != 4) throw new UserInputException($"--box {text}: expected x1,y1,x2,y2 (four numbers), got {parts.Length}");
        if (values[2] <= values[0] || values[3] <= values[1]) throw new UserInputException($"--box {text}: x2 must exceed x1 and y2 exceed y1");
        return new BoundingBox(values[0], values[1], values[2], values[3]);
    }

    /// <summary>Rejects a box that does not lie inside the <paramref name="width"/> x <paramref name="height"/> image <paramref name="imagePath"/>.</summary>
    /// <exception cref="UserInputException">A coordinate is negative or beyond the image's width or height.</exception>
    public static void RequireInside(BoundingBox box, int width, int height, string imagePath)
    {
        if (box.X1 < 0 || box.Y1 < 0 || box.X2 > width || box.Y2 > height)
            throw UserInputException.InFile(imagePath,
                $"--box {box.X1.ToString(CultureInfo.InvariantCulture)},{box.Y1.ToString(CultureInfo.InvariantCulture)},{box.X2.ToString(CultureInfo.InvariantCulture)},{box.Y2.ToString(CultureInfo.InvariantCulture)} " +
                $"lies outside the {width} x {height} image (x must be within 0..{width}, y within 0..{height})");
    }
}
