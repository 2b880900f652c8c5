using TypedCache.ZooKeeper;

namespace TypedCache.Coordination;

/// <summary>
/// Prunes the event log while this process leads: waits for the <see cref="LeaderLatch"/>, then prunes every
/// interval until the leadership ends, and waits again. Only one process in the cluster prunes at a time. Between
/// prunes it reads the log's length every <see cref="CountInterval"/> and prunes at once when the log holds more than
/// the retention keeps: under a burst of writes the log must never grow past what one child listing can return
/// (about 70,000 events fill ZooKeeper's 1 MB reply), or no reader, and no pruner, could list it again.
/// </summary>
internal sealed class EventLogPruner : IAsyncDisposable
{
    /// <summary>How often the log's length is read between prunes.</summary>
    internal static readonly TimeSpan CountInterval = TimeSpan.FromSeconds(1);

    private readonly LeaderLatch _latch;
    private readonly EventLog _log;
    private readonly EventLogRetention _retention;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly BackgroundLoop _loop = new();
    private int _pruned;

    private EventLogPruner(LeaderLatch latch, EventLog log, EventLogRetention retention, TimeSpan interval, TimeProvider time)
    {
        _latch = latch;
        _log = log;
        _retention = retention;
        _interval = interval;
        _time = time;
    }

    /// <summary>How many events this pruner has deleted.</summary>
    public int Pruned => Volatile.Read(ref _pruned);

    /// <summary>Starts pruning in the background whenever <paramref name="latch"/> leads.</summary>
    public static EventLogPruner Start(LeaderLatch latch, EventLog log, EventLogRetention retention, TimeSpan interval, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        var pruner = new EventLogPruner(latch, log, retention, interval, time ?? TimeProvider.System);
        pruner._loop.Start(pruner.RunAsync);
        return pruner;
    }

    /// <summary>Stops pruning.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public async ValueTask DisposeAsync() => await _loop.StopAsync().ConfigureAwait(false);

    private async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                CancellationToken lost;
                try
                {
                    lost = await _latch.WaitForLeadershipAsync(stop).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ObjectDisposedException or KeeperException)
                {
                    // The latch stopped (disposed, or its client closed): no leadership will come.
                    return;
                }

                using var leading = CancellationTokenSource.CreateLinkedTokenSource(stop, lost);
                long lastPrune = long.MinValue;
                var pause = _interval < CountInterval ? _interval : CountInterval;
                while (!leading.IsCancellationRequested)
                {
                    try
                    {
                        if (lastPrune == long.MinValue || _time.GetElapsedTime(lastPrune) >= _interval ||
                            await _log.CountAsync(leading.Token).ConfigureAwait(false) > _retention.MaxEvents)
                        {
                            lastPrune = _time.GetTimestamp();
                            Interlocked.Add(ref _pruned, await _log.PruneAsync(_retention, leading.Token).ConfigureAwait(false));
                        }
                    }
                    catch (KeeperException)
                    {
                        // ZooKeeper unreachable for now: the next round tries again.
                    }
                    catch (OperationCanceledException) when (leading.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (Exception ex)
                    {
                        // Unexpected: logged, and the next round tries again.
                        CoordinationLog.LoopFailed(_latch.Root.Client.Logger, ex, nameof(EventLogPruner));
                    }

                    await Task.Delay(pause, _time, leading.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
