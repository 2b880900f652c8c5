using System.Threading.Channels;
using TypedCache.ZooKeeper;

namespace TypedCache.Coordination;

/// <summary>
/// A persistent recursive watch on one subtree that a recipe can trust for its whole lifetime: the recipe's full
/// re-read runs once the watch is armed, again after every reconnect (changes made while disconnected produce no
/// event) and after a new session (the old session's watches are gone), and each event is handed over in wire order.
/// While ZooKeeper is unreachable nothing is called, so the recipe keeps its last known state.
/// </summary>
internal sealed class TreeWatch : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly ZooKeeperClient _client;
    private readonly string _path;
    private readonly Func<CancellationToken, Task> _resync;
    private readonly Func<WatchedEvent, CancellationToken, Task>? _onEvent;
    private readonly Action<WatchedEvent>? _onEventInline;
    private readonly Channel<bool> _resyncRequests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly BackgroundLoop _loop = new();
    private readonly TaskCompletionSource _firstSync = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TreeWatch(ZooKeeperClient client, string path, Func<CancellationToken, Task> resync, Func<WatchedEvent, CancellationToken, Task>? onEvent, Action<WatchedEvent>? onEventInline)
    {
        _client = client;
        _path = path;
        _resync = resync;
        _onEvent = onEvent;
        _onEventInline = onEventInline;
    }

    /// <summary>
    /// Arms the watch and runs the first re-read, then keeps both going in the background until disposed.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="path">The subtree's root (need not exist).</param>
    /// <param name="resync">Re-reads the whole subtree.</param>
    /// <param name="onEvent">Handles one event for the subtree.</param>
    /// <param name="cancellationToken">Cancels the wait for the first re-read (the watch is then stopped).</param>
    /// <returns>The running watch.</returns>
    /// <exception cref="KeeperException">The first watch or re-read failed (ZooKeeper unreachable, session expired).</exception>
    public static Task<TreeWatch> StartAsync(
        ZooKeeperClient client,
        string path,
        Func<CancellationToken, Task> resync,
        Func<WatchedEvent, CancellationToken, Task> onEvent,
        CancellationToken cancellationToken) =>
        StartAsync(new TreeWatch(client, path, resync, onEvent, null), cancellationToken);

    /// <summary>
    /// Like <see cref="StartAsync(ZooKeeperClient, string, Func{CancellationToken, Task}, Func{WatchedEvent, CancellationToken, Task}, CancellationToken)"/>,
    /// but each event is handed to <paramref name="onEvent"/> on the client's read thread as it arrives, without a thread
    /// hop, possibly while a re-read runs: the recipe orders the two itself. <paramref name="onEvent"/> must be short, must
    /// not block and must not throw.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="path">The subtree's root (need not exist).</param>
    /// <param name="resync">Re-reads the whole subtree.</param>
    /// <param name="onEvent">Handles one event for the subtree, on the read thread.</param>
    /// <param name="cancellationToken">Cancels the wait for the first re-read (the watch is then stopped).</param>
    /// <returns>The running watch.</returns>
    /// <exception cref="KeeperException">The first watch or re-read failed (ZooKeeper unreachable, session expired).</exception>
    public static Task<TreeWatch> StartAsync(
        ZooKeeperClient client,
        string path,
        Func<CancellationToken, Task> resync,
        Action<WatchedEvent> onEvent,
        CancellationToken cancellationToken) =>
        StartAsync(new TreeWatch(client, path, resync, null, onEvent), cancellationToken);

    /// <summary>Asks for a full re-read (coalesced with one already pending).</summary>
    public void RequestResync() => _resyncRequests.Writer.TryWrite(true);

    /// <summary>Stops the watch (removing it from the server) and waits for the loop to end.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        _client.StateChanged -= OnStateChanged;
        await _loop.StopAsync().ConfigureAwait(false);
    }

    private static async Task<TreeWatch> StartAsync(TreeWatch watch, CancellationToken cancellationToken)
    {
        watch._client.StateChanged += watch.OnStateChanged;
        watch._loop.Start(watch.RunAsync);
        try
        {
            await watch._firstSync.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return watch;
        }
        catch
        {
            await watch.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private void OnStateChanged(object? sender, ConnectionState state)
    {
        if (state is ConnectionState.Reconnected)
        {
            RequestResync();
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            PersistentWatch? watch = null;
            try
            {
                watch = await (_onEventInline is null
                    ? _client.AddWatchAsync(_path, AddWatchMode.PersistentRecursive, stop)
                    : _client.AddInlineWatchAsync(_path, AddWatchMode.PersistentRecursive, _onEventInline, stop)).ConfigureAwait(false);
                _resyncRequests.Reader.TryRead(out _);
                await _resync(stop).ConfigureAwait(false);
                _firstSync.TrySetResult();
                await PumpAsync(watch, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                if (!_firstSync.Task.IsCompleted)
                {
                    _firstSync.TrySetException(ex);
                    break;
                }

                // ZooKeeper's failures wait for the client; anything else (a bug, a callback that threw) is logged and
                // backed off. Either way the loop then arms the watch again and re-reads.
                bool usable = ex is KeeperException or ObjectDisposedException
                    ? await WaitUntilUsableAsync(stop).ConfigureAwait(false)
                    : await BackgroundLoop.BackOffAfterAsync(_client.Logger, nameof(TreeWatch), ex, RetryDelay, stop).ConfigureAwait(false);
                if (!usable)
                {
                    break;
                }
            }
            finally
            {
                if (watch is not null)
                {
                    await watch.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        _firstSync.TrySetCanceled(CancellationToken.None);
    }

    private async Task PumpAsync(PersistentWatch watch, CancellationToken stop)
    {
        ChannelReader<WatchedEvent> events = watch.Events;

        // One pending wait for resync requests, kept across events: an abandoned channel wait stays registered.
        Task<bool>? resyncRequested = null;
        while (true)
        {
            // Empty when events are handled inline: the channel then only completes.
            while (events.TryRead(out WatchedEvent? watchedEvent))
            {
                await _onEvent!(watchedEvent, stop).ConfigureAwait(false);
            }

            if (_resyncRequests.Reader.TryRead(out _))
            {
                await _resync(stop).ConfigureAwait(false);
                continue;
            }

            resyncRequested ??= _resyncRequests.Reader.WaitToReadAsync(stop).AsTask();
            Task<bool> more = events.WaitToReadAsync(stop).AsTask();
            await Task.WhenAny(more, resyncRequested).ConfigureAwait(false);
            if (resyncRequested.IsCompleted)
            {
                resyncRequested = null;
            }

            if (more.IsCompleted && !await more.ConfigureAwait(false))
            {
                // Completed: the session expired (the completion carries the exception) or the watch was removed.
                await events.Completion.ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>False when the client can never serve again (closed, or expired without renewal).</summary>
    private async Task<bool> WaitUntilUsableAsync(CancellationToken stop)
    {
        while (true)
        {
            try
            {
                await _client.WaitForConnectionAsync(stop).ConfigureAwait(false);
                await Task.Delay(RetryDelay, stop).ConfigureAwait(false);
                return true;
            }
            catch (ConnectionLossException)
            {
            }
            catch (SessionExpiredException) when (_client.RenewsSessionOnExpiry)
            {
                // The client opens a new session: wait for it.
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception ex) when (ex is KeeperException or ObjectDisposedException)
            {
                return false;
            }
        }
    }
}
