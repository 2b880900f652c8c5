using System.Diagnostics;
using TypedCache.Load.Measure;
using TypedCache.Load.Workers;

namespace TypedCache.Load.Tests;

/// <summary>Latency recorded per operation kind, carried in a worker's tick line and summed by the timeline.</summary>
public sealed class IntervalMeterTests
{
    private static readonly TimeSpan Hit = TimeSpan.FromMicroseconds(100);
    private static readonly TimeSpan Miss = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Write = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan Invalidate = TimeSpan.FromMilliseconds(5);

    [Fact]
    public void Each_kind_lands_in_its_own_histogram()
    {
        var tick = TickOf((OperationKind.ReadHit, Hit), (OperationKind.ReadMiss, Miss), (OperationKind.Write, Write), (OperationKind.Invalidate, Invalidate));

        Assert.Equal([OperationKind.ReadHit, OperationKind.ReadMiss, OperationKind.Write, OperationKind.Invalidate], tick.Latency.Keys.Order());
        Assert.Equal([[Bucket(Hit), 1]], tick.Latency[OperationKind.ReadHit]);
        Assert.Equal([[Bucket(Miss), 1]], tick.Latency[OperationKind.ReadMiss]);
        Assert.Equal([[Bucket(Write), 1]], tick.Latency[OperationKind.Write]);
        Assert.Equal([[Bucket(Invalidate), 1]], tick.Latency[OperationKind.Invalidate]);
    }

    [Fact]
    public void A_take_starts_the_next_interval_empty()
    {
        var meter = new IntervalMeter();
        meter.Record(Hit, OperationKind.ReadHit);
        meter.Fail(new TimeoutException("no reply"));

        var first = meter.Take();
        var second = meter.Take();

        Assert.Equal(1, first.Errors);
        Assert.Equal("TimeoutException: no reply", first.Error);
        Assert.Single(first.Latency);
        Assert.Empty(second.Latency);
        Assert.Equal(0, second.Errors);
        Assert.Null(second.Error);
    }

    [Fact]
    public void The_tick_line_round_trips()
    {
        var tick = TickOf((OperationKind.ReadHit, Hit), (OperationKind.ReadHit, Hit), (OperationKind.ReadMiss, Miss), (OperationKind.Invalidate, Invalidate)) with
        {
            Errors = 1,
            Error = "InvalidOperationException: down",
        };

        string line = tick.ToLine();

        Assert.StartsWith("tick {", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
        Assert.True(WorkerTick.TryParse(line, out var parsed));
        Assert.Equal(tick.At, parsed.At);
        Assert.Equal(tick.Errors, parsed.Errors);
        Assert.Equal(tick.Error, parsed.Error);
        Assert.Equal(tick.Latency.Keys.Order(), parsed.Latency.Keys.Order());
        foreach (var (kind, sparse) in tick.Latency)
            Assert.Equal(sparse, parsed.Latency[kind]);
        Assert.Equal([[Bucket(Hit), 2]], parsed.Latency[OperationKind.ReadHit]);
    }

    [Fact]
    public void An_operation_that_took_the_stall_bound_or_was_given_up_after_it_counts_as_stalled()
    {
        var meter = new IntervalMeter();
        meter.Record(IntervalMeter.StallBound - TimeSpan.FromMilliseconds(1), OperationKind.ReadHit);
        meter.Record(IntervalMeter.StallBound, OperationKind.ReadMiss);
        meter.Unfinished(Stopwatch.GetTimestamp());
        meter.Unfinished(Stopwatch.GetTimestamp() - (long)(IntervalMeter.StallBound.TotalSeconds * 2 * Stopwatch.Frequency));

        var tick = meter.Take();

        Assert.Equal(2, tick.Stalled);
        Assert.Equal(0, meter.Take().Stalled);
        Assert.True(WorkerTick.TryParse(tick.ToLine(), out var parsed));
        var timeline = new Timeline(tick.At - 1000);
        timeline.Add(parsed);
        timeline.Add(tick);
        Assert.Equal(4, timeline.Totals().Stalled);
    }

    [Theory]
    [InlineData("ready")]
    [InlineData("done")]
    [InlineData("ticking")]
    public void Other_worker_lines_are_not_ticks(string line)
    {
        Assert.False(WorkerTick.TryParse(line, out var tick));
        Assert.Null(tick);
    }

    [Fact]
    public void The_timeline_gives_each_kind_and_every_operation_together()
    {
        var tick = TickOf(
            (OperationKind.ReadHit, Hit), (OperationKind.ReadHit, Hit), (OperationKind.ReadHit, Hit), (OperationKind.ReadMiss, Miss),
            (OperationKind.Write, Write), (OperationKind.Write, Write), (OperationKind.Invalidate, Invalidate));
        var timeline = new Timeline(tick.At - 1000);

        Assert.True(WorkerTick.TryParse(tick.ToLine(), out var parsed));
        timeline.Add(parsed);
        var totals = timeline.Totals();

        Assert.Equal(
            [(OperationKind.ReadHit, 3L, Ms(Hit)), (OperationKind.ReadMiss, 1L, Ms(Miss)), (OperationKind.Write, 2L, Ms(Write)), (OperationKind.Invalidate, 1L, Ms(Invalidate))],
            totals.Kinds.Select(k => (k.Kind, k.Count, k.P50)));
        Assert.All(totals.Kinds, k => Assert.Equal(k.P50, k.P999));
        Assert.Equal(7, totals.Operations);
        Assert.Equal(4, totals.Reads);
        Assert.Equal(3, totals.Hits);
        // Every operation together: 0.1, 0.1, 0.1, 2, 2, 5, 20 ms; the median is the fourth.
        Assert.Equal(Ms(Write), totals.P50);
        Assert.Equal(Ms(Miss), totals.P99);
        // Writes and invalidations together: 2, 2, 5 ms.
        Assert.Equal(Ms(Write), totals.WriteP50);
        Assert.Equal(Ms(Invalidate), totals.WriteP99);
    }

    [Fact]
    public void A_kind_no_operation_had_is_left_out_of_the_totals()
    {
        var tick = TickOf((OperationKind.ReadHit, Hit));
        var timeline = new Timeline(tick.At - 1000);

        timeline.Add(tick);

        var only = Assert.Single(timeline.Totals().Kinds);
        Assert.Equal(OperationKind.ReadHit, only.Kind);
        Assert.Equal(0, timeline.Totals().WriteP99);
    }

    private static WorkerTick TickOf(params (OperationKind Kind, TimeSpan Latency)[] operations)
    {
        var meter = new IntervalMeter();
        foreach (var (kind, latency) in operations)
            meter.Record(latency, kind);
        return meter.Take();
    }

    private static int Bucket(TimeSpan latency) => LatencyHistogram.BucketOf(latency.TotalMicroseconds);

    /// <summary>What a histogram gives for <paramref name="latency"/>: its bucket's upper bound, in ms.</summary>
    private static double Ms(TimeSpan latency) => LatencyHistogram.UpperBound(Bucket(latency)) / 1000;
}
