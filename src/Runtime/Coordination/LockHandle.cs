using TypedCache.ZooKeeper;

namespace TypedCache.Coordination;

/// <summary>
/// A held ZooKeeper lock. Dispose it (or call <see cref="ReleaseAsync"/>) to release the lock; watch
/// <see cref="LockLost"/> to stop protected work when the lock is lost while held.
/// </summary>
/// <remarks>
/// A ZooKeeper lock lives as long as the holder's session: when the session expires, or the client has been cut off
/// from every server for the whole session timeout, or the lock node is deleted by someone else, another contender
/// may already hold the lock. <see cref="LockLost"/> is then cancelled. Because a holder can never be sure between two
/// checks, pass <see cref="FencingToken"/> to the resource you protect and have it reject smaller tokens.
/// </remarks>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly OwnNode _node;
    private readonly ZooKeeperClient _client;
    private readonly CancellationTokenSource _lost = new();
    private int _released;

    private LockHandle(OwnNode node)
    {
        _node = node;
        _client = node.Client;
        NodePath = node.Path!;
        LockPath = node.Directory;
        FencingToken = node.Czxid;
        Sequence = SequentialNames.Sequence(node.Name!, SequentialNames.LockMarker) ?? 0;
    }

    /// <summary>The lock's directory, e.g. <c>/typedcache/shop/locks/Product/42</c>.</summary>
    public string LockPath { get; }

    /// <summary>This holder's node, <c>{LockPath}/{guid}__lock__{seq}</c>.</summary>
    public string NodePath { get; }

    /// <summary>The sequence number ZooKeeper appended to the node's name (increases per lock directory).</summary>
    public long Sequence { get; }

    /// <summary>
    /// A fencing token: the zxid that created the lock node. It is unique and larger for every later acquisition of
    /// any lock on the same ensemble, so a protected resource can reject writes that carry a smaller token.
    /// </summary>
    public long FencingToken { get; }

    /// <summary>
    /// Cancelled when the lock is lost while held: the session expired, the client was cut off from ZooKeeper for the
    /// whole session timeout or closed, or the lock node was deleted by someone else. Not cancelled by a release.
    /// </summary>
    public CancellationToken LockLost => _lost.Token;

    /// <summary>True until the lock is released or lost.</summary>
    public bool IsHeld => Volatile.Read(ref _released) == 0 && !_lost.IsCancellationRequested;

    /// <summary>Releases the lock (deletes the node). Idempotent; a release while disconnected finishes in the background.</summary>
    /// <returns>A task that completes when the node is deleted or its deletion was handed to the background.</returns>
    public async ValueTask ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        _client.StateChanged -= OnStateChanged;
        await _node.DeleteAsync().ConfigureAwait(false);
    }

    /// <summary>Releases the lock; see <see cref="ReleaseAsync"/>.</summary>
    /// <returns>A task that completes when the lock is released.</returns>
    public ValueTask DisposeAsync() => ReleaseAsync();

    internal static async Task<LockHandle> StartAsync(OwnNode node)
    {
        var handle = new LockHandle(node);
        handle._client.StateChanged += handle.OnStateChanged;
        if (handle._client.State is ConnectionState.Lost or ConnectionState.Expired or ConnectionState.Closed or ConnectionState.AuthFailed ||
            handle._client.SessionId != node.Session)
        {
            handle.OnLost();
            return handle;
        }

        try
        {
            WatchedResult<NodeData> own = await handle._client.GetDataAndWatchAsync(handle.NodePath).ConfigureAwait(false);
            _ = handle.MonitorNodeAsync(own.Watch);
        }
        catch (NoNodeException)
        {
            handle.OnLost();
        }
        catch
        {
            await handle.ReleaseAsync().ConfigureAwait(false);
            throw;
        }

        return handle;
    }

    /// <summary>Waits for the node's deletion (the lock is gone) while held; a data change only re-arms the watch.</summary>
    private async Task MonitorNodeAsync(Task<WatchedEvent> watch)
    {
        try
        {
            while ((await watch.ConfigureAwait(false)).Type != WatchEventType.NodeDeleted && Volatile.Read(ref _released) == 0)
            {
                watch = (await _client.GetDataAndWatchAsync(NodePath).ConfigureAwait(false)).Watch;
            }
        }
        catch (Exception ex) when (ex is KeeperException or OperationCanceledException or ObjectDisposedException)
        {
            // The session ended, the client closed, or the node is gone: all mean the lock is lost (unless released).
        }

        OnLost();
    }

    private void OnStateChanged(object? sender, ConnectionState state)
    {
        if (state is ConnectionState.Lost or ConnectionState.Expired or ConnectionState.Closed or ConnectionState.AuthFailed)
        {
            OnLost();
        }
    }

    private void OnLost()
    {
        if (Volatile.Read(ref _released) != 0)
        {
            return;
        }

        try
        {
            _lost.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        // If the session survives after all (a late reconnect), the node must not block the other contenders.
        _ = ReleaseAsync().AsTask();
    }
}
