using TypedCache.Coordination;

namespace TypedCache.Cluster;

/// <summary>A connection-bearing node of a <see cref="LiveTopology{TNode}"/>, kept across ring rebuilds while its endpoint stays a member.</summary>
internal interface ITopologyNode : IAsyncDisposable
{
    /// <summary><c>host:port</c>, the node's identity across rebuilds.</summary>
    string Endpoint { get; }

    /// <summary>Whether the node is down now: a rebuilt ring ejects it under <see cref="NodeDownPolicy.Eject"/>.</summary>
    bool IsDown { get; }
}

/// <summary>One ring and the node of each of its indexes, published together.</summary>
internal sealed class RingTopology<TNode>(KetamaRing ring, TNode[] nodes)
    where TNode : class
{
    /// <summary>The ring.</summary>
    public KetamaRing Ring { get; } = ring;

    /// <summary>The node of each of the ring's node indexes.</summary>
    public TNode[] Nodes { get; } = nodes;

    /// <summary>The node a key goes to, or null when no node is live.</summary>
    public TNode? Route(ReadOnlySpan<byte> key)
    {
        int index = Ring.GetNodeIndex(key);
        return index < 0 ? null : Nodes[index];
    }
}

/// <summary>
/// The ring in force and the node of each of its indexes, swapped together: from a fixed list, or rebuilt live from
/// the members under <c>{root}/nodes</c>, where a node that stays keeps its connection and health and a node that
/// leaves is disposed. Under <see cref="NodeDownPolicy.Eject"/> a rebuilt ring ejects the nodes that are down, and
/// <see cref="SetLive"/> ejects or restores one node. Shared by <see cref="MemcachedCluster"/> and the proxy.
/// </summary>
internal sealed class LiveTopology<TNode> : IAsyncDisposable
    where TNode : class, ITopologyNode
{
    private readonly RingCompatibility _compatibility;
    private readonly bool _eject;
    private readonly Func<RingNode, TNode> _newNode;
    private readonly Action<KetamaRing> _ringChanged;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _disposed = new();
    private RingTopology<TNode> _current;
    private MembersWatcher? _watcher;
    private Task _membership = Task.CompletedTask;

    /// <summary>A topology over <paramref name="nodes"/>; <paramref name="ringChanged"/> is called after each swap, outside the lock.</summary>
    /// <exception cref="ArgumentException">The ring refuses the nodes (two share an endpoint, a name too long for the compatibility).</exception>
    public LiveTopology(
        IReadOnlyList<RingNode> nodes, RingCompatibility compatibility, NodeDownPolicy policy, Func<RingNode, TNode> newNode, Action<KetamaRing> ringChanged)
    {
        _compatibility = compatibility;
        _eject = policy == NodeDownPolicy.Eject;
        _newNode = newNode;
        _ringChanged = ringChanged;
        var ring = KetamaRing.Create(nodes, compatibility);
        _current = new RingTopology<TNode>(ring, [.. nodes.Select(newNode)]);
    }

    /// <summary>The ring in force and its nodes, read once per operation.</summary>
    public RingTopology<TNode> Current => Volatile.Read(ref _current);

    /// <summary>Follows <paramref name="watcher"/>'s member changes until disposed; the watcher is disposed with this topology.</summary>
    public void Follow(MembersWatcher watcher)
    {
        _watcher = watcher;
        _membership = Task.Run(() => FollowAsync(watcher), CancellationToken.None);
    }

    /// <summary>Ejects (<paramref name="live"/> false) or restores a node of the current ring; nothing when it is not a member or already so.</summary>
    public void SetLive(TNode node, bool live)
    {
        KetamaRing ring;
        lock (_gate)
        {
            var current = _current;
            int index = Array.IndexOf(current.Nodes, node);
            if (index < 0 || current.Ring.IsLive(index) == live)
                return;
            ring = live ? current.Ring.Restore(index) : current.Ring.Eject(index);
            _current = new RingTopology<TNode>(ring, current.Nodes);
        }
        _ringChanged(ring);
    }

    /// <summary>Stops following membership and disposes every node.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
            return;
        await _disposed.CancelAsync().ConfigureAwait(false);
        if (_watcher is not null)
            await _watcher.DisposeAsync().ConfigureAwait(false);
        await _membership.ConfigureAwait(false);
        RingTopology<TNode> last;
        lock (_gate)
            last = _current;
        foreach (var node in last.Nodes)
            await node.DisposeAsync().ConfigureAwait(false);
        _disposed.Dispose();
    }

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

    /// <summary>Builds the ring of <paramref name="members"/>, reusing the nodes that stay, and disposes the ones that left.</summary>
    private async Task ApplyAsync(IReadOnlyList<RingNode> members)
    {
        List<TNode> removed;
        KetamaRing ring;
        lock (_gate)
        {
            var current = _current;
            if (current.Ring.Nodes.SequenceEqual(members))
                return;
            try
            {
                ring = KetamaRing.Create(members, _compatibility);
            }
            catch (ArgumentException)
            {
                // A member set this compatibility cannot place (a twemproxy point name too long): keep the last ring.
                return;
            }
            var byEndpoint = current.Nodes.ToDictionary(n => n.Endpoint, StringComparer.Ordinal);
            var nodes = new TNode[members.Count];
            for (int i = 0; i < members.Count; i++)
                nodes[i] = byEndpoint.Remove(members[i].Endpoint, out var kept) ? kept : _newNode(members[i]);
            if (_eject)
            {
                for (int i = 0; i < nodes.Length; i++)
                {
                    if (nodes[i].IsDown)
                        ring = ring.Eject(i);
                }
            }
            _current = new RingTopology<TNode>(ring, nodes);
            removed = [.. byEndpoint.Values];
        }
        _ringChanged(ring);
        foreach (var node in removed)
            await node.DisposeAsync().ConfigureAwait(false);
    }
}
