using System.Text;
using TypedCache.ZooKeeper;

namespace TypedCache.Coordination;

/// <summary>
/// The ZooKeeper exclusive-lock recipe with kazoo's node names, so TypedCache and kazoo's <c>Lock</c> exclude each
/// other on the same directory: each contender creates <c>{dir}/{guid:N}__lock__{seq}</c> (ephemeral-sequential),
/// the lowest sequence holds the lock, and every other contender watches only its immediate predecessor.
/// </summary>
/// <remarks>
/// A create whose reply is lost (ConnectionLoss) is recovered Curator-style: the guid in the name finds the node after
/// the reconnect, and a node of an earlier session is deleted, not adopted. A contender that gives up (timeout,
/// cancellation, error) deletes its node, in the background if the connection is down, so it never blocks others.
/// </remarks>
internal static class DistributedLock
{
    /// <summary>Waits until the lock on <paramref name="directory"/> is held.</summary>
    /// <param name="root">The root whose ACL the nodes get.</param>
    /// <param name="directory">The lock directory, e.g. <see cref="CoordinationRoot.LockPath"/>.</param>
    /// <param name="timeout">How long to wait, or <see cref="Timeout.InfiniteTimeSpan"/>.</param>
    /// <param name="identifier">The node's data (kazoo's identifier, shown by its <c>contenders()</c>), or null for none.</param>
    /// <param name="cancellationToken">Cancels the wait; the node is deleted.</param>
    /// <returns>The held lock.</returns>
    /// <exception cref="LockTimeoutException">The lock was not acquired within <paramref name="timeout"/>.</exception>
    /// <exception cref="KeeperException">ZooKeeper failed (unreachable beyond the client's wait, session expired, NoAuth).</exception>
    public static async Task<LockHandle> AcquireAsync(
        CoordinationRoot root, string directory, TimeSpan timeout, string? identifier, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The lock timeout must be positive or infinite.");
        }

        ZooKeeperClient client = root.Client;
        byte[] data = identifier is null ? [] : Encoding.UTF8.GetBytes(identifier);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            wait.CancelAfter(timeout);
        }

        CancellationToken token = wait.Token;
        for (int attempt = 1; ; attempt++)
        {
            var node = new OwnNode(client, directory, Guid.NewGuid().ToString("N") + SequentialNames.LockMarker);
            try
            {
                if (attempt > 1)
                {
                    await root.EnsurePathAsync(directory, CreateMode.Container, token).ConfigureAwait(false);
                }

                await node.CreateAsync(root.Acl, data, token).ConfigureAwait(false);
                if (await WaitForTurnAsync(node, token).ConfigureAwait(false))
                {
                    return await LockHandle.StartAsync(node).ConfigureAwait(false);
                }

                // Our node is gone: its session ended. Contend again under a new name.
            }
            catch (OperationCanceledException) when (wait.IsCancellationRequested)
            {
                await node.DeleteAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                throw new LockTimeoutException(directory, timeout);
            }
            catch (NoNodeException) when (attempt < 5)
            {
                // The directory does not exist yet, or its container was reaped since it was ensured.
            }
            catch
            {
                await node.DeleteAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>True once <paramref name="ours"/> is the lowest contender; false when it has disappeared.</summary>
    /// <remarks>
    /// A ConnectionLoss (the client failing over to another member) leaves the session and so the node in place:
    /// the listing is simply read again once the client has reconnected.
    /// </remarks>
    private static async Task<bool> WaitForTurnAsync(OwnNode ours, CancellationToken token)
    {
        ZooKeeperClient client = ours.Client;
        string directory = ours.Directory;
        while (true)
        {
            try
            {
                NodeChildren children = await client.GetChildrenAsync(directory, token).ConfigureAwait(false);
                List<string> contenders = SequentialNames.Sorted(children.Children, SequentialNames.LockMarker);
                int index = contenders.IndexOf(ours.Name!);
                if (index <= 0)
                {
                    return index == 0;
                }

                string predecessorPath = directory + "/" + contenders[index - 1];
                WatchedResult<NodeData> predecessor = await client.GetDataAndWatchAsync(predecessorPath, token).ConfigureAwait(false);
                try
                {
                    await predecessor.Watch.WaitAsync(token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    // Giving up: the watch would otherwise stay on the server until the predecessor changes.
                    await client.RemoveWatchAsync(predecessorPath, predecessor.Watch).ConfigureAwait(false);
                    throw;
                }
            }
            catch (NoNodeException)
            {
                // The predecessor left between the listing and the read: list again.
            }
            catch (ConnectionLossException) when (!token.IsCancellationRequested && client.SessionId == ours.Session)
            {
                // Same session, so our node still stands: list again once reconnected.
            }
        }
    }
}

/// <summary>
/// This process's ephemeral-sequential node in a recipe directory, named <c>{prefix}{seq}</c> with a unique prefix,
/// created in protected mode and deleted reliably.
/// </summary>
internal sealed class OwnNode(ZooKeeperClient client, string directory, string prefix)
{
    private long _session;

    public ZooKeeperClient Client => client;

    public string Directory => directory;

    /// <summary>The created node's name (null until created or found).</summary>
    public string? Name { get; private set; }

    public string? Path => Name is null ? null : directory + "/" + Name;

    /// <summary>The node's creation zxid: unique and increasing across the whole ensemble.</summary>
    public long Czxid { get; private set; }

    /// <summary>The session that owns the node.</summary>
    public long Session => _session;

    /// <summary>
    /// Creates the node; after a ConnectionLoss looks for a child with the prefix before creating again, and deletes
    /// a found node if the session changed in between (it belongs to the expired session).
    /// </summary>
    public async Task CreateAsync(IReadOnlyList<Acl> acl, byte[] data, CancellationToken token)
    {
        bool tried = false;
        while (true)
        {
            try
            {
                if (tried && await FindAsync(token).ConfigureAwait(false) is { } found)
                {
                    if (found.EphemeralOwner == client.SessionId)
                    {
                        _session = found.EphemeralOwner;
                        return;
                    }

                    // Created by the session that expired since: that ephemeral is gone or going.
                    Name = null;
                }

                tried = true;
                _session = client.SessionId;
                CreatedNode created = await client.CreateAsync(directory + "/" + prefix, data, CreateMode.EphemeralSequential, acl, cancellationToken: token).ConfigureAwait(false);
                Name = created.Path[(directory.Length + 1)..];
                Czxid = created.Stat.Czxid;
                _session = created.Stat.EphemeralOwner;
                return;
            }
            catch (ConnectionLossException) when (!token.IsCancellationRequested && client.State is not ConnectionState.Lost)
            {
                // The create may have been applied: find it by prefix once reconnected.
            }
        }
    }

    /// <summary>Deletes the node if it was (or may have been) created; retries in the background while disconnected.</summary>
    public async Task DeleteAsync()
    {
        try
        {
            await DeleteOnceAsync().ConfigureAwait(false);
        }
        catch (ConnectionLossException)
        {
            _ = DeleteInBackgroundAsync();
        }
    }

    private async Task DeleteInBackgroundAsync()
    {
        while (true)
        {
            try
            {
                await DeleteOnceAsync().ConfigureAwait(false);
                return;
            }
            catch (ConnectionLossException) when (_session == 0 || client.SessionId == _session)
            {
                // Still our session: the node lives until deleted or the session ends, so keep trying.
            }
            catch (ConnectionLossException)
            {
                return;
            }
        }
    }

    private async Task DeleteOnceAsync()
    {
        if (_session != 0 && client.SessionId != _session)
        {
            // The node went with the session that created it.
            return;
        }

        try
        {
            // Without a name the create may still have been applied, also when it was sent before the first connection
            // (no session known yet): a node with our prefix is ours to delete only if the current session owns it.
            if (Name is null && (await FindAsync(CancellationToken.None).ConfigureAwait(false))?.EphemeralOwner != client.SessionId)
            {
                return;
            }

            await client.DeleteAsync(Path!).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NoNodeException or SessionExpiredException or ObjectDisposedException or AuthFailedException)
        {
            // Gone already, or gone with the session.
        }
    }

    /// <summary>Finds the child with our prefix and takes its name; its stat, or null when there is none.</summary>
    private async Task<Stat?> FindAsync(CancellationToken token)
    {
        NodeChildren children = await client.GetChildrenAsync(directory, token).ConfigureAwait(false);
        foreach (string child in children.Children)
        {
            if (child.StartsWith(prefix, StringComparison.Ordinal))
            {
                string path = directory + "/" + child;
                if (await client.ExistsAsync(path, token).ConfigureAwait(false) is { } stat)
                {
                    Name = child;
                    Czxid = stat.Czxid;
                    return stat;
                }
            }
        }

        return null;
    }
}
