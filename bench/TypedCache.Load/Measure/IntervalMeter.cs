using System.Diagnostics;
using TypedCache.Load.Workers;

namespace TypedCache.Load.Measure;

/// <summary>The figures of the current interval, taken and reset once per tick.</summary>
internal sealed class IntervalMeter
{
    private readonly Lock _gate = new();
    private LatencyHistogram _latency = new();
    private LatencyHistogram _writeLatency = new();
    private long _operations;
    private long _reads;
    private long _hits;
    private long _errors;
    private string? _error;

    public void Record(long started, bool read, bool hit)
    {
        int bucket = LatencyHistogram.BucketOf(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        lock (_gate)
        {
            _latency.Add(bucket, 1);
            if (!read)
                _writeLatency.Add(bucket, 1);
            _operations++;
            if (read)
                _reads++;
            if (hit)
                _hits++;
        }
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
            var tick = new WorkerTick(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), _operations, _reads, _hits, _errors, _latency.ToSparse(), _writeLatency.ToSparse(), _error);
            _latency = new LatencyHistogram();
            _writeLatency = new LatencyHistogram();
            (_operations, _reads, _hits, _errors, _error) = (0, 0, 0, 0, null);
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
}
