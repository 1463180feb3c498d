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
        var styled = Plotly.NET.CSharp.GenericChartExtensions.WithXAxisStyle<double, double, string>(chart, TitleText: x,
            AxisType: logX ? StyleParam.AxisType.Log : StyleParam.AxisType.Linear);
        styled = Plotly.NET.CSharp.GenericChartExtensions.WithYAxisStyle<double, double, string>(styled, TitleText: y,
            AxisType: logY ? StyleParam.AxisType.Log : StyleParam.AxisType.Linear);
        return Chart.withTitle(title, TitleFont: null).Invoke(styled);
    }
}
