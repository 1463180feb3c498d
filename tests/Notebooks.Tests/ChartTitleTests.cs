using System.Reflection;
using System.Text.Json;
using MultiLevelHashing.Baselines;
using MultiLevelHashing.Benchmarks;
using MultiLevelHashing.Data;
using MultiLevelHashing.Data.MiniLandmarks;
using MultiLevelHashing.Experiments;
using MultiLevelHashing.Plots;
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
            [new DescriptorResult(DescriptorPooling.Gap, 0.5), new DescriptorResult(DescriptorPooling.GeM, 0.55)], [0.3, 0.32], 64),
    };

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
