using TypedCache.ZooKeeper;

namespace TypedCache.Coordination;

/// <summary>
/// Prunes the event log while this process leads: waits for the <see cref="LeaderLatch"/>, then prunes every
/// interval until the leadership ends, and waits again. Only one process in the cluster prunes at a time.
/// </summary>
internal sealed class EventLogPruner : IAsyncDisposable
{
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
                while (!leading.IsCancellationRequested)
                {
                    try
                    {
                        Interlocked.Add(ref _pruned, await _log.PruneAsync(_retention, leading.Token).ConfigureAwait(false));
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

                    await Task.Delay(_interval, _time, leading.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
