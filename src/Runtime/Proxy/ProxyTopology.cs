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
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _disposed = new();
    private Snapshot _current;
    private MembersWatcher? _watcher;
    private Task _membership = Task.CompletedTask;

    private ProxyTopology(ProxyOptions options, IReadOnlyList<RingNode> nodes)
    {
        _options = options;
        _current = new Snapshot(KetamaRing.Create(nodes, options.Compatibility), [.. nodes.Select(NewBackend)]);
    }

    /// <summary>The ring in force and its backends, read once per request.</summary>
    public Snapshot Current => Volatile.Read(ref _current);

    /// <summary>Raised after each ring swap.</summary>
    public event EventHandler<KetamaRing>? RingChanged;

    /// <summary>A topology over a fixed list of nodes.</summary>
    public static ProxyTopology Create(IReadOnlyList<RingNode> nodes, ProxyOptions options) => new(options, nodes);

    /// <summary>A topology that follows the members under <paramref name="root"/> until disposed.</summary>
    public static async Task<ProxyTopology> StartAsync(CoordinationRoot root, ProxyOptions options, CancellationToken cancellationToken = default)
    {
        var watcher = await MembersWatcher.StartAsync(root, cancellationToken).ConfigureAwait(false);
        var topology = new ProxyTopology(options, [.. MemcachedCluster.ToRingNodes(watcher.Current)]) { _watcher = watcher };
        topology._membership = Task.Run(() => topology.FollowAsync(watcher), CancellationToken.None);
        return topology;
    }

    /// <summary>Stops following membership and closes every backend connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
            return;
        await _disposed.CancelAsync().ConfigureAwait(false);
        if (_watcher is not null)
            await _watcher.DisposeAsync().ConfigureAwait(false);
        await _membership.ConfigureAwait(false);
        Snapshot last;
        lock (_gate)
            last = _current;
        foreach (var backend in last.Backends)
            await backend.DisposeAsync().ConfigureAwait(false);
        _disposed.Dispose();
    }

    private ProxyBackend NewBackend(RingNode node) => new(node.Endpoint, node.Host, node.Port, _options, OnHealthChanged);

    private async Task FollowAsync(MembersWatcher watcher)
    {
        try
        {
            await foreach (var members in watcher.Changes.ReadAllAsync(_disposed.Token).ConfigureAwait(false))
                await ApplyAsync([.. MemcachedCluster.ToRingNodes(members)]).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
        }
    }

    private async Task ApplyAsync(IReadOnlyList<RingNode> members)
    {
        List<ProxyBackend> removed;
        KetamaRing ring;
        lock (_gate)
        {
            var current = _current;
            if (current.Ring.Nodes.SequenceEqual(members))
                return;
            var byEndpoint = current.Backends.ToDictionary(b => b.Endpoint, StringComparer.Ordinal);
            var backends = new ProxyBackend[members.Count];
            for (int i = 0; i < members.Count; i++)
                backends[i] = byEndpoint.Remove(members[i].Endpoint, out var kept) ? kept : NewBackend(members[i]);
            ring = KetamaRing.Create(members, _options.Compatibility);
            if (_options.NodeDownPolicy == NodeDownPolicy.Eject)
            {
                for (int i = 0; i < backends.Length; i++)
                {
                    if (!backends[i].IsUp)
                        ring = ring.Eject(i);
                }
            }
            _current = new Snapshot(ring, backends);
            removed = [.. byEndpoint.Values];
        }
        RingChanged?.Invoke(this, ring);
        foreach (var backend in removed)
            await backend.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A backend's connection opened (true) or closed (false): under Eject, the ring follows.</summary>
    private void OnHealthChanged(ProxyBackend backend, bool up)
    {
        if (_options.NodeDownPolicy != NodeDownPolicy.Eject)
            return;
        KetamaRing ring;
        lock (_gate)
        {
            var current = _current;
            int index = Array.IndexOf(current.Backends, backend);
            if (index < 0 || current.Ring.IsLive(index) == up)
                return;
            ring = up ? current.Ring.Restore(index) : current.Ring.Eject(index);
            _current = new Snapshot(ring, current.Backends);
        }
        RingChanged?.Invoke(this, ring);
    }

    /// <summary>One ring and the backend of each of its node indexes.</summary>
    internal sealed class Snapshot(KetamaRing ring, ProxyBackend[] backends)
    {
        public KetamaRing Ring { get; } = ring;

        public ProxyBackend[] Backends { get; } = backends;

        /// <summary>The backend a key goes to, or null when no node is live.</summary>
        public ProxyBackend? Route(ReadOnlySpan<byte> key)
        {
            int index = Ring.GetNodeIndex(key);
            return index < 0 ? null : Backends[index];
        }
    }
}
