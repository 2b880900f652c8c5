using TypedCache.Load.Workers;

namespace TypedCache.Load.Measure;

/// <summary>One interval of a scenario, summed over its workers.</summary>
internal sealed class TimelineBin
{
    public LatencyHistogram Latency { get; } = new();

    public long Operations { get; set; }

    public long Reads { get; set; }

    public long Hits { get; set; }

    public long Errors { get; set; }
}

/// <summary>
/// The figures of one load phase over time: the workers' ticks summed into fixed bins from the phase's start, plus
/// the totals. The clock is wall time in Unix milliseconds, shared by every process on the host.
/// </summary>
internal sealed class Timeline(long startedAtUnixMs, int binMilliseconds = 500)
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<int, TimelineBin> _bins = [];
    private readonly LatencyHistogram _total = new();
    private readonly LatencyHistogram _writes = new();
    private readonly List<string> _errorMessages = [];
    private long _operations;
    private long _reads;
    private long _hits;
    private long _errors;
    private long _lastTickAt;

    public long StartedAt { get; } = startedAtUnixMs;

    public int BinMilliseconds { get; } = binMilliseconds;

    public double Seconds(long unixMs) => (unixMs - StartedAt) / 1000.0;

    public void Add(WorkerTick tick)
    {
        lock (_gate)
        {
            int index = (int)Math.Max(0, (tick.At - StartedAt) / BinMilliseconds);
            if (!_bins.TryGetValue(index, out var bin))
                _bins[index] = bin = new TimelineBin();
            bin.Operations += tick.Operations;
            bin.Reads += tick.Reads;
            bin.Hits += tick.Hits;
            bin.Errors += tick.Errors;
            bin.Latency.Merge(tick.Latency);
            _total.Merge(tick.Latency);
            _writes.Merge(tick.WriteLatency);
            _operations += tick.Operations;
            _reads += tick.Reads;
            _hits += tick.Hits;
            _errors += tick.Errors;
            _lastTickAt = Math.Max(_lastTickAt, tick.At);
            if (tick.Error is not null && _errorMessages.Count < 10)
                _errorMessages.Add(tick.Error);
        }
    }

    public TimelineTotals Totals()
    {
        lock (_gate)
        {
            double seconds = Math.Max(0.001, Seconds(_lastTickAt));
            return new TimelineTotals(_operations, _reads, _hits, _errors, _operations / seconds,
                _total.Percentile(0.50), _total.Percentile(0.90), _total.Percentile(0.99), _total.Percentile(0.999),
                _writes.Percentile(0.50), _writes.Percentile(0.99), [.. _errorMessages]);
        }
    }

    /// <summary>Errors and operations between two instants (Unix ms), for availability during a fault.</summary>
    public (long Operations, long Errors) Between(long fromUnixMs, long toUnixMs)
    {
        lock (_gate)
        {
            int from = (int)((fromUnixMs - StartedAt) / BinMilliseconds), to = (int)((toUnixMs - StartedAt) / BinMilliseconds);
            var bins = _bins.Where(b => b.Key >= from && b.Key <= to).Select(b => b.Value).ToList();
            return (bins.Sum(b => b.Operations), bins.Sum(b => b.Errors));
        }
    }

    /// <summary>Per complete bin (the last, partly filled one left out): seconds from start, operations per second, p50 and p99 in ms, errors.</summary>
    public IReadOnlyList<TimelinePoint> Points()
    {
        lock (_gate)
        {
            double perSecond = 1000.0 / BinMilliseconds;
            return [.. _bins.SkipLast(1).Select(b => new TimelinePoint(b.Key * BinMilliseconds / 1000.0, b.Value.Operations * perSecond,
                b.Value.Latency.Percentile(0.5), b.Value.Latency.Percentile(0.99), b.Value.Errors))];
        }
    }

    /// <summary>The last complete bin, for the live display.</summary>
    public TimelinePoint? Latest() => Points() is { Count: > 0 } points ? points[^1] : null;
}

internal sealed record TimelinePoint(double Seconds, double OperationsPerSecond, double P50, double P99, long Errors);

internal sealed record TimelineTotals(long Operations, long Reads, long Hits, long Errors, double OperationsPerSecond, double P50, double P90, double P99, double P999,
    double WriteP50, double WriteP99, IReadOnlyList<string> ErrorMessages)
{
    public double HitRatio => Reads == 0 ? 0 : (double)Hits / Reads;
}
