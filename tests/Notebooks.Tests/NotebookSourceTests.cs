using System.Text.Json;
using System.Text.RegularExpressions;
using MultiLevelHashing.Runtime;

namespace Notebooks.Tests;

/// <summary>
/// Notebooks configure, call and show: the code cells hold no logic the library should own. A static check over the
/// sources of every notebook, so a table built by hand, a helper written inline, a mode decided in a cell or a path
/// assembled from folder names fails here rather than drifting from the library.
/// </summary>
public class NotebookSourceTests
{
    /// <summary>What a notebook's code may not do, and where it belongs instead.</summary>
    public enum Rule
    {
        /// <summary><c>new DataFrame(...)</c>: tables come from <c>Tables</c>, <c>TableCharts</c> or <c>AttentionCharts</c>.</summary>
        HandBuiltTable,
        /// <summary>A local function: helpers are library methods with tests.</summary>
        LocalFunction,
        /// <summary><c>session.IsSmoke ? a : b</c>: mode-aware factories (<c>RunPresets</c>, <c>ForMode</c>) own what a mode implies.</summary>
        ModeTernary,
        /// <summary><c>Path.Combine</c> or a repository folder literal: <c>RepositoryLayout</c> and <c>session.OutputFile</c> own the layout.</summary>
        HandBuiltPath,
    }

    /// <summary>
    /// Notebooks that still break a rule, and which. Each entry is a known debt: fix the notebook and remove its entry (the
    /// test fails on an entry no longer needed, so the list only shrinks).
    /// </summary>
    private static readonly Dictionary<string, Rule[]> KnownViolations = new();

    private static readonly Dictionary<Rule, Regex> Patterns = new()
    {
        [Rule.HandBuiltTable] = new(@"\bnew\s+(?:Microsoft\.Data\.Analysis\.)?DataFrame\s*\(", RegexOptions.Compiled),
        // A declaration's shape at the start of a line: [static] Type Name(parameters) => or {. Statements that start
        // with a keyword (return, await, new, ...) have the same shape and are left out.
        [Rule.LocalFunction] = new(
            @"^[ \t]*(?:static\s+)?(?:async\s+)?(?!(?:return|await|new|throw|yield|else|using|var)\b)[A-Za-z_][\w.]*(?:<[^=;()]*>)?(?:\[\])?\??[ \t]+[A-Za-z_]\w*[ \t]*\((?:[^()]|\([^()]*\))*\)[ \t]*(?:=>|\{|$)",
            RegexOptions.Compiled | RegexOptions.Multiline),
        [Rule.ModeTernary] = new(@"IsSmoke\s*\?", RegexOptions.Compiled),
        [Rule.HandBuiltPath] = new(@"\bPath\.Combine\s*\(|""(?:data|tests|lib|notebooks|artifacts)(?:/|"")", RegexOptions.Compiled),
    };

    private static string Root => RepositoryLayout.FindRoot();

    /// <summary>The code cells of a notebook, the setup cell (the same in every notebook, checked elsewhere) left out.</summary>
    private static IEnumerable<(int Cell, string Source)> CodeCells(string notebook)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryLayout.NotebooksDirectory(Root), notebook)));
        int index = 0;
        foreach (var cell in json.RootElement.GetProperty("cells").EnumerateArray())
        {
            if (cell.GetProperty("cell_type").GetString() == "code" && index > 1)
            {
                var source = cell.GetProperty("source");
                yield return (index, source.ValueKind == JsonValueKind.Array
                    ? string.Concat(source.EnumerateArray().Select(l => l.GetString()))
                    : source.GetString() ?? "");
            }
            index++;
        }
    }

    /// <summary>Each place in <paramref name="notebook"/> that breaks <paramref name="rule"/>, as "cell N: text".</summary>
    internal static IReadOnlyList<string> Violations(string notebook, Rule rule) =>
        [.. CodeCells(notebook).SelectMany(c => Patterns[rule].Matches(c.Source).Select(m => $"cell {c.Cell}: {m.Value.Trim()}"))];

    public static TheoryData<string, Rule> NotebooksAndRules()
    {
        var data = new TheoryData<string, Rule>();
        foreach (string notebook in NotebookTests.NotebookNames())
            foreach (var rule in Enum.GetValues<Rule>())
                data.Add(notebook, rule);
        return data;
    }

    [Theory]
    [MemberData(nameof(NotebooksAndRules))]
    public void NotebookCellsConfigureCallAndShow(string notebook, Rule rule)
    {
        var found = Violations(notebook, rule);
        bool known = KnownViolations.TryGetValue(notebook, out var rules) && rules.Contains(rule);
        if (known)
            Assert.True(found.Count > 0, $"{notebook} no longer breaks {rule}: remove it from {nameof(KnownViolations)}");
        else
            Assert.True(found.Count == 0, $"{notebook} breaks {rule}:\n{string.Join("\n", found)}");
    }

    [Theory]
    [InlineData(Rule.HandBuiltTable, "var t = new Microsoft.Data.Analysis.DataFrame(\n  a, b);")]
    [InlineData(Rule.HandBuiltTable, "var t = new DataFrame(a);")]
    [InlineData(Rule.LocalFunction, "static double Pct(double v) => Math.Round(100 * v, 1);")]
    [InlineData(Rule.LocalFunction, "double Ap(IReadOnlyList<int> ranking, int q) => Map(ranking, q);")]
    [InlineData(Rule.LocalFunction, "string PerSeed(string regime, Func<RegimeOutcome, double> pick) => string.Join(\" / \",")]
    [InlineData(Rule.LocalFunction, "TrainingConfig Setting(GlobalHeadInit start, double gamma) =>\n    preset with { Gamma = gamma };")]
    [InlineData(Rule.LocalFunction, "void Show(int q)\n{\n}")]
    [InlineData(Rule.ModeTernary, "var seeds = session.IsSmoke ? new[] { 0 } : new[] { 0, 1, 2 };")]
    [InlineData(Rule.ModeTernary, "var candidates = session.IsSmoke\n    ? a\n    : b;")]
    [InlineData(Rule.HandBuiltPath, "var p = Path.Combine(session.RepositoryRoot, \"data\", \"photos\");")]
    [InlineData(Rule.HandBuiltPath, "var p = System.IO.Path.Combine(folder, \"x.png\");")]
    [InlineData(Rule.HandBuiltPath, "var p = root + \"tests/MultiLevelHashing.Benchmarks/results/search.tsv\";")]
    public void EachRuleCatchesWhatItNames(Rule rule, string code) => Assert.Matches(Patterns[rule], code);

    [Theory]
    [InlineData(Rule.LocalFunction, "return Tables.Splits(data);")]
    [InlineData(Rule.LocalFunction, "session.SaveFigure(chart, \"name\", table)")]
    [InlineData(Rule.LocalFunction, "foreach (var c in shown)\n{")]
    [InlineData(Rule.LocalFunction, "var runs = rows.Select(r => ($\"seed {r.Seed}\", r.History)).ToList();")]
    [InlineData(Rule.LocalFunction, "display(new Picture(sheet, title));")]
    [InlineData(Rule.LocalFunction, "new Picture(globalSheet, $\"query {query.Id}\")")]
    [InlineData(Rule.LocalFunction, "if (!session.IsSmoke)\n{")]
    [InlineData(Rule.ModeTernary, "if (!session.IsSmoke)\n{")]
    [InlineData(Rule.HandBuiltPath, "display($\"{n} photos in data/photos/{folder}\");")]
    [InlineData(Rule.HandBuiltPath, "DatasetFigures.ToHtml(sheet, session.OutputFile(\"photos.png\"), \"title\")")]
    public void AllowedCodePassesEveryRule(Rule rule, string code) => Assert.DoesNotMatch(Patterns[rule], code);
}
