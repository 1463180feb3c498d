using System.CommandLine;
using MultiLevelHashing.Cli.Console;
using System.Globalization;
using MultiLevelHashing.Data;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Cli.Commands;

/// <summary>
/// <c>mlh evaluate</c>: scores a file of ranked lists against an official ground truth (gt_files folder, .tgz or
/// gnd_*.pkl) with the official compute_ap. The last line is always <c>mAP: &lt;percent, 2 decimals&gt;</c>.
/// </summary>
public static class EvaluateCommand
{
    /// <summary>The command; what it reports goes to <paramref name="output"/> (default: standard output).</summary>
    public static Command Create(TextWriter? output = null)
    {
        var groundTruth = new Option<string>("--ground-truth") { Description = "gt_files folder, its .tgz, or a gnd_*.pkl (classic or revisited)", Required = true };
        var protocol = new Option<string?>("--protocol") { Description = "classic, easy, medium or hard (default: every protocol the ground truth has; the last line reports classic, else medium)" };
        var ranks = new Option<string>("--ranks") { Description = "one line per query, in the ground truth's query order: database image names without extension, best first, separated by single spaces", Required = true };
        var perQuery = new Option<bool>("--per-query") { Description = "also print each query's AP" };
        var command = new Command("evaluate", "Score ranked lists with the official Oxford/Paris (and revisited) evaluation: mAP, mP@1/5/10.")
        {
            groundTruth, protocol, ranks, perQuery,
        };
        command.SetAction(parse => Run(CommandOutput.Writer(output), parse.GetValue(groundTruth)!, parse.GetValue(protocol), parse.GetValue(ranks)!, parse.GetValue(perQuery)));
        return command;
    }

    /// <summary>Parses a protocol name.</summary>
    public static EvaluationProtocol ParseProtocol(string name) => name.Trim().ToLowerInvariant() switch
    {
        "classic" => EvaluationProtocol.Classic,
        "easy" => EvaluationProtocol.Easy,
        "medium" => EvaluationProtocol.Medium,
        "hard" => EvaluationProtocol.Hard,
        _ => throw new UserInputException($"--protocol {name}: expected classic, easy, medium or hard"),
    };

    /// <summary>Runs the evaluation and writes the report to <paramref name="output"/>; returns the exit code.</summary>
    public static int Run(TextWriter output, string groundTruthPath, string? protocolName, string ranksPath, bool perQuery = false)
    {
        var truth = GroundTruthReader.Read(groundTruthPath);
        var lists = RankingFile.Read(ranksPath);
        EvaluationProtocol[] protocols;
        EvaluationProtocol headline;
        if (protocolName is not null)
        {
            headline = ParseProtocol(protocolName);
            if (!truth.Protocols.Contains(headline))
                throw new UserInputException($"{groundTruthPath}: has no labels for the {Name(headline)} protocol (available: {string.Join(", ", truth.Protocols.Select(Name))})");
            protocols = [headline];
        }
        else
        {
            protocols = [.. truth.Protocols];
            headline = truth.DefaultProtocol;
        }

        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"ground truth: {groundTruthPath} ({truth.Queries.Count} queries, {truth.DatabaseImages.Count} images" +
                         (truth.DatabaseIsComplete ? ")" : " named by the lists; other names count as negatives)"));
        output.WriteLine(string.Create(inv, $"ranks: {ranksPath} ({lists.Count} lists, {(lists.Count == 0 ? 0 : lists.Average(l => l.Length)):F1} names per list on average)"));
        double headlineMap = double.NaN;
        foreach (var p in protocols)
        {
            var r = MeanAveragePrecision.EvaluateNames(truth, lists, p, source: ranksPath);
            string mp = p == EvaluationProtocol.Classic ? "" : string.Concat(r.Ks.Select((k, i) => string.Create(inv, $"  mP@{k} {Pct(r.MeanPrecisionAtK[i])}")));
            output.WriteLine(string.Create(inv, $"{Name(p),-8} mAP {Pct(r.MeanAveragePrecision)}{mp}  ({r.Evaluated} queries{(r.Skipped > 0 ? $", {r.Skipped} without positives skipped" : "")})"));
            if (perQuery)
                foreach (var q in r.Queries)
                    output.WriteLine(string.Create(inv, $"  {q.Id,-28} AP {(q.Skipped ? "skipped (no positives)" : Pct(q.AveragePrecision))}  positives {q.RetrievedPositives}/{q.Positives} retrieved"));
            if (p == headline) headlineMap = r.MeanAveragePrecision;
        }
        output.WriteLine($"mAP: {Pct(headlineMap)}");
        return 0;
    }

    private static string Name(EvaluationProtocol p) => p.ToString().ToLowerInvariant();

    private static string Pct(double fraction) => double.IsNaN(fraction) ? "nan" : (100 * fraction).ToString("F2", CultureInfo.InvariantCulture);
}
