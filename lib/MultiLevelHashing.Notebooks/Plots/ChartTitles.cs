using Plotly.NET;

namespace MultiLevelHashing.Plots;

/// <summary>Sets a chart's title and its axis titles in one call, so every chart of the toolkit names what it plots and in which unit.</summary>
public static class ChartTitles
{
    /// <summary>
    /// <paramref name="chart"/> with the title <paramref name="title"/>, the x axis titled <paramref name="x"/> and the
    /// y axis titled <paramref name="y"/>; <paramref name="logX"/> and <paramref name="logY"/> make an axis logarithmic.
    /// </summary>
    public static GenericChart With(GenericChart chart, string title, string x, string y, bool logX = false, bool logY = false)
    {
        // The axis type is set only for log axes: forcing "linear" would turn a categorical axis into numbers and hide its bars.
        var styled = logX
            ? Plotly.NET.CSharp.GenericChartExtensions.WithXAxisStyle<double, double, string>(chart, TitleText: x, AxisType: StyleParam.AxisType.Log)
            : Plotly.NET.CSharp.GenericChartExtensions.WithXAxisStyle<double, double, string>(chart, TitleText: x);
        styled = logY
            ? Plotly.NET.CSharp.GenericChartExtensions.WithYAxisStyle<double, double, string>(styled, TitleText: y, AxisType: StyleParam.AxisType.Log)
            : Plotly.NET.CSharp.GenericChartExtensions.WithYAxisStyle<double, double, string>(styled, TitleText: y);
        return Chart.withTitle(title, TitleFont: null).Invoke(styled);
    }
}
