using TypedCache.Cluster;
using TypedCache.Coordination;

namespace TypedCache.Proxy;

/// <summary>
/// The ring the proxy routes by and the backend connection of each of its nodes, swapped together: from a static
/// list, or rebuilt live from the members under <c>{root}/nodes</c> (a backend that stays keeps its connection).
/// Under <see cref="NodeDownPolicy.Eject"/> a node whose connection is down is ejected until it comes back.
/// </summary>
internal sealed class ProxyTopology : IAsyncDisposable
{
    private readonly ProxyOptions _options;
    private readonly LiveTopology<ProxyBackend> _topology;

    private ProxyTopology(ProxyOptions options, IReadOnlyList<RingNode> nodes)
    {
        _options = options;
        _topology = new LiveTopology<ProxyBackend>(nodes, options.Compatibility, options.NodeDownPolicy, NewBackend, ring => RingChanged?.Invoke(this, ring));
    }

    /// <summary>The ring in force and its backends, read once per request.</summary>
    public RingTopology<ProxyBackend> Current => _topology.Current;

    /// <summary>Raised after each ring swap.</summary>
    public event EventHandler<KetamaRing>? RingChanged;

    /// <summary>A topology over a fixed list of nodes.</summary>
    public static ProxyTopology Create(IReadOnlyList<RingNode> nodes, ProxyOptions options) => new(options, nodes);

    /// <summary>A topology that follows the members under <paramref name="root"/> until disposed.</summary>
    public static async Task<ProxyTopology> StartAsync(CoordinationRoot root, ProxyOptions options, CancellationToken cancellationToken = default)
    {
        var watcher = await MembersWatcher.StartAsync(root, cancellationToken).ConfigureAwait(false);
        var topology = new ProxyTopology(options, [.. MemcachedCluster.ToRingNodes(watcher.Current)]);
        topology._topology.Follow(watcher);
        return topology;
    }

    /// <summary>Stops following membership and closes every backend connection.</summary>
    public ValueTask DisposeAsync() => _topology.DisposeAsync();

    private ProxyBackend NewBackend(RingNode node) => new(node.Endpoint, node.Host, node.Port, _options, OnHealthChanged);

    /// <summary>A backend's connection opened (true) or closed (false): under Eject, the ring follows.</summary>
    private void OnHealthChanged(ProxyBackend backend, bool up)
    {
        if (_options.NodeDownPolicy == NodeDownPolicy.Eject)
            _topology.SetLive(backend, up);
    }
}
