using System.Text;

namespace MultiLevelHashing.Runtime;

/// <summary>
/// A GitHub-flavoured Markdown table built a row at a time: <c>| a | b |</c> lines under a <c>|---|---:|</c> separator.
/// The one table writer of the Markdown reports (<c>mlh benchmark</c>'s results, the results summary, the PyTorch
/// comparison), so that they cannot drift apart in layout. Cells are written as given; a row must have one per column.
/// </summary>
public sealed class MarkdownTable
{
    private readonly StringBuilder _text = new();

    /// <summary>A table with <paramref name="header"/>; the columns for which <paramref name="rightAligned"/> holds are right-aligned (numbers).</summary>
    public MarkdownTable(IEnumerable<string> header, Func<int, bool>? rightAligned = null)
    {
        var titles = header.ToList();
        Columns = titles.Count;
        if (Columns == 0) throw new ArgumentException("a table needs at least one column", nameof(header));
        Append(titles);
        _text.Append('|');
        for (int c = 0; c < Columns; c++) _text.Append(rightAligned?.Invoke(c) == true ? "---:|" : "---|");
        _text.AppendLine();
    }

    /// <summary>Number of columns.</summary>
    public int Columns { get; }

    /// <summary>Adds a row of <see cref="Columns"/> cells.</summary>
    /// <exception cref="ArgumentException">Another number of cells.</exception>
    public MarkdownTable Row(IEnumerable<string> cells)
    {
        var list = cells.ToList();
        if (list.Count != Columns) throw new ArgumentException($"a row of {list.Count} cells in a table of {Columns} columns", nameof(cells));
        Append(list);
        return this;
    }

    /// <summary>The table, one line per row, each ending with <see cref="Environment.NewLine"/>.</summary>
    public override string ToString() => _text.ToString();

    private void Append(IEnumerable<string> cells) => _text.Append("| ").AppendJoin(" | ", cells).AppendLine(" |");
}
