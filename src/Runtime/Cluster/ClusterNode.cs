using TypedCache.Memcached;

namespace TypedCache.Cluster;

/// <summary>
/// One memcached server of a <see cref="MemcachedCluster"/>: its client and its health. A node outlives ring
/// rebuilds while its endpoint stays a member, so its connection and health carry over.
/// </summary>
internal sealed class ClusterNode : ITopologyNode
{
    private readonly int _failureThreshold;
    private readonly CancellationTokenSource _removed = new();
    private int _failures;
    private int _down;

    public ClusterNode(RingNode node, MemcachedClientOptions options, int failureThreshold)
    {
        Endpoint = node.Endpoint;
        Client = new MemcachedClient(node.Host, node.Port, options);
        _failureThreshold = failureThreshold;
    }

    /// <summary><c>host:port</c>, the node's identity across rebuilds.</summary>
    public string Endpoint { get; }

    /// <summary>The node's client.</summary>
    public MemcachedClient Client { get; }

    /// <summary>Whether the node is marked down (its keys follow the node-down policy).</summary>
    public bool IsDown => Volatile.Read(ref _down) != 0;

    /// <summary>Cancelled when the node leaves the cluster.</summary>
    public CancellationToken Removed => _removed.Token;

    /// <summary>A command answered: the failure streak ends.</summary>
    public void OnSuccess()
    {
        // Read first so that a healthy node's hot path does not write a shared cache line on every command.
        if (Volatile.Read(ref _failures) != 0)
            Volatile.Write(ref _failures, 0);
    }

    /// <summary>A command failed; true for the one call that marks the node down.</summary>
    public bool OnFailure() =>
        Interlocked.Increment(ref _failures) >= _failureThreshold
        && !_removed.IsCancellationRequested
        && Interlocked.CompareExchange(ref _down, 1, 0) == 0;

    /// <summary>The probe found the node answering: it is up again.</summary>
    public void MarkUp()
    {
        Volatile.Write(ref _failures, 0);
        Volatile.Write(ref _down, 0);
    }

    /// <summary>Stops the node's probe and closes its connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_removed.IsCancellationRequested)
            return;
        await _removed.CancelAsync().ConfigureAwait(false);
        await Client.DisposeAsync().ConfigureAwait(false);
    }
}
