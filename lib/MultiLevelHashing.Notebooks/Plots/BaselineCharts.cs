using MultiLevelHashing.Experiments;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MultiLevelHashing.Plots;

/// <summary>Charts of the training-free baselines on the pretrained backbone (notebook 02).</summary>
public static class BaselineCharts
{
    /// <summary>
    /// mAP (%) of each float descriptor ranked by cosine similarity and of LSH on the GAP descriptor (mean over seeds),
    /// one bar each: the rows of <see cref="Tables.Descriptors"/>.
    /// </summary>
    public static GenericChart Descriptors(IReadOnlyList<DescriptorResult> floats, IReadOnlyList<double> lsh, int lshBits, int dimensions = 512)
    {
        var rows = Tables.DescriptorRows(floats, lsh, lshBits, dimensions);
        var bars = CSharpChart.Column<double, string, string>(values: rows.Select(r => r.MapPercent),
            Keys: new Plotly.NET.CSharp.Optional<IEnumerable<string>>(rows.Select(r => r.Name), true), Name: "mAP (%)");
        return ChartTitles.With(bars, "Float descriptors and LSH of the pretrained backbone", "descriptor", "mAP (%)");
    }
}
