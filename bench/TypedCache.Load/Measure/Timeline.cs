using TypedCache.Load.Workers;

namespace TypedCache.Load.Measure;

/// <summary>One interval of a scenario, summed over its workers.</summary>
internal sealed class TimelineBin
{
    /// <summary>Every operation of the interval, whatever its kind.</summary>
    public LatencyHistogram Latency { get; } = new();

    public long Errors { get; set; }
}

/// <summary>
/// The figures of one load phase over time: the workers' ticks summed into fixed bins from the phase's start, plus
/// the totals per operation kind. The clock is wall time in Unix milliseconds, shared by every process on the host.
/// </summary>
internal sealed class Timeline(long startedAtUnixMs, int binMilliseconds = 500)
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<int, TimelineBin> _bins = [];
    private readonly LatencyHistogram[] _kinds = [.. OperationKinds.All.Select(_ => new LatencyHistogram())];
    private readonly List<string> _errorMessages = [];
    private long _errors;
    private long _stalled;
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
            foreach (var (kind, sparse) in tick.Latency)
            {
                bin.Latency.Merge(sparse);
                _kinds[(int)kind].Merge(sparse);
            }
            bin.Errors += tick.Errors;
            _errors += tick.Errors;
            _stalled += tick.Stalled;
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
            var all = LatencyHistogram.Sum(_kinds);
            var writes = LatencyHistogram.Sum([Of(OperationKind.Write), Of(OperationKind.Invalidate)]);
            var kinds = OperationKinds.All.Where(k => Of(k).Count > 0)
                .Select(k => new KindTotals(k, Of(k).Count, Of(k).Percentile(0.50), Of(k).Percentile(0.99), Of(k).Percentile(0.999)))
                .ToList();
            return new TimelineTotals(all.Count, Of(OperationKind.ReadHit).Count + Of(OperationKind.ReadMiss).Count, Of(OperationKind.ReadHit).Count, _errors,
                all.Count / seconds, all.Percentile(0.50), all.Percentile(0.90), all.Percentile(0.99), all.Percentile(0.999),
                writes.Percentile(0.50), writes.Percentile(0.99), kinds, [.. _errorMessages], _stalled);
        }
    }

    /// <summary>Errors and operations between two instants (Unix ms), for availability during a fault.</summary>
    public (long Operations, long Errors) Between(long fromUnixMs, long toUnixMs)
    {
        lock (_gate)
        {
            int from = (int)((fromUnixMs - StartedAt) / BinMilliseconds), to = (int)((toUnixMs - StartedAt) / BinMilliseconds);
            var bins = _bins.Where(b => b.Key >= from && b.Key <= to).Select(b => b.Value).ToList();
            return (bins.Sum(b => b.Latency.Count), bins.Sum(b => b.Errors));
        }
    }

    /// <summary>Per complete bin (the last, partly filled one left out): seconds from start, operations per second, p50 and p99 in ms, errors.</summary>
    public IReadOnlyList<TimelinePoint> Points()
    {
        lock (_gate)
        {
            double perSecond = 1000.0 / BinMilliseconds;
            return [.. _bins.SkipLast(1).Select(b => new TimelinePoint(b.Key * BinMilliseconds / 1000.0, b.Value.Latency.Count * perSecond,
                b.Value.Latency.Percentile(0.5), b.Value.Latency.Percentile(0.99), b.Value.Errors))];
        }
    }

    /// <summary>The last complete bin, for the live display.</summary>
    public TimelinePoint? Latest() => Points() is { Count: > 0 } points ? points[^1] : null;

    private LatencyHistogram Of(OperationKind kind) => _kinds[(int)kind];
}

internal sealed record TimelinePoint(double Seconds, double OperationsPerSecond, double P50, double P99, long Errors);

/// <summary>The operations of one kind in a phase and their latency percentiles in ms.</summary>
internal sealed record KindTotals(OperationKind Kind, long Count, double P50, double P99, double P999);

/// <summary>
/// A phase's figures: every operation together (throughput, percentiles), writes and invalidations together, and
/// each kind that occurred on its own (<see cref="Kinds"/>, in <see cref="OperationKind"/> order), and the operations
/// that stalled (see <see cref="IntervalMeter.StallBound"/>).
/// </summary>
internal sealed record TimelineTotals(long Operations, long Reads, long Hits, long Errors, double OperationsPerSecond, double P50, double P90, double P99, double P999,
    double WriteP50, double WriteP99, IReadOnlyList<KindTotals> Kinds, IReadOnlyList<string> ErrorMessages, long Stalled)
{
    public double HitRatio => Reads == 0 ? 0 : (double)Hits / Reads;
}
