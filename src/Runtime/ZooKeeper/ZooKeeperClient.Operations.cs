using TypedCache.ZooKeeper.Protocol;

namespace TypedCache.ZooKeeper;

public sealed partial class ZooKeeperClient
{
    /// <summary>The largest TTL the server accepts for <see cref="CreateMode.PersistentWithTtl"/> nodes (2^40 - 1 ms).</summary>
    private const long MaxTtlMs = (1L << 40) - 1;

    /// <summary>Creates a node (create2: the reply carries the node's <see cref="Stat"/>).</summary>
    /// <param name="path">The node's path; for sequential modes the prefix the server appends a 10-digit counter to.</param>
    /// <param name="data">The data (at most about 1 MB, the server's request limit).</param>
    /// <param name="mode">The create mode (default persistent).</param>
    /// <param name="acl">The ACL (default <see cref="Acl.OpenUnsafe"/>).</param>
    /// <param name="ttl">The TTL, required for (and only allowed with) the TTL modes; the server needs extended types enabled.</param>
    /// <param name="cancellationToken">Stops waiting for the reply (the request may still be applied).</param>
    /// <returns>The created path (always use it: sequential names are chosen by the server) and the node's Stat.</returns>
    /// <exception cref="NodeExistsException">The node exists.</exception>
    /// <exception cref="NoNodeException">The parent does not exist.</exception>
    /// <exception cref="NoChildrenForEphemeralsException">The parent is ephemeral.</exception>
    public Task<CreatedNode> CreateAsync(
        string path,
        ReadOnlyMemory<byte> data,
        CreateMode mode = CreateMode.Persistent,
        IReadOnlyList<Acl>? acl = null,
        TimeSpan? ttl = null,
        CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, sequential: mode is CreateMode.PersistentSequential or CreateMode.EphemeralSequential or CreateMode.PersistentSequentialWithTtl);
        acl ??= Acl.OpenUnsafe;
        ZooKeeperPath.ValidateAcl(acl);
        CheckDataSize(data, path);
        bool ttlMode = mode is CreateMode.PersistentWithTtl or CreateMode.PersistentSequentialWithTtl;
        long ttlMs = 0;
        if (ttlMode)
        {
            ttlMs = ttl is { } value ? (long)value.TotalMilliseconds : throw new ArgumentException($"The create mode {mode} needs a TTL.", nameof(ttl));
            if (ttlMs is < 1 or > MaxTtlMs)
            {
                throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A TTL must be between 1 ms and 2^40-1 ms.");
            }
        }
        else if (ttl is not null)
        {
            throw new ArgumentException($"A TTL is only allowed with the TTL create modes, not {mode}.", nameof(ttl));
        }

        return Send(new CreateRequest(_chroot, path, data, acl, mode, ttlMs), cancellationToken);
    }

    /// <summary>Deletes a node.</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="version">The expected data version, or -1 (default) for any.</param>
    /// <param name="cancellationToken">Stops waiting for the reply (the request may still be applied).</param>
    /// <returns>A task that completes when the node is deleted.</returns>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    /// <exception cref="BadVersionException">The version does not match.</exception>
    /// <exception cref="NotEmptyException">The node has children.</exception>
    public Task DeleteAsync(string path, int version = -1, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        return Send(new DeleteRequest(_chroot, path, version), cancellationToken);
    }

    /// <summary>Reads a node's Stat, or null when the node does not exist.</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The Stat, or null.</returns>
    public Task<Stat?> ExistsAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        return Send(new ExistsRequest(_chroot, path, null), cancellationToken);
    }

    /// <summary>
    /// Reads a node's Stat (null when missing) and arms a one-shot watch: NodeDataChanged or NodeDeleted if the node
    /// exists, NodeCreated if it does not.
    /// </summary>
    /// <param name="path">The node's path.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The Stat or null, and the watch.</returns>
    public Task<WatchedResult<Stat?>> ExistsAndWatchAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        return SendWatching(new ExistsRequest(_chroot, path, _watches), cancellationToken);
    }

    /// <summary>Reads a node's data and Stat.</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The data and Stat.</returns>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    public Task<NodeData> GetDataAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        return Send(new GetDataRequest(_chroot, path, null), cancellationToken);
    }

    /// <summary>
    /// <see cref="GetDataAsync"/> whose task completes on the connection's read thread, so a continuation awaiting it
    /// runs there at once, with no thread-pool hop. Only for short continuations that never block: the read thread
    /// reads nothing else until they return.
    /// </summary>
    internal Task<NodeData> GetDataOnReadThreadAsync(string path)
    {
        ZooKeeperPath.Validate(path);
        return Send(new GetDataRequest(_chroot, path, null, completeOnReadThread: true), default);
    }

    /// <summary>Reads a node's data and Stat and arms a one-shot watch (NodeDataChanged or NodeDeleted).</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The data and Stat, and the watch.</returns>
    /// <exception cref="NoNodeException">The node does not exist (no watch is armed).</exception>
    public Task<WatchedResult<NodeData>> GetDataAndWatchAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        return SendWatching(new GetDataRequest(_chroot, path, _watches), cancellationToken);
    }

    /// <summary>Sets a node's data.</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="data">The new data (at most about 1 MB).</param>
    /// <param name="version">The expected data version, or -1 (default) for any.</param>
    /// <param name="cancellationToken">Stops waiting for the reply (the request may still be applied).</param>
    /// <returns>The node's Stat after the change.</returns>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    /// <exception cref="BadVersionException">The version does not match.</exception>
    public Task<Stat> SetDataAsync(string path, ReadOnlyMemory<byte> data, int version = -1, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        CheckDataSize(data, path);
        return Send(new SetDataRequest(_chroot, path, data, version), cancellationToken);
    }

    /// <summary>Lists a node's children (bare names, unsorted) with the node's Stat.</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The children and Stat.</returns>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    public Task<NodeChildren> GetChildrenAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        return Send(new GetChildrenRequest(_chroot, path, null), cancellationToken);
    }

    /// <summary>Lists a node's children and arms a one-shot watch (NodeChildrenChanged or NodeDeleted).</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The children and Stat, and the watch.</returns>
    /// <exception cref="NoNodeException">The node does not exist (no watch is armed).</exception>
    public Task<WatchedResult<NodeChildren>> GetChildrenAndWatchAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        return SendWatching(new GetChildrenRequest(_chroot, path, _watches), cancellationToken);
    }

    /// <summary>
    /// Runs create, delete, setData and check operations as one transaction: all are applied or none.
    /// </summary>
    /// <param name="ops">The operations, in order (see <see cref="Op"/>'s factories).</param>
    /// <param name="cancellationToken">Stops waiting for the reply (the transaction may still be applied).</param>
    /// <returns>One result per operation.</returns>
    /// <exception cref="KeeperException">
    /// The typed exception of the failing operation; <see cref="KeeperException.MultiResults"/> has every operation's
    /// outcome and <see cref="KeeperException.Path"/> the failing operation's path.
    /// </exception>
    public async Task<IReadOnlyList<OpResult>> MultiAsync(IEnumerable<Op> ops, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ops);
        Op[] list = [.. ops];
        if (list.Length == 0)
        {
            return [];
        }

        IReadOnlyList<OpResult> results = await Send(new MultiRequest(_chroot, list), cancellationToken).ConfigureAwait(false);
        int failed = -1;
        for (int i = 0; i < results.Count; i++)
        {
            if (results[i] is ErrorResult { Code: not KeeperErrorCode.Ok and not KeeperErrorCode.RuntimeInconsistency })
            {
                failed = i;
                break;
            }
        }

        if (failed < 0)
        {
            return results;
        }

        var error = KeeperException.Create(((ErrorResult)results[failed]).Code, list[failed].Path);
        error.MultiResults = results;
        throw error;
    }

    /// <summary>Waits until the server this client is connected to has caught up with the leader for <paramref name="path"/>.</summary>
    /// <param name="path">The path to sync.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>A task that completes once synced.</returns>
    public Task SyncAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        return Send(new SyncRequest(_chroot, path), cancellationToken);
    }

    /// <summary>
    /// Adds a persistent watch (events for the node and its children) or a persistent recursive one (created,
    /// deleted and data-changed events for the node and every descendant). The path need not exist yet.
    /// </summary>
    /// <param name="path">The path to watch.</param>
    /// <param name="mode">The kind of watch.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The watch; read its <see cref="PersistentWatch.Events"/> and dispose it to remove it.</returns>
    public Task<PersistentWatch> AddWatchAsync(string path, AddWatchMode mode, CancellationToken cancellationToken = default) =>
        AddWatch(path, mode, null, cancellationToken);

    /// <summary>
    /// <see cref="AddWatchAsync(string, AddWatchMode, CancellationToken)"/> whose events are handed to
    /// <paramref name="onEvent"/> on the connection's read thread, in wire order, instead of being written to
    /// <see cref="PersistentWatch.Events"/> (which then only completes). <paramref name="onEvent"/> must be short, must not
    /// block and must not throw: the read thread reads nothing else until it returns.
    /// </summary>
    internal Task<PersistentWatch> AddInlineWatchAsync(string path, AddWatchMode mode, Action<WatchedEvent> onEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onEvent);
        return AddWatch(path, mode, onEvent, cancellationToken);
    }

    private Task<PersistentWatch> AddWatch(string path, AddWatchMode mode, Action<WatchedEvent>? onEvent, CancellationToken cancellationToken)
    {
        ZooKeeperPath.Validate(path);
        if (mode is not (AddWatchMode.Persistent or AddWatchMode.PersistentRecursive))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown watch mode.");
        }

        return Send(new AddWatchRequest(_chroot, path, mode, new PersistentWatch(this, path, mode, onEvent), _watches), cancellationToken);
    }

    /// <summary>
    /// Removes the server's watches of <paramref name="type"/> on <paramref name="path"/>, and this client's matching
    /// watches: one-shot watch tasks are cancelled and persistent watches' event streams complete.
    /// </summary>
    /// <param name="path">The watched path.</param>
    /// <param name="type">Which watches to remove.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>A task that completes when the watches are removed.</returns>
    /// <exception cref="NoWatcherException">The server had no such watch.</exception>
    public async Task RemoveWatchesAsync(string path, WatcherType type, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        await Send(new RemoveWatchesRequest(_chroot, path, type), cancellationToken).ConfigureAwait(false);
        _watches.RemoveLocal(path, type);
    }

    /// <summary>
    /// Removes one one-shot watch (the <c>Watch</c> task of a <see cref="WatchedResult{T}"/>) and cancels its task,
    /// leaving other watchers of the same path alone: the server's watch is removed only when no other watch of this
    /// client needs it. Removing a watch that already fired or was removed does nothing.
    /// </summary>
    /// <param name="path">The watched path.</param>
    /// <param name="watch">The watch task to remove.</param>
    /// <returns>A task that completes when the watch is removed (best effort on the server while disconnected).</returns>
    internal async Task RemoveWatchAsync(string path, Task<WatchedEvent> watch)
    {
        if (_watches.UnregisterOneShot(path, watch) is not { } type || _terminalCode is not null || _disposed != 0)
        {
            return;
        }

        try
        {
            await Send(new RemoveWatchesRequest(_chroot, path, type), default).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is KeeperException or ObjectDisposedException)
        {
            // NoWatcher (it fired meanwhile), the client closed, or the connection is gone and with it the server's watch.
        }
    }

    /// <summary>Adds <c>digest</c> credentials to the session (re-sent after every reconnect).</summary>
    /// <param name="user">The user name.</param>
    /// <param name="password">The password (see <see cref="Acl.Digest"/> for the matching ACL entry).</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>A task that completes when the server accepted the credentials.</returns>
    /// <exception cref="AuthFailedException">The server rejected them; the client then stops in <see cref="ConnectionState.AuthFailed"/>.</exception>
    public Task AddDigestAuthAsync(string user, string password, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        return AddAuthAsync("digest", Utf8(user + ":" + password), cancellationToken);
    }

    /// <summary>Adds credentials of any scheme the server supports to the session (re-sent after every reconnect).</summary>
    /// <param name="scheme">The scheme, e.g. <c>digest</c>.</param>
    /// <param name="auth">The scheme's credential bytes.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>A task that completes when the server accepted the credentials.</returns>
    /// <exception cref="AuthFailedException">The server rejected them; the client then stops in <see cref="ConnectionState.AuthFailed"/>.</exception>
    public async Task AddAuthAsync(string scheme, byte[] auth, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        ArgumentNullException.ThrowIfNull(auth);
        long started = _options.TimeProvider.GetTimestamp();
        var reply = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        while (true)
        {
            ZooKeeperConnection? connection;
            Task gate;
            lock (_stateLock)
            {
                ThrowIfTerminal(null);
                connection = _current;
                gate = _connected.Task;
            }

            // Recorded under the connection's write lock, so a reconnect either re-sends it or this call sends it.
            if (connection is not null && connection.TrySendAuth(scheme, auth, reply, () => { lock (_stateLock) { _auths.Add((scheme, auth)); } }))
            {
                await reply.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            await WaitForGateAsync(gate, started, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a node's ACL and Stat.</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The ACL and Stat.</returns>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    public Task<NodeAcl> GetAclAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        return Send(new GetAclRequest(_chroot, path), cancellationToken);
    }

    /// <summary>Sets a node's ACL.</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="acl">The new ACL (at least one entry).</param>
    /// <param name="aclVersion">The expected ACL version (<see cref="Stat.Aversion"/>), or -1 (default) for any.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The node's Stat after the change.</returns>
    /// <exception cref="BadVersionException">The ACL version does not match.</exception>
    public Task<Stat> SetAclAsync(string path, IReadOnlyList<Acl> acl, int aclVersion = -1, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path);
        ZooKeeperPath.ValidateAcl(acl);
        return Send(new SetAclRequest(_chroot, path, acl, aclVersion), cancellationToken);
    }

    private static void CheckDataSize(ReadOnlyMemory<byte> data, string path)
    {
        if (data.Length > OpCode.MaxRequestBytes)
        {
            throw new ArgumentException(
                $"The data for '{path}' is {data.Length:N0} bytes; ZooKeeper accepts at most {OpCode.MaxRequestBytes:N0} bytes per request (jute.maxbuffer).",
                nameof(data));
        }
    }

    private async Task<WatchedResult<T>> SendWatching<T>(WatchingReadRequest<T> request, CancellationToken cancellationToken)
    {
        T value = await Send(request, cancellationToken).ConfigureAwait(false);
        return new WatchedResult<T>(value, request.Watch!.Task);
    }
}
