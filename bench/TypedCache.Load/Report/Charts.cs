using ScottPlot;
using TypedCache.Load.Measure;
using TypedCache.Load.Scenarios;

namespace TypedCache.Load.Report;

/// <summary>One PNG per scenario: throughput (left axis) and p99 latency (right axis) over time, each fault a vertical line.</summary>
internal static class Charts
{
    public static void Write(ScenarioResult result, Timeline timeline, string path)
    {
        var points = timeline.Points();
        if (points.Count == 0)
            return;
        var plot = new Plot();
        double[] seconds = [.. points.Select(p => p.Seconds)];
        var throughput = plot.Add.Scatter(seconds, [.. points.Select(p => p.OperationsPerSecond)]);
        throughput.LegendText = "throughput (ops/s)";
        throughput.MarkerSize = 0;
        throughput.LineWidth = 2;
        var latency = plot.Add.Scatter(seconds, [.. points.Select(p => p.P99)]);
        latency.LegendText = "p99 latency (ms)";
        latency.MarkerSize = 0;
        latency.Axes.YAxis = plot.Axes.Right;
        var errors = points.Where(p => p.Errors > 0).ToList();
        if (errors.Count > 0)
        {
            var failed = plot.Add.ScatterPoints(errors.Select(p => p.Seconds).ToArray(), errors.Select(p => p.OperationsPerSecond).ToArray());
            failed.LegendText = "interval with caller errors";
            failed.MarkerSize = 8;
            failed.Color = Colors.Red;
        }
        foreach (var (mark, index) in result.Marks.Select((m, i) => (m, i)))
        {
            var line = plot.Add.VerticalLine(mark.Seconds);
            line.Text = mark.Label;
            line.LabelOppositeAxis = index % 2 == 0;
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.DarkRed;
        }
        plot.Title($"{result.Name}: throughput and p99 latency");
        plot.XLabel("seconds");
        plot.Axes.Left.Label.Text = "operations per second";
        plot.Axes.Right.Label.Text = "p99 latency (ms)";
        plot.Axes.SetLimitsY(0, Math.Max(1, points.Max(p => p.OperationsPerSecond)) * 1.1, plot.Axes.Left);
        plot.Axes.SetLimitsY(0, Math.Max(1, points.Max(p => p.P99)) * 1.1, plot.Axes.Right);
        plot.ShowLegend(Alignment.LowerLeft);
        plot.SavePng(path, 900, 420);
    }
}
