using System.Diagnostics;
using MultiLevelHashing.Runtime;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace MultiLevelHashing.Cli.Console;

/// <summary>Draws library <see cref="ProgressReport"/>s as Spectre.Console bars with rate and ETA.</summary>
public static class ConsoleProgress
{
    /// <summary>Runs <paramref name="work"/> with a live progress display; one bar per distinct task name.</summary>
    public static T Run<T>(Func<IProgress<ProgressReport>, T> work)
    {
        var tasks = new Dictionary<string, ProgressTask>();
        return NewDisplay().Start(ctx =>
        {
            var result = work(Sink(ctx, tasks));
            lock (tasks)
                foreach (var task in tasks.Values) task.Value = task.MaxValue;
            return result;
        });
    }

    /// <summary>The unit each bar counts, for the rate column.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ProgressTask, string> Units = new();

    private static Progress NewDisplay() => AnsiConsole.Progress()
        .AutoClear(false)
        .HideCompleted(false)
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                 new RateColumn(), new RemainingTimeColumn(), new ElapsedTimeColumn());

    /// <summary>One bar per distinct task name; the description shows the latest detail.</summary>
    private static IProgress<ProgressReport> Sink(ProgressContext ctx, Dictionary<string, ProgressTask> tasks)
        => new SynchronousProgress(report =>
        {
            lock (tasks)
            {
                if (!tasks.TryGetValue(report.Task, out var task))
                {
                    task = ctx.AddTask(Markup.Escape(report.Task), maxValue: Math.Max(1, report.Total));
                    tasks[report.Task] = task;
                }
                if (report.Total > 0) task.MaxValue = report.Total;
                task.Value = report.Done;
                Units.AddOrUpdate(task, report.Unit);
                string label = report.Detail is null ? report.Task : $"{report.Task} {report.Detail}";
                task.Description = Markup.Escape(label);
            }
        });

    /// <summary>Runs asynchronous <paramref name="work"/> with a live progress display.</summary>
    public static async Task<T> RunAsync<T>(Func<IProgress<ProgressReport>, Task<T>> work)
    {
        var tasks = new Dictionary<string, ProgressTask>();
        return await NewDisplay().StartAsync(async ctx =>
        {
            var result = await work(Sink(ctx, tasks));
            lock (tasks)
                foreach (var task in tasks.Values) task.Value = task.MaxValue;
            return result;
        });
    }

    /// <summary>Runs <paramref name="work"/> with a live progress display.</summary>
    public static void Run(Action<IProgress<ProgressReport>> work) => Run<int>(p => { work(p); return 0; });

    /// <summary>Unlike <see cref="Progress{T}"/>, reports on the calling thread, so bars stay in order.</summary>
    private sealed class SynchronousProgress(Action<ProgressReport> onReport) : IProgress<ProgressReport>
    {
        public void Report(ProgressReport value) => onReport(value);
    }

    /// <summary>Items per second, with the unit the library reported.</summary>
    private sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            double? speed = task.Speed;
            string unit = Units.TryGetValue(task, out var u) ? u : "items";
            return new Text(speed is null ? $"-- {unit}/s" : $"{speed:0.0} {unit}/s", new Style(Color.Grey));
        }
    }
}
