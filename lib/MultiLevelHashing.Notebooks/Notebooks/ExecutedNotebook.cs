using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MultiLevelHashing.Plots;

namespace MultiLevelHashing.Notebooks;

/// <summary>What one code cell of an executed notebook shows.</summary>
/// <param name="CellNumber">1-based position among all cells, as an editor numbers them.</param>
/// <param name="Errors">Error outputs, as "name: message".</param>
/// <param name="StandardError">Text the cell wrote to standard error.</param>
/// <param name="Charts">Names of the charts the cell displays (a saved figure's name, else "chart").</param>
public sealed record CellOutputs(int CellNumber, IReadOnlyList<string> Errors, string StandardError, IReadOnlyList<string> Charts);

/// <summary>
/// Reads the outputs of an executed .ipynb (from Jupyter or from <see cref="NotebookRunner"/>): errors, standard
/// error and the charts each cell displays, found by <see cref="FigureFiles.ChartMarker"/>.
/// </summary>
public sealed partial class ExecutedNotebook
{
    private ExecutedNotebook(string path, IReadOnlyList<CellOutputs> cells)
    {
        Path = path;
        Cells = cells;
    }

    /// <summary>The executed notebook file.</summary>
    public string Path { get; }

    /// <summary>Every code cell, in order.</summary>
    public IReadOnlyList<CellOutputs> Cells { get; }

    /// <summary>Every error output, as "cell N: name: message".</summary>
    public IReadOnlyList<string> Errors => Cells.SelectMany(c => c.Errors.Select(e => $"cell {c.CellNumber}: {e}")).ToList();

    /// <summary>Every standard-error text, as "cell N: text".</summary>
    public IReadOnlyList<string> StandardErrors => Cells.Where(c => c.StandardError.Trim().Length > 0)
        .Select(c => $"cell {c.CellNumber}: {c.StandardError.Trim()}").ToList();

    /// <summary>The names of all displayed charts, in order.</summary>
    public IReadOnlyList<string> Charts => Cells.SelectMany(c => c.Charts).ToList();

    [GeneratedRegex(@"data-mlh-chart=""(?<name>[^""]*)""")]
    private static partial Regex ChartName();

    /// <summary>Reads <paramref name="path"/>.</summary>
    public static ExecutedNotebook Read(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))?.AsObject()
            ?? throw new InvalidDataException($"{path}: not a notebook");
        var cells = new List<CellOutputs>();
        int number = 0;
        foreach (var cell in root["cells"]?.AsArray() ?? [])
        {
            number++;
            if (cell?["cell_type"]?.GetValue<string>() != "code") continue;
            var errors = new List<string>();
            var stderr = new System.Text.StringBuilder();
            var charts = new List<string>();
            foreach (var output in cell["outputs"]?.AsArray() ?? [])
            {
                switch (output?["output_type"]?.GetValue<string>())
                {
                    case "error":
                        errors.Add($"{output["ename"]}: {output["evalue"]}");
                        break;
                    case "stream" when output["name"]?.GetValue<string>() == "stderr":
                        stderr.Append(Text(output["text"]));
                        break;
                    case "display_data" or "execute_result":
                        string html = Text(output["data"]?["text/html"]);
                        charts.AddRange(ChartName().Matches(html).Select(m => m.Groups["name"].Value));
                        break;
                }
            }
            cells.Add(new CellOutputs(number, errors, stderr.ToString(), charts));
        }
        return new ExecutedNotebook(path, cells);
    }

    /// <summary>A notebook text field: a string or an array of lines.</summary>
    internal static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>() ?? "")),
        _ => node.GetValue<string>(),
    };
}
