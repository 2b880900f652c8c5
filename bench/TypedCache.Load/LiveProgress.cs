using System.Diagnostics;
using Spectre.Console;
using TypedCache.Load.Measure;
using TypedCache.Load.Scenarios;

namespace TypedCache.Load;

/// <summary>
/// The run's progress: a live Spectre.Console table (scenario, cache, elapsed, throughput, p50/p99, errors, the last
/// events) on a terminal, or one plain line per second to a writer.
/// </summary>
internal sealed class LiveProgress(TextWriter? writer)
{
    private readonly Lock _gate = new();
    private readonly List<string> _events = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private string _scenario = "";
    private string _phase = "";
    private Timeline? _timeline;

    public void Track(string scenario, string phase, Timeline? timeline)
    {
        lock (_gate)
            (_scenario, _phase, _timeline) = (scenario, phase, timeline);
    }

    /// <summary>Records an event (a fault injected, a verdict) for the display.</summary>
    public void Note(string text)
    {
        string line = $"{_clock.Elapsed:mm\\:ss} {text}";
        lock (_gate)
        {
            _events.Add(line);
            if (_events.Count > 6)
                _events.RemoveAt(0);
        }
        writer?.WriteLine(line);
    }

    public async Task RunAsync(Func<Task> body)
    {
        if (writer is not null)
        {
            var task = body();
            while (!task.IsCompleted)
            {
                await Task.WhenAny(task, Task.Delay(1000));
                if (Line() is { } line)
                    writer.WriteLine(line);
            }
            await task;
            return;
        }

        await AnsiConsole.Live(Render()).AutoClear(false).StartAsync(async context =>
        {
            var task = body();
            while (!task.IsCompleted)
            {
                await Task.WhenAny(task, Task.Delay(250));
                context.UpdateTarget(Render());
            }
            await task;
        });
    }

    private string? Line()
    {
        lock (_gate)
        {
            if (_timeline?.Latest() is not { } point)
                return null;
            return $"{_scenario} {_phase} {point.Seconds,5:0.0}s {point.OperationsPerSecond,10:#,0} ops/s p50 {ScenarioResult.Ms(point.P50)} p99 {ScenarioResult.Ms(point.P99)} errors {_timeline.Totals().Errors}";
        }
    }

    private Spectre.Console.Rendering.IRenderable Render()
    {
        lock (_gate)
        {
            var table = new Table().Border(TableBorder.Rounded).Title("[bold]typedcache bench[/]");
            foreach (string column in (string[])["scenario", "cache", "elapsed", "ops/s", "p50", "p99", "errors"])
                table.AddColumn(column);
            var point = _timeline?.Latest();
            var totals = _timeline?.Totals();
            table.AddRow(
                Markup.Escape(_scenario),
                Markup.Escape(_phase),
                point is null ? "-" : $"{point.Seconds:0.0} s",
                point is null ? "-" : ScenarioResult.Number(point.OperationsPerSecond),
                point is null ? "-" : ScenarioResult.Ms(point.P50),
                point is null ? "-" : ScenarioResult.Ms(point.P99),
                totals is null ? "-" : totals.Errors == 0 ? "0" : $"[red]{totals.Errors}[/]");
            var events = new Rows(_events.Select(e => new Text(e)).DefaultIfEmpty(new Text("")));
            return new Rows(table, events);
        }
    }
}
