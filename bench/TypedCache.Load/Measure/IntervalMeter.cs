using System.Diagnostics;
using TypedCache.Load.Workers;

namespace TypedCache.Load.Measure;

/// <summary>
/// The figures of the current interval, taken and reset once per tick: a latency histogram per operation kind, the
/// errors, and the stalled operations.
/// </summary>
internal sealed class IntervalMeter
{
    /// <summary>
    /// How long an operation may take before it counts as stalled. It is the memcached operation timeout: with no fault
    /// injected, no operation waits that long unless a wake-up was lost or a lease was left to no one.
    /// </summary>
    public static readonly TimeSpan StallBound = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private LatencyHistogram[] _latency = NewHistograms();
    private long _errors;
    private long _stalled;
    private string? _error;

    /// <summary>Records an operation of <paramref name="kind"/> begun at <paramref name="started"/> (a <see cref="Stopwatch"/> timestamp) and ended now.</summary>
    public void Record(long started, OperationKind kind) => Record(Stopwatch.GetElapsedTime(started), kind);

    public void Record(TimeSpan elapsed, OperationKind kind)
    {
        int bucket = LatencyHistogram.BucketOf(elapsed.TotalMicroseconds);
        lock (_gate)
        {
            _latency[(int)kind].Add(bucket, 1);
            if (elapsed >= StallBound)
                _stalled++;
        }
    }

    /// <summary>
    /// Notes an operation begun at <paramref name="started"/> that its caller gave up because the phase stopped: it
    /// counts as stalled if it had already waited <see cref="StallBound"/>, so a stall the phase's end cuts short is seen.
    /// </summary>
    public void Unfinished(long started)
    {
        if (Stopwatch.GetElapsedTime(started) < StallBound)
            return;
        lock (_gate)
            _stalled++;
    }

    public void Fail(Exception e)
    {
        lock (_gate)
        {
            _errors++;
            _error ??= $"{e.GetType().Name}: {e.Message}";
        }
    }

    public WorkerTick Take()
    {
        lock (_gate)
        {
            var latency = OperationKinds.All.Where(k => _latency[(int)k].Count > 0).ToDictionary(k => k, k => _latency[(int)k].ToSparse());
            var tick = new WorkerTick(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), latency, _errors, _error, _stalled);
            _latency = NewHistograms();
            (_errors, _error, _stalled) = (0, null, 0);
            return tick;
        }
    }

    /// <summary>Feeds this meter's intervals into <paramref name="timeline"/> until disposed: in-process load gets the same timeline as the workers'.</summary>
    public IAsyncDisposable FeedInto(Timeline timeline, int tickMilliseconds = 500)
    {
        var stop = new CancellationTokenSource();
        var loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(tickMilliseconds));
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                    timeline.Add(Take());
            }
            catch (OperationCanceledException)
            {
                // Disposed: the last interval is taken by the feed's DisposeAsync.
            }
        });
        return new Feed(stop, loop, () => timeline.Add(Take()));
    }

    private sealed class Feed(CancellationTokenSource stop, Task loop, Action last) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await loop;
            last();
            stop.Dispose();
        }
    }

    private static LatencyHistogram[] NewHistograms() => [.. OperationKinds.All.Select(_ => new LatencyHistogram())];
}
