using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MultiLevelHashing.Data;
using MultiLevelHashing.Runtime;
using MultiLevelHashing.Search;
using MultiLevelHashing.Search.Regions;

namespace MultiLevelHashing.Evaluation;

/// <summary>How <see cref="CodeBenchmark.Run"/> searches and scores.</summary>
/// <param name="Levels">Also run the multi-level search (global ranking, local re-ranking; section 2.8).</param>
/// <param name="LevelOptions">The setting (N, lambda) of the multi-level search; <see cref="MultiLevelSetting.Default"/> when null (its ResultCount is ignored: the whole database is ranked).</param>
/// <param name="LocalMask">Local bits the multi-level search uses; null = all local bits.</param>
/// <param name="QueryBatch">Queries ranked at a time; memory is about QueryBatch x N x 8 bytes for the whole-database rankings.</param>
/// <param name="Ks">The k of mP@k (1, 5, 10 by default).</param>
/// <param name="Threads">Search threads, 0 = all cores.</param>
/// <param name="Regions">Also the multi-level search with region codes (section 2.8), with this setting; null = not run.</param>
public sealed record CodeBenchmarkOptions(bool Levels = false, MultiLevelOptions? LevelOptions = null, BitMask? LocalMask = null,
                                          int QueryBatch = 8, IReadOnlyList<int>? Ks = null, int Threads = 0, RegionBenchmarkOptions? Regions = null);

/// <summary>The multi-level search with region codes as a benchmark runs it (lib/MultiLevelHashing/README.md section 2.8).</summary>
/// <param name="Candidates">Stage-1 candidates re-ranked by region score.</param>
/// <param name="Kernel">The selective match kernel; <see cref="SelectiveKernel.Default"/> when null.</param>
public sealed record RegionBenchmarkOptions(int Candidates = RegionSearch.DefaultCandidates, SelectiveKernel? Kernel = null)
{
    /// <summary>
    /// Images the region-level inverted file adds to the global shortlist (<see cref="RegionInvertedFile"/>, its
    /// vocabulary fitted on the database's region codes, no labels); 0: stage 1 is the global code only.
    /// </summary>
    public int InvertedCandidates { get; init; }

    /// <summary>Words of the inverted file's vocabulary; 0: <see cref="RegionVocabulary.DefaultSize"/> of the database's regions.</summary>
    public int VocabularySize { get; init; }

    /// <summary>Nearest words each query region visits in the inverted file.</summary>
    public int Probes { get; init; } = 4;
}

/// <summary>The scores of one search method under every protocol its ground truth carries.</summary>
/// <param name="Method">"global" (Hamming ranking of the global code), "multi-level" (local bits) or "regions" (region codes).</param>
/// <param name="Description">What was searched, e.g. "Hamming ranking by the 64-bit global code".</param>
/// <param name="Results">One result per protocol, in <see cref="GroundTruth.Protocols"/> order.</param>
public sealed record MethodResults(string Method, string Description, IReadOnlyList<EvaluationResult> Results);

/// <summary>
/// Scores packed codes on a benchmark (lib/MultiLevelHashing/README.md section 3.5): every query's whole-database ranking,
/// by the global code's Hamming distance (ties by database index) and, on request, by the multi-level search, under every
/// protocol the ground truth carries (classic; easy, medium, hard). Queries are ranked a batch at a time and scored at
/// once, so no more than one batch of full rankings is ever held.
/// </summary>
public static class CodeBenchmark
{
    /// <summary>
    /// Runs the benchmark. Database row i is <see cref="GroundTruth.DatabaseImages"/>[i]; query row q is query q of the
    /// ground truth. Local codes are needed only with <see cref="CodeBenchmarkOptions.Levels"/>, region codes (image i
    /// of the database's and the queries' as their rows i) only with <see cref="CodeBenchmarkOptions.Regions"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Row counts or code lengths that do not match the ground truth or each other.</exception>
    public static IReadOnlyList<MethodResults> Run(GroundTruth truth, PackedCodes databaseGlobal, PackedCodes? databaseLocal,
        PackedCodes queryGlobal, PackedCodes? queryLocal, CodeBenchmarkOptions? options = null, IProgress<ProgressReport>? progress = null,
        RegionCodes? databaseRegions = null, RegionCodes? queryRegions = null)
    {
        options ??= new CodeBenchmarkOptions();
        int n = truth.DatabaseImages.Count, q = truth.Queries.Count;
        if (databaseGlobal.Count != n) throw new ArgumentException($"{databaseGlobal.Count} database codes for {n} database images");
        if (queryGlobal.Count != q) throw new ArgumentException($"{queryGlobal.Count} query codes for {q} queries");
        if (queryGlobal.Bits != databaseGlobal.Bits) throw new ArgumentException($"{queryGlobal.Bits}-bit queries against a {databaseGlobal.Bits}-bit database");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.QueryBatch, 1);
        int[] ks = [.. options.Ks ?? MeanAveragePrecision.DefaultKs];
        var protocols = truth.Protocols;
        if (protocols.Count == 0) throw new ArgumentException($"{truth.Source}: the ground truth carries no complete set of labels");

        var methods = new List<(string Name, string Description, Func<int, int, IReadOnlyList<int>[]> Rank)>
        {
            ("global", $"Hamming ranking by the {databaseGlobal.Bits}-bit global code", (start, count) =>
            {
                using var batch = Slice(queryGlobal, start, count);
                var knn = LinearScan.Search(databaseGlobal, batch, Math.Max(1, n), new SearchOptions(options.Threads));
                return [.. Enumerable.Range(0, count).Select(i => (IReadOnlyList<int>)Valid(knn.Ids.Row(i)))];
            }),
        };
        if (options.Levels)
        {
            if (databaseLocal is null || queryLocal is null) throw new ArgumentException("the multi-level search needs local codes of the database and the queries");
            if (databaseLocal.Count != n || queryLocal.Count != q) throw new ArgumentException("local codes do not match the database or the queries");
            var mask = options.LocalMask ?? BitMask.All(databaseLocal.Bits);
            var search = new MultiLevelSearch(databaseGlobal, databaseLocal);
            var levelOptions = (options.LevelOptions ?? new MultiLevelOptions()) with { ResultCount = 0, Threads = options.Threads };
            methods.Add(("multi-level", $"{databaseGlobal.Bits}-bit global ranking, top {Math.Min(levelOptions.Setting.Candidates, n)} re-ranked by {mask.Count} of {databaseLocal.Bits} local bits, lambda {levelOptions.Setting.Lambda.ToString(CultureInfo.InvariantCulture)}",
                (start, count) =>
                {
                    using var g = Slice(queryGlobal, start, count);
                    using var l = Slice(queryLocal, start, count);
                    return [.. search.Search(g, l, [mask], levelOptions).Select(r => (IReadOnlyList<int>)r.Ids)];
                }));
        }

        if (options.Regions is { } regionOptions)
        {
            if (databaseRegions is null || queryRegions is null) throw new ArgumentException("the search with region codes needs region codes of the database and the queries");
            if (databaseRegions.Count != n || queryRegions.Count != q) throw new ArgumentException("region codes do not match the database or the queries");
            ArgumentOutOfRangeException.ThrowIfNegative(regionOptions.Candidates);
            var kernel = regionOptions.Kernel ?? SelectiveKernel.Default;
            ArgumentOutOfRangeException.ThrowIfNegative(regionOptions.InvertedCandidates);
            RegionVocabulary? vocabulary = null;
            string shortlist = $"top {Math.Min(regionOptions.Candidates, n)}";
            if (regionOptions.InvertedCandidates > 0 && databaseRegions.TotalRegions > 0)
            {
                progress.Report("region inverted file", 0, 1, "files");
                vocabulary = regionOptions.VocabularySize > 0
                    ? RegionVocabulary.Fit(databaseRegions, regionOptions.VocabularySize)
                    : RegionVocabulary.FitDefault(databaseRegions);
            }
            var search = RegionSearch.Create(databaseGlobal, databaseRegions, kernel, vocabulary);
            var invertedFile = search.InvertedFile;
            if (invertedFile is not null)
            {
                progress.Report("region inverted file", 1, 1, "files");
                shortlist += $" and the inverted file's top {regionOptions.InvertedCandidates} ({invertedFile.Vocabulary.Count} words, {regionOptions.Probes} probes)";
            }
            int inverted = invertedFile is null ? 0 : regionOptions.InvertedCandidates;
            methods.Add(("regions", $"{databaseGlobal.Bits}-bit global ranking, {shortlist} re-ranked by {databaseRegions.Bits}-bit region codes " +
                                    $"({databaseRegions.MeanRegions.ToString("0.#", CultureInfo.InvariantCulture)} per image; {kernel})",
                (start, count) =>
                {
                    using var g = Slice(queryGlobal, start, count);
                    return [.. search.Search(g, queryRegions.Slice(start, count), regionOptions.Candidates, 0, options.Threads, inverted, regionOptions.Probes)
                        .Select(r => (IReadOnlyList<int>)r.Ids)];
                }));
        }

        var results = new List<MethodResults>();
        foreach (var (name, description, rank) in methods)
        {
            var perProtocol = protocols.Select(_ => new List<QueryEvaluation>(q)).ToArray();
            string task = $"search ({name})";
            progress.Report(task, 0, q, "queries");
            for (int start = 0; start < q; start += options.QueryBatch)
            {
                int count = Math.Min(options.QueryBatch, q - start);
                var rankings = rank(start, count);
                for (int i = 0; i < count; i++)
                    for (int p = 0; p < protocols.Count; p++)
                        perProtocol[p].Add(MeanAveragePrecision.EvaluateQuery(truth, start + i, rankings[i], protocols[p], ks));
                progress.Report(task, start + count, q, "queries");
            }
            results.Add(new MethodResults(name, description, [.. protocols.Select((p, i) => MeanAveragePrecision.Summarize(p, ks, perProtocol[i]))]));
        }
        return results;
    }

    private static int[] Valid(Span<int> ids)
    {
        int length = ids.IndexOf(-1);
        return (length < 0 ? ids : ids[..length]).ToArray();
    }

    private static PackedCodes Slice(PackedCodes codes, int start, int count)
    {
        var slice = new PackedCodes(codes.Bits, count);
        slice.AppendWords(codes.Words(start, count));
        return slice;
    }
}

/// <summary>Scores of one protocol in a <see cref="BenchmarkReport"/>.</summary>
/// <param name="Protocol">classic, easy, medium or hard.</param>
/// <param name="Map">mAP over the evaluated queries, in [0, 1].</param>
/// <param name="MeanPrecisionAt">mP@k by k.</param>
/// <param name="Evaluated">Queries scored.</param>
/// <param name="Skipped">Queries without positives under the protocol (left out of the means).</param>
/// <param name="AveragePrecision">AP per query id (null for a skipped query), in ground-truth order.</param>
public sealed record ProtocolScores(string Protocol, double Map, IReadOnlyDictionary<string, double> MeanPrecisionAt, int Evaluated, int Skipped,
                                    IReadOnlyList<QueryScore> AveragePrecision);

/// <summary>AP of one query (null when skipped).</summary>
public sealed record QueryScore(string Query, double? AveragePrecision);

/// <summary>One search method's scores in a <see cref="BenchmarkReport"/>.</summary>
public sealed record MethodScores(string Method, string Description, IReadOnlyList<ProtocolScores> Protocols);

/// <summary>
/// The result of <c>mlh benchmark</c>: what was measured (dataset, checkpoint, code lengths, sizes, timings) and the
/// scores of every method under every protocol; written as JSON and as Markdown.
/// </summary>
public sealed record BenchmarkReport(string Dataset, string Specification, string Checkpoint, string ConfigHash, int GlobalBits, int LocalBits,
                                     int DatabaseImages, int Queries, double EncodeSeconds, double SearchSeconds, IReadOnlyList<MethodScores> Methods)
{
    /// <summary>Bits per region code when the search with region codes ran, else null.</summary>
    public int? RegionBits { get; init; }

    /// <summary>JSON settings of the report (indented, camel case).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Converts the evaluator's results into report rows.</summary>
    public static IReadOnlyList<MethodScores> Scores(IReadOnlyList<MethodResults> results) =>
        [.. results.Select(m => new MethodScores(m.Method, m.Description, [.. m.Results.Select(r => new ProtocolScores(
            ProtocolName(r.Protocol), r.MeanAveragePrecision,
            r.Ks.Select((k, i) => (k, i)).ToDictionary(t => t.k.ToString(CultureInfo.InvariantCulture), t => r.MeanPrecisionAtK[t.i]),
            r.Evaluated, r.Skipped,
            [.. r.Queries.Select(qe => new QueryScore(qe.Id, qe.Skipped ? null : qe.AveragePrecision))]))]))];

    /// <summary>The protocol's name as the CLI spells it.</summary>
    public static string ProtocolName(EvaluationProtocol protocol) => protocol.ToString().ToLowerInvariant();

    /// <summary>The report as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    public static BenchmarkReport FromJson(string json) => JsonSerializer.Deserialize<BenchmarkReport>(json, JsonOptions)
        ?? throw new UserInputException("benchmark report: empty JSON");

    /// <summary>The report as Markdown: a header, mAP per method and protocol, then mP@k per method and protocol.</summary>
    public string ToMarkdown()
    {
        var protocols = Methods.SelectMany(m => m.Protocols.Select(p => p.Protocol)).Distinct().ToList();
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# {Dataset}: mAP (%)");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Checkpoint `{Checkpoint}` (config {ConfigHash}, global {GlobalBits} bits, local {LocalBits} bits); " +
                      $"{DatabaseImages} database images, {Queries} queries cropped to their box; dataset `{Specification}`.");
        sb.AppendLine();
        var maps = new MarkdownTable(["method", .. protocols.Select(p => p.ToString())], rightAligned: c => c >= 1);
        foreach (var m in Methods)
            maps.Row([m.Description, .. protocols.Select(p => m.Protocols.FirstOrDefault(s => s.Protocol == p) is { } s ? Percent(s.Map) : "")]);
        sb.Append(maps);
        sb.AppendLine();
        var ks = Methods.SelectMany(m => m.Protocols.SelectMany(p => p.MeanPrecisionAt.Keys)).Distinct().ToList();
        var details = new MarkdownTable(["method", "protocol", "mAP", .. ks.Select(k => $"mP@{k}"), "queries scored", "skipped"], rightAligned: c => c >= 2);
        foreach (var m in Methods)
            foreach (var p in m.Protocols)
                details.Row([m.Method, p.Protocol.ToString(), Percent(p.Map),
                    .. ks.Select(k => p.MeanPrecisionAt.TryGetValue(k, out double v) ? Percent(v) : ""),
                    p.Evaluated.ToString(CultureInfo.InvariantCulture), p.Skipped.ToString(CultureInfo.InvariantCulture)]);
        sb.Append(details);
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Encoding {EncodeSeconds:0.0} s (0 when the codes were cached), search and scoring {SearchSeconds:0.0} s.");
        return sb.ToString();
    }

    /// <summary>A fraction in [0, 1] as a percentage with two decimals ("" for NaN).</summary>
    public static string Percent(double v) => double.IsNaN(v) ? "" : (100 * v).ToString("0.00", CultureInfo.InvariantCulture);
}
