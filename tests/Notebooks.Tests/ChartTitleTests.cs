using System.Reflection;
using System.Text.Json;
using MultiLevelHashing.Attention;
using MultiLevelHashing.Baselines;
using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Evaluation;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Model;
using MultiLevelHashing.Plots;
using MultiLevelHashing.Search;
using MultiLevelHashing.Training;
using Plotly.NET;

namespace Notebooks.Tests;

/// <summary>Every chart function of Plots gives its chart a title and both axes a title.</summary>
public class ChartTitleTests
{
    private static readonly TrainingHistory History = new()
    {
        InitialValidationMap = 0.2,
        Epochs = [new EpochRecord(1, 1.0, 0.6, 0.4, 0.3, 1e-3, 1.0, 10), new EpochRecord(2, 0.8, 0.5, 0.3, 0.35, 1e-3, 1.0, 10)],
    };

    private static readonly Lazy<LandmarkDataset> Smoke = new(() => LandmarkDataset.EnsureMiniLandmarks(MiniLandmarksConfig.Smoke));

    /// <summary>One chart per chart function, keyed by "Class.Method".</summary>
    private static readonly Dictionary<string, Func<GenericChart>> Charts = new()
    {
        ["TrainingCharts.LossCurves"] = () => TrainingCharts.LossCurves([("seed 0", History)]),
        ["TrainingCharts.ValidationMap"] = () => TrainingCharts.ValidationMap([("seed 0", History)], [("LSH", 0.25)]),
        ["TrainingCharts.BitBalance"] = () => TrainingCharts.BitBalance([0.4, 0.5, 0.6]),
        ["TrainingCharts.QuantizationHistogram"] = () => TrainingCharts.QuantizationHistogram([("global", [0.1, 0.2, 0.05])]),
        ["TrainingCharts.CandidateScores"] = () => TrainingCharts.CandidateScores([("a", 0.4, 0.3), ("b", 0.45, 0.3)], 0.2),
        ["SearchFigures.QueriesPerSecond"] = () => SearchFigures.QueriesPerSecond(
            [new ScalingPoint("ours", "scan", "uniform", 1000, 5000, 0, 100), new ScalingPoint("ours", "scan", "uniform", 10000, 500, 0, 100)]).Chart,
        ["DatasetFigures.VisibilityHistogram"] = () => DatasetFigures.VisibilityHistogram(Smoke.Value).Chart,
        ["BaselineCharts.Descriptors"] = () => BaselineCharts.Descriptors(
            [new DescriptorResult(FeaturePooling.Gap, 0.5), new DescriptorResult(FeaturePooling.GeM, 0.55)], [0.3, 0.32], 64),
        ["ThroughputCharts.AgainstPyTorch"] = () => ThroughputCharts.AgainstPyTorch(PyTorchResults()).Chart,
        ["AttentionCharts.Localisation"] = () => AttentionCharts.Localisation(
            [new LocalisationRow("trained", "local", 0, new LocalisationScore(0.8, 0.7, 0.6, 100)), new LocalisationRow("trained", "global", 0, new LocalisationScore(0.7, 0.65, 0.6, 50))]),
        ["AttentionCharts.PertinenceHistogram"] = () => AttentionCharts.PertinenceHistogram([("trained", [0.1, 0.3, 0.2])]),
        ["AttentionCharts.ValidationAgainstRho"] = () => AttentionCharts.ValidationAgainstRho(Study()),
        ["TableCharts.MapAgainstBits"] = () => TableCharts.MapAgainstBits(Tables(), EvaluationProtocol.Classic),
        ["TableCharts.MapAgainstCost"] = () => TableCharts.MapAgainstCost(Tables(), EvaluationProtocol.Classic),
        ["TableCharts.MapAgainstBytes"] = () => TableCharts.MapAgainstBytes(Tables(), EvaluationProtocol.Classic),
        ["TableCharts.PrecisionRecall"] = () => TableCharts.PrecisionRecall(Tables()),
        ["TableCharts.ValidationAgainstCandidates"] = () => TableCharts.ValidationAgainstCandidates(Study(), SelectionMethod.QueryAdaptive, 0.25),
        ["TableCharts.TestAgainstCandidates"] = () => TableCharts.TestAgainstCandidates([new(new(10, 0.5, 0.25), 0.4), new(new(20, 0.5, 0.25), 0.45), new(new(10, 1, 0.25), 0.42)], "query-adaptive", 0.38),
        ["AttentionCharts.StrongestBits"] = () => AttentionCharts.StrongestBits(new LevelMaps(
            new BitMaps(new float[2 * 8 * 4], 1, 8, 2, 4), new BitMaps(new float[16 * 8], 1, 16, 2, 4), new float[8], new float[16]), 0, 2, "bits"),
    };

    private static string PyTorchResults()
    {
        string path = Path.Combine(Path.GetTempPath(), $"pytorch-{Guid.NewGuid():N}.tsv");
        File.WriteAllText(path, "row\tside\tdecode_threads\tbatch\trate\nInference\tTorchSharp\t\t\t60\nInference\tPyTorch\t\t\t50\n" +
                                "Inference\tTorchSharp\t\t\t70\nEndToEnd\tTorchSharp\t1\t16\t9\n");
        return path;
    }

    private static BitSelectionStudyResult Study()
    {
        var config = BitSelectionStudyConfig.Smoke(TrainingConfig.Smoke);
        var validation = new List<SettingScore>();
        foreach (var method in new[] { SelectionMethod.All, SelectionMethod.QueryAdaptive })
            foreach (double rho in method == SelectionMethod.All ? [1.0] : config.Rhos)
                validation.Add(new SettingScore(method, new MultiLevelSetting(20, 1, rho), [0.4, 0.5]));
        var methods = new[] { SelectionMethod.All, SelectionMethod.QueryAdaptive }
            .Select(m => new MethodResult(m, validation.First(v => v.Method == m).Setting, validation.First(v => v.Method == m).Map, [0.45])).ToList();
        return new BitSelectionStudyResult("smoke", config, validation, methods, []);
    }

    /// <summary>Tables with every row the charts read: two lengths, two seeds, two protocols.</summary>
    internal static PaperTablesResult Tables()
    {
        var config = new PaperTablesConfig("test", TrainingConfig.Smoke with { GlobalBits = 16, LocalBits = 32 }, [0, 1], [8, 16],
            BitSelectionStudyConfig.Smoke(TrainingConfig.Smoke));
        var runs = new List<MethodRun>();
        void Add(string method, string family, int bits, int seed, double map) => runs.Add(new MethodRun(method, family, bits, bits, "scan", "", seed,
            [new ProtocolScore(EvaluationProtocol.Classic, map, 0.5), new ProtocolScore(EvaluationProtocol.Medium, map - 0.05, 0.4)], 0.01, 0.02));
        foreach (int seed in new[] { 0, 1 })
        {
            foreach (string method in PaperMethods.FloatRows) Add(method, PaperMethods.Float, 16384, seed, 0.6);
            foreach (int bits in new[] { 8, 16 })
                foreach (string method in PaperMethods.CodeLengthRows)
                    Add(method, method == PaperMethods.Global ? PaperMethods.Dscnn : PaperMethods.Unsupervised, bits, seed, 0.3 + bits / 100.0 + seed / 100.0);
            foreach (string method in PaperMethods.AblationRows.Skip(1)) Add(method, PaperMethods.Dscnn, 48, seed, 0.5);
            foreach (string method in PaperMethods.RegionRows([10, 20])) Add(method, PaperMethods.Dscnn, 2016, seed, 0.55 + seed / 100.0);
        }
        return new PaperTablesResult("toy", config, runs, [new PrecisionRecallSeries(PaperMethods.Gap, 16384, [0, 0.5, 1], [1, 0.6, 0.2])],
            [new ChosenSetting(SelectionMethod.QueryAdaptive, new MultiLevelSetting(20, 1, 0.25), new MultiLevelHashing.Evaluation.MeanSpread(0.5, 0.01, 2))], 1);
    }

    public static TheoryData<string> ChartFunctions()
    {
        var data = new TheoryData<string>();
        foreach (string name in Charts.Keys.Order()) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(ChartFunctions))]
    public void ChartHasATitleAndAxisTitles(string function)
    {
        using var figure = JsonDocument.Parse(GenericChart.toFigureJson(Charts[function]()));
        var layout = figure.RootElement.GetProperty("layout");
        Assert.False(string.IsNullOrWhiteSpace(TitleText(layout)), $"{function}: no chart title");
        Assert.False(string.IsNullOrWhiteSpace(TitleText(layout.GetProperty("xaxis"))), $"{function}: no x axis title");
        Assert.False(string.IsNullOrWhiteSpace(TitleText(layout.GetProperty("yaxis"))), $"{function}: no y axis title");
        // Only log axes set a type; "linear" on a categorical axis would hide its bars.
        foreach (string axis in new[] { "xaxis", "yaxis" })
            if (layout.GetProperty(axis).TryGetProperty("type", out var type)) Assert.Equal("log", type.GetString());
    }

    [Fact]
    public void EveryChartFunctionIsChecked()
    {
        // A public function of Plots that returns a chart (alone or in a tuple) must have a case above.
        var functions = typeof(TrainingCharts).Assembly.GetExportedTypes()
            .Where(t => t.Namespace == "MultiLevelHashing.Plots")
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static).Select(m => (Type: t, Method: m)))
            .Where(x => ReturnsChart(x.Method.ReturnType) && x.Type != typeof(ChartTitles))
            .Select(x => $"{x.Type.Name}.{x.Method.Name}")
            .Distinct()
            .Order()
            .ToList();
        Assert.Equal(Charts.Keys.Order().ToList(), functions);
    }

    private static bool ReturnsChart(Type type) => type == typeof(GenericChart)
        || (type.IsGenericType && type.FullName!.StartsWith("System.ValueTuple", StringComparison.Ordinal) && type.GetGenericArguments().Contains(typeof(GenericChart)));

    private static string? TitleText(JsonElement element)
        => element.TryGetProperty("title", out var title) && title.TryGetProperty("text", out var text) ? text.GetString() : null;
}
