using TypedCache.Cluster;
using TypedCache.Coordination;

namespace TypedCache.Proxy;

/// <summary>
/// The ring the proxy routes by and the backend connection of each of its nodes, swapped together: from a static
/// list, or rebuilt live from the members under <c>{root}/nodes</c> (a backend that stays keeps its connection).
/// Under <see cref="NodeDownPolicy.Eject"/> a node whose connection is down is ejected until it comes back; under
/// <see cref="NodeDownPolicy.Gutter"/> its keys go to the gutter servers, placed by a ring of their own.
/// </summary>
internal sealed class ProxyTopology : IAsyncDisposable
{
    private readonly ProxyOptions _options;
    private readonly LiveTopology<ProxyBackend> _topology;

    private ProxyTopology(ProxyOptions options, IReadOnlyList<RingNode> nodes)
    {
        _options = options;
        _topology = new LiveTopology<ProxyBackend>(nodes, options.Compatibility, options.NodeDownPolicy, NewBackend, ring => RingChanged?.Invoke(this, ring));
        if (options.NodeDownPolicy == NodeDownPolicy.Gutter)
            GutterPool = new RingTopology<ProxyBackend>(KetamaRing.Create(options.GutterNodes, options.Compatibility), [.. options.GutterNodes.Select(NewBackend)]);
    }

    /// <summary>The ring in force and its backends, read once per request.</summary>
    public RingTopology<ProxyBackend> Current => _topology.Current;

    /// <summary>The gutter servers and their ring under <see cref="NodeDownPolicy.Gutter"/>; null under the other policies.</summary>
    public RingTopology<ProxyBackend>? GutterPool { get; }

    /// <summary>
    /// The backend a key's request goes to on <paramref name="current"/>: its node, or under Gutter while the node is
    /// down, its gutter server (<paramref name="gutter"/> true). Null when no node is live.
    /// </summary>
    public ProxyBackend? Route(RingTopology<ProxyBackend> current, ReadOnlySpan<byte> key, out bool gutter)
    {
        var node = current.Route(key);
        gutter = node is not null && !node.IsUp && GutterPool is not null;
        return gutter ? GutterPool!.Route(key) : node;
    }

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
    public async ValueTask DisposeAsync()
    {
        await _topology.DisposeAsync().ConfigureAwait(false);
        foreach (var gutter in GutterPool?.Nodes ?? [])
            await gutter.DisposeAsync().ConfigureAwait(false);
    }

    private ProxyBackend NewBackend(RingNode node) => new(node.Endpoint, node.Host, node.Port, _options, OnHealthChanged);

    /// <summary>A backend's connection opened (true) or closed (false): under Eject, the ring follows.</summary>
    private void OnHealthChanged(ProxyBackend backend, bool up)
    {
        if (_options.NodeDownPolicy == NodeDownPolicy.Eject)
            _topology.SetLive(backend, up);
    }
}
