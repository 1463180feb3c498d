using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Experiments.Runner;

/// <summary>One cell of the summary: a method at a code length under a protocol (mAP and mP@10 in percent).</summary>
/// <param name="Method">Method name (<see cref="PaperMethods"/>).</param>
/// <param name="Family">float descriptor, unsupervised hashing or DSCNN.</param>
/// <param name="Bits">Bits stored per image.</param>
/// <param name="BitsCompared">Bits compared per database image and query.</param>
/// <param name="Dataset">Benchmark.</param>
/// <param name="Protocol">classic, easy, medium or hard.</param>
/// <param name="Mean">Mean mAP over seeds (%).</param>
/// <param name="Spread">Standard deviation over seeds (percentage points).</param>
/// <param name="Seeds">Seeds averaged.</param>
/// <param name="PrecisionAt10">Mean mP@10 (%).</param>
/// <param name="QueryMs">Milliseconds per query, scan.</param>
/// <param name="QueryMsMultiIndex">Milliseconds per query with multi-index hashing, or null.</param>
/// <param name="Search">How the ranking behind the mAP is made and, where it differs, how the timed search runs.</param>
/// <param name="Setting">N, lambda and rho where they apply.</param>
/// <param name="Source">The notebook that measured it.</param>
public sealed record SummaryRow(string Method, string Family, int Bits, double BitsCompared, string Dataset, string Protocol, double Mean, double Spread,
    IReadOnlyList<int> Seeds, [property: JsonPropertyName("mp_at_10")] double PrecisionAt10, double QueryMs, double? QueryMsMultiIndex, string Search, string Setting, string Source);

/// <summary>
/// The machine-readable summary of a reproduction (lib/MultiLevelHashing/README.md section 1.7): one row per table cell
/// and the aims checked on them. <c>mlh reproduce</c> merges the notebooks' summaries into
/// <c>artifacts/summary.json</c> and <c>artifacts/summary.md</c>; the README's results table is
/// <see cref="ReadmeTable"/> of the committed full run.
/// </summary>
public sealed record ResultSummary(int FormatVersion, string Mode, IReadOnlyList<SummaryRow> Rows, IReadOnlyList<AimCheck> Aims)
{
    /// <summary>Version of the JSON layout.</summary>
    public const int CurrentVersion = 1;

    /// <summary>File names in a results folder.</summary>
    public const string JsonFile = "summary.json", MarkdownFile = "summary.md";

    /// <summary>snake_case keys, enums by name, indented.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The summary of <paramref name="tables"/>, measured by notebook <paramref name="source"/> in <paramref name="mode"/>.</summary>
    /// <remarks>
    /// mAP and its spread keep four decimals (of a percent), so that the tables' one decimal is the same rounding of the
    /// same number as the aims': two stored decimals rounded again to one turned 74.749 into 74.75 and then 74.8.
    /// </remarks>
    public static ResultSummary FromTables(PaperTablesResult tables, string mode, string source) => new(CurrentVersion, mode,
        [.. tables.Rows.Select(r => new SummaryRow(r.Method, r.Family, r.Bits, Math.Round(r.BitsCompared, 2), r.Dataset, r.Protocol.ToString().ToLowerInvariant(),
            Math.Round(100 * r.Mean, 4), Math.Round(100 * r.Spread, 4), r.Seeds, Math.Round(100 * r.PrecisionAt10, 2), Math.Round(r.QueryMs, 5),
            r.QueryMsMultiIndex is { } m ? Math.Round(m, 5) : null, r.Search, r.Setting, source))],
        tables.Aims);

    /// <summary>The rows and aims of several summaries of one mode, in order.</summary>
    public static ResultSummary Merge(string mode, IEnumerable<ResultSummary> parts)
    {
        var list = parts.ToList();
        return new(CurrentVersion, mode, [.. list.SelectMany(p => p.Rows)], [.. list.SelectMany(p => p.Aims)]);
    }

    /// <summary>The summary as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions) + "\n";

    /// <summary>Reads a summary written by <see cref="ToJson"/>; names the file when it is not one.</summary>
    public static ResultSummary Read(string path)
    {
        if (!File.Exists(path)) throw UserInputException.InFile(path, "summary not found");
        ResultSummary? summary;
        try
        {
            summary = JsonSerializer.Deserialize<ResultSummary>(File.ReadAllText(path), JsonOptions);
        }
        catch (JsonException e)
        {
            throw UserInputException.InFile(path, $"not a results summary: {e.Message}");
        }
        if (summary is null || summary.Rows is null || summary.Aims is null) throw UserInputException.InFile(path, "not a results summary (no rows)");
        if (summary.FormatVersion != CurrentVersion)
            throw UserInputException.InFile(path, $"summary format version {summary.FormatVersion}; this build reads version {CurrentVersion}");
        return summary;
    }

    /// <summary>Writes <see cref="JsonFile"/> and <see cref="MarkdownFile"/> into <paramref name="directory"/>, each atomically.</summary>
    public void WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, JsonFile), ToJson());
        AtomicFile.WriteAllText(Path.Combine(directory, MarkdownFile), ToMarkdown());
    }

    private static string Cell(SummaryRow? row) => row is null ? "" : row.Seeds.Count > 1
        ? string.Create(CultureInfo.InvariantCulture, $"{row.Mean:0.0} ± {row.Spread:0.0}")
        : string.Create(CultureInfo.InvariantCulture, $"{row.Mean:0.0}");

    private IEnumerable<string> Protocols => Rows.Select(r => r.Protocol).Distinct();

    /// <summary>The benchmarks of the rows, in order; the first has every table, the others region rows (RunRegionRows).</summary>
    public IReadOnlyList<string> Datasets => [.. Rows.Select(r => r.Dataset).Distinct()];

    private string? MainDataset => Rows.Count == 0 ? null : Rows[0].Dataset;

    private SummaryRow? Find(string method, string protocol, int? bits = null, string? dataset = null) =>
        Rows.FirstOrDefault(r => r.Method == method && r.Protocol == protocol && (bits is null || r.Bits == bits) && r.Dataset == (dataset ?? MainDataset));

    /// <summary>The hashing methods against code length under <paramref name="protocol"/> (the paper's main table).</summary>
    public string CodeLengthTable(string protocol)
    {
        var main = Rows.Where(r => r.Dataset == MainDataset).ToList();
        var lengths = main.Where(r => PaperMethods.CodeLengthRows.Contains(r.Method)).Select(r => r.Bits).Distinct().Order().ToList();
        var table = new MarkdownTable([$"method ({protocol} mAP, %)", .. lengths.Select(b => $"{b} bits")]);
        foreach (string method in PaperMethods.CodeLengthRows.Where(m => main.Any(r => r.Method == m)))
            table.Row([method, .. lengths.Select(b => Cell(Find(method, protocol, b)))]);
        return table.ToString();
    }

    /// <summary>
    /// The multi-level ablations at the preset's global length, and the float references: mAP under every protocol,
    /// mP@10 under the first, bits stored and compared, and query time.
    /// </summary>
    public string AblationTable()
    {
        var protocols = Protocols.ToList();
        if (protocols.Count == 0) return "";
        string first = protocols[0];
        // The multi-level rows store both codes and the local row the local code alone: the difference is the global length they use.
        var multiLevel = Rows.FirstOrDefault(r => r.Method == PaperMethods.MultiLevelQuery);
        var local = Rows.FirstOrDefault(r => r.Method == PaperMethods.LocalAll);
        int? globalBits = multiLevel is not null && local is not null ? multiLevel.Bits - local.Bits : null;
        var table = new MarkdownTable(["codes", "bits stored", "bits compared per image", .. protocols.Select(p => $"{p} mAP (%)"),
            $"{first} mP@10 (%)", "ms per query: scan / MIH", "setting"]);
        var methods = PaperMethods.FloatRows.Concat(PaperMethods.AblationRows).Where(m => Rows.Any(r => r.Method == m && r.Dataset == MainDataset));
        foreach (string method in methods)
        {
            if (method == PaperMethods.Global && globalBits is null) continue;
            int? bits = method == PaperMethods.Global ? globalBits : null;
            var head = Find(method, first, bits);
            if (head is null) continue;
            string time = head.QueryMsMultiIndex is { } mih
                ? string.Create(CultureInfo.InvariantCulture, $"{head.QueryMs:0.000} / {mih:0.000}")
                : string.Create(CultureInfo.InvariantCulture, $"{head.QueryMs:0.000}");
            string name = method == PaperMethods.Global ? $"{method}, {globalBits} bits" : method;
            table.Row([name, head.Bits.ToString(CultureInfo.InvariantCulture), head.BitsCompared.ToString("0.#", CultureInfo.InvariantCulture),
                .. protocols.Select(p => Cell(Find(method, p, bits))), head.PrecisionAt10.ToString("0.0", CultureInfo.InvariantCulture), time, head.Setting]);
        }
        return table.ToString();
    }

    /// <summary>
    /// The region-level rows (region codes alone and multi-level with region codes; lib/MultiLevelHashing/README.md
    /// section 2.8) of <paramref name="dataset"/> (default: the first benchmark), with bytes stored per image; empty when
    /// the run has none. On a second benchmark, which has no other table, its GAP and global-code rows come first as the
    /// references.
    /// </summary>
    public string RegionTable(string? dataset = null)
    {
        dataset ??= MainDataset;
        var protocols = Protocols.ToList();
        var rows = Rows.Where(r => r.Dataset == dataset).ToList();
        var methods = rows.Select(r => r.Method).Distinct().Where(m => m.Contains("region", StringComparison.Ordinal)).ToList();
        if (protocols.Count == 0 || methods.Count == 0) return "";
        if (dataset != MainDataset)
            methods = [.. new[] { PaperMethods.Gap, PaperMethods.Global }.Where(m => rows.Any(r => r.Method == m)), .. methods];
        string first = protocols[0];
        var text = new StringBuilder();
        text.AppendLine($"| codes | bytes per image | bits compared per image | {string.Join(" | ", protocols.Select(p => $"{p} mAP (%)"))} | {first} mP@10 (%) | ms per query: scan / MIH | setting |");
        text.AppendLine($"|---|---|---|{string.Concat(protocols.Select(_ => "---|"))}---|---|---|");
        foreach (string method in methods)
        {
            var head = Find(method, first, dataset: dataset)!;
            string time = head.QueryMsMultiIndex is { } mih
                ? string.Create(CultureInfo.InvariantCulture, $"{head.QueryMs:0.000} / {mih:0.000}")
                : string.Create(CultureInfo.InvariantCulture, $"{head.QueryMs:0.000}");
            string name = method == PaperMethods.Global ? $"{method}, {head.Bits} bits" : method;
            text.AppendLine($"| {name} | {head.Bits / 8} | {head.BitsCompared.ToString("0", CultureInfo.InvariantCulture)} | " +
                $"{string.Join(" | ", protocols.Select(p => Cell(Find(method, p, dataset: dataset))))} | {head.PrecisionAt10.ToString("0.0", CultureInfo.InvariantCulture)} | {time} | {head.Setting} |");
        }
        return text.ToString();
    }

    /// <summary>Each aim and whether it was met.</summary>
    public string AimList() => string.Concat(Aims.Select(a => $"- **{(a.Met ? "met" : "missed")}**: {a.Name}: {a.Measured}\n"));

    /// <summary>The README's results section body: the code-length table under the first protocol, the ablations, the aims.</summary>
    public string ReadmeTable()
    {
        var first = Protocols.FirstOrDefault();
        if (first is null) return "";
        string dataset = Rows[0].Dataset;
        int seeds = Rows.Max(r => r.Seeds.Count);
        string regions = RegionTable();
        return $"{dataset}, test queries, mean ± sd over {seeds} seeds (mode {Mode}).\n\n{CodeLengthTable(first)}\n{AblationTable()}\n" +
               (regions.Length > 0 ? $"{regions}\n" : "") + SecondBenchmarks(headings: false) + AimList();
    }

    /// <summary>The region tables of every benchmark after the first, each under a heading or a line naming it.</summary>
    private string SecondBenchmarks(bool headings) => string.Concat(Datasets.Skip(1).Select(d => RegionTable(d) is { Length: > 0 } table
        ? (headings ? $"## Region-level codes on {d}\n\nWith" : $"Region-level codes on {d}, with") +
          $" its own GAP and global code (the DSCNN trained on {d}'s training split):\n\n{table}\n"
        : ""));

    /// <summary>The whole summary as Markdown: the code-length table under every protocol, the ablations, the aims.</summary>
    public string ToMarkdown()
    {
        var text = new StringBuilder($"# Results summary ({Mode} mode)\n\n");
        if (Rows.Count == 0) return text.Append("No tables were computed in this run.\n").ToString();
        text.AppendLine($"Dataset {Rows[0].Dataset}{string.Concat(Datasets.Skip(1).Select(d => $" (region rows also on {d})"))}; mAP and mP@10 in percent, mean ± sd over seeds {string.Join(", ", Rows.SelectMany(r => r.Seeds).Distinct().Order())}.\n");
        foreach (string protocol in Protocols)
            text.AppendLine($"## Hashing at equal code lengths, {protocol}\n\n{CodeLengthTable(protocol)}");
        text.AppendLine($"## Multi-level ablations and float references\n\n{AblationTable()}");
        if (RegionTable() is { Length: > 0 } regions)
            text.AppendLine($"## Region-level codes (planar landmarks composited into scenes favour region matching)\n\n{regions}");
        text.Append(SecondBenchmarks(headings: true));
        text.AppendLine($"## Aims\n\n{AimList()}");
        return text.ToString();
    }
}
