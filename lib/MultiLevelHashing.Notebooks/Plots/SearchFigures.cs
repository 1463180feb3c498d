using MultiLevelHashing.Benchmarks;
using Microsoft.Data.Analysis;
using MultiLevelHashing.Search;
using Plotly.NET;

namespace MultiLevelHashing.Plots;

/// <summary>Charts of the Hamming search engine (stage 1 of the multi-level search at scale).</summary>
public static class SearchFigures
{
    /// <summary>
    /// Queries per second against database size N, both axes logarithmic: one line per engine, method and code
    /// distribution (our measurements and, when given, the FAISS rows of the side-by-side table), and the plotted
    /// numbers as a table.
    /// </summary>
    public static (GenericChart Chart, DataFrame Data) QueriesPerSecond(IReadOnlyList<ScalingPoint> points)
    {
        var charts = new List<GenericChart>();
        var groups = points.GroupBy(p => (p.Engine, p.Method, p.Codes)).OrderBy(g => g.Key.Engine != "ours").ThenBy(g => g.Key.Method).ThenBy(g => g.Key.Codes);
        foreach (var g in groups)
        {
            var ordered = g.OrderBy(p => p.N).ToList();
            string name = $"{g.Key.Engine} {Label(g.Key.Method)}, {g.Key.Codes}";
            charts.Add(Plotly.NET.CSharp.Chart.Line<double, double, string>(
                x: ordered.Select(p => (double)p.N), y: ordered.Select(p => p.QueriesPerSecond), ShowMarkers: true, Name: name));
        }
        var chart = ChartTitles.With(Plotly.NET.CSharp.Chart.Combine(charts), "Stage 1 search: queries per second against database size",
            "database size N (codes)", "queries per second", logX: true, logY: true);
        var sorted = points.OrderBy(p => p.Engine != "ours").ThenBy(p => p.Method).ThenBy(p => p.Codes).ThenBy(p => p.N).ToList();
        var data = new DataFrame(
            new StringDataFrameColumn("engine", sorted.Select(p => p.Engine)),
            new StringDataFrameColumn("method", sorted.Select(p => p.Method)),
            new StringDataFrameColumn("codes", sorted.Select(p => p.Codes)),
            new PrimitiveDataFrameColumn<int>("n", sorted.Select(p => p.N)),
            new PrimitiveDataFrameColumn<double>("queries_per_second", sorted.Select(p => Math.Round(p.QueriesPerSecond, 1))),
            new PrimitiveDataFrameColumn<int>("answered_by_index", sorted.Select(p => p.AnsweredByIndex)),
            new PrimitiveDataFrameColumn<int>("queries", sorted.Select(p => p.Queries)));
        return (chart, data);
    }

    private static string Label(string method) => method switch
    {
        "scan" => "linear scan",
        "mih" => "multi-index hashing",
        "flat" => "IndexBinaryFlat",
        "multihash" => "IndexBinaryMultiHash",
        _ => method,
    };

    /// <summary>
    /// The cost of the multi-level search with region codes (<see cref="RegionStageTiming"/>): per point the database
    /// size, regions and bytes of region codes per image, N, and milliseconds per query of stage 1, stage 2 and both.
    /// </summary>
    public static DataFrame RegionTimingTable(IReadOnlyList<RegionTiming> points) => new(
        new PrimitiveDataFrameColumn<int>("database images", points.Select(p => p.DatabaseSize)),
        new PrimitiveDataFrameColumn<int>("regions per image", points.Select(p => p.RegionsPerImage)),
        new PrimitiveDataFrameColumn<int>("bytes of region codes per image", points.Select(p => p.RegionsPerImage * p.RegionBits / 8)),
        new PrimitiveDataFrameColumn<int>("N", points.Select(p => p.Candidates)),
        new PrimitiveDataFrameColumn<double>("stage 1, ms/query", points.Select(p => Math.Round(p.Stage1Ms, 3))),
        new PrimitiveDataFrameColumn<double>("stage 2, ms/query", points.Select(p => Math.Round(p.Stage2Ms, 3))),
        new PrimitiveDataFrameColumn<double>("both, ms/query", points.Select(p => Math.Round(p.TotalMs, 3))));
}
