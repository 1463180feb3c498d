using System.Text;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Evaluation;

/// <summary>
/// The ranked-list file that <c>mlh evaluate</c> reads: one line per query, in the ground truth's query order,
/// holding database image names (no extension) best first, separated by single spaces. An empty line is an empty
/// list; a list may be shorter than the database (unlisted images are never retrieved).
/// </summary>
public static class RankingFile
{
    /// <summary>Reads a ranked-list file.</summary>
    /// <exception cref="UserInputException">Missing file, bad separators, or a name with a path or extension; messages give the line.</exception>
    public static IReadOnlyList<string[]> Read(string path)
    {
        if (!File.Exists(path)) throw UserInputException.InFile(path, "ranked-list file not found");
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path));
        }
        catch (DecoderFallbackException)
        {
            throw UserInputException.InFile(path, "not a UTF-8 text file");
        }
        return Parse(path, text);
    }

    /// <summary>Parses ranked-list text; <paramref name="source"/> names it in messages.</summary>
    public static IReadOnlyList<string[]> Parse(string source, string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1); // final newline
        var result = new List<string[]>(lines.Count);
        for (int i = 0; i < lines.Count; i++)
        {
            string line = lines[i].TrimEnd(' ');
            if (line.Length == 0) { result.Add([]); continue; }
            if (line.Contains('\t')) throw UserInputException.InFile(source, "names must be separated by single spaces, found a tab", i + 1);
            var names = line.Split(' ');
            for (int k = 0; k < names.Length; k++)
            {
                if (names[k].Length == 0) throw UserInputException.InFile(source, $"empty name at position {k + 1} (two spaces in a row, or a leading space)", i + 1);
                if (names[k].EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || names[k].EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                    throw UserInputException.InFile(source, $"'{names[k]}': write image names without their extension", i + 1);
            }
            result.Add(names);
        }
        return result;
    }

    /// <summary>Writes ranked lists atomically in the format <see cref="Read"/> accepts.</summary>
    public static void Write(string path, IEnumerable<IEnumerable<string>> rankings)
    {
        var sb = new StringBuilder();
        foreach (var r in rankings) sb.Append(string.Join(' ', r)).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
