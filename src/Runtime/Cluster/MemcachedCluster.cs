using System.Collections.Immutable;
using TypedCache.Coordination;
using TypedCache.Memcached;

namespace TypedCache.Cluster;

/// <summary>
/// A memcached cluster over one <see cref="MemcachedClient"/> per node: each command goes to its key's node on the
/// ketama ring, a batch is split per node and sent to every node at once, and node failures never reach callers
/// (see <see cref="NodeDownPolicy"/>). The ring comes from a static list or from ZooKeeper membership
/// (<c>{root}/nodes</c>), and is swapped atomically with the node clients it routes to.
/// </summary>
/// <remarks>
/// <para>
/// A node is marked down after <see cref="MemcachedClusterOptions.FailureThreshold"/> consecutive failed commands
/// (connection down, timeout, corrupt reply); a background probe sends <c>mn</c> with backoff and brings it back,
/// flushing it first (<see cref="MemcachedClusterOptions.FlushOnRestore"/>). Commands that fail on a node, down or
/// not, reply <see cref="ReplySource.Unavailable"/> instead of throwing; only bad input (<see cref="ArgumentException"/>),
/// the caller's cancellation and a server's <c>CLIENT_ERROR</c>/<c>SERVER_ERROR</c> reach the caller.
/// </para>
/// <para>
/// With ZooKeeper membership the ring follows the members watcher: nodes that join get a client, nodes that leave
/// have theirs closed; while ZooKeeper is unreachable the last ring stays in force.
/// </para>
/// </remarks>
internal sealed partial class MemcachedCluster : IAsyncDisposable
{
    private readonly MemcachedClusterOptions _options;
    private readonly CancellationTokenSource _disposed = new();
    private readonly KetamaRing? _gutterRing;
    private readonly ImmutableArray<MemcachedClient> _gutterClients;
    private readonly LiveTopology<ClusterNode> _topology;

    private MemcachedCluster(MemcachedClusterOptions options, IEnumerable<RingNode> nodes)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _topology = new LiveTopology<ClusterNode>([.. nodes], options.Compatibility, options.NodeDownPolicy, NewNode, ring => RingChanged?.Invoke(this, ring));
        if (options.NodeDownPolicy == NodeDownPolicy.Gutter)
        {
            _gutterRing = KetamaRing.Create(options.GutterNodes, options.Compatibility);
            _gutterClients = [.. options.GutterNodes.Select(n => new MemcachedClient(n.Host, n.Port, options.NodeOptions))];
        }
        else
        {
            _gutterClients = [];
        }
    }

    /// <summary>A cluster of a fixed list of nodes, without ZooKeeper. Connections open in the background.</summary>
    /// <exception cref="ArgumentException">Two nodes share an endpoint, or the options are invalid.</exception>
    public static MemcachedCluster Create(IEnumerable<RingNode> nodes, MemcachedClusterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        return new MemcachedCluster(options ?? new MemcachedClusterOptions(), nodes);
    }

    /// <summary>
    /// A cluster whose nodes are the members under <paramref name="root"/>'s <c>nodes</c>, followed until disposed.
    /// The ZooKeeper client stays the caller's; give it <see cref="ZooKeeper.ZooKeeperClientOptions.RenewSessionOnExpiry"/>
    /// so that membership survives an expired session.
    /// </summary>
    /// <exception cref="ZooKeeper.KeeperException">The members could not be read at start.</exception>
    public static async Task<MemcachedCluster> StartAsync(CoordinationRoot root, MemcachedClusterOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        var watcher = await MembersWatcher.StartAsync(root, cancellationToken).ConfigureAwait(false);
        try
        {
            var cluster = new MemcachedCluster(options ?? new MemcachedClusterOptions(), ToRingNodes(watcher.Current));
            cluster._topology.Follow(watcher);
            return cluster;
        }
        catch
        {
            await watcher.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The ring in force now (down nodes ejected under <see cref="NodeDownPolicy.Eject"/>).</summary>
    public KetamaRing Ring => _topology.Current.Ring;

    /// <summary>The policy for down nodes.</summary>
    public NodeDownPolicy NodeDownPolicy => _options.NodeDownPolicy;

    /// <summary>Raised after each ring swap (membership change, ejection, restore), with the new ring; never on a caller's thread of a command.</summary>
    public event EventHandler<KetamaRing>? RingChanged;

    /// <summary>Raised when a node is marked down (true) or found answering again (false), with its endpoint.</summary>
    public event EventHandler<(string Endpoint, bool Down)>? NodeHealthChanged;

    /// <summary>Whether the node with this endpoint is a member and marked down.</summary>
    public bool IsDown(string endpoint) => _topology.Current.Nodes.Any(n => n.Endpoint == endpoint && n.IsDown);

    /// <summary>The endpoints of the members marked down now.</summary>
    public IReadOnlyList<string> DownNodes => [.. _topology.Current.Nodes.Where(n => n.IsDown).Select(n => n.Endpoint)];

    /// <summary>
    /// Whether the key's node can take commands now: false when no node is live, or when its node is down and the
    /// policy is <see cref="NodeDownPolicy.Miss"/> (the caller may go to its loader at once). Allocates nothing.
    /// </summary>
    public bool IsAvailable(ReadOnlySpan<byte> key) => RouteOf(key).Client is not null;

    /// <summary>
    /// Waits until every member's connection is up, at most <paramref name="timeout"/>; members still down then are
    /// left to node health (their keys are unavailable until they answer).
    /// </summary>
    public Task WaitForConnectionsAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Task.WhenAll(_topology.Current.Nodes.Select(async node =>
        {
            try
            {
                await node.Client.WaitUntilConnectedAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (MemcachedException)
            {
            }
        }));

    /// <summary>Stops following membership and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
            return;
        await _disposed.CancelAsync().ConfigureAwait(false);
        await _topology.DisposeAsync().ConfigureAwait(false);
        foreach (var client in _gutterClients)
            await client.DisposeAsync().ConfigureAwait(false);
    }

    private ClusterNode NewNode(RingNode node) => new(node, _options.NodeOptions, _options.FailureThreshold);

    /// <summary>The members that make valid ring nodes, in their order; a member whose host the ring refuses is left out.</summary>
    internal static IEnumerable<RingNode> ToRingNodes(IReadOnlyList<Member> members)
    {
        foreach (var member in members)
        {
            RingNode node;
            try
            {
                node = new RingNode(member.Host, member.Port, member.Weight);
            }
            catch (ArgumentException)
            {
                continue;
            }
            yield return node;
        }
    }

    /// <summary>Where a key's commands go now.</summary>
    private Route RouteOf(ReadOnlySpan<byte> key)
    {
        var topology = _topology.Current;
        int index = topology.Ring.GetNodeIndex(key);
        if (index < 0)
            return default;
        var node = topology.Nodes[index];
        if (!node.IsDown)
            return new Route(node.Client, node, ReplySource.Node);
        if (_gutterRing is null)
            return default;
        int gutter = _gutterRing.GetNodeIndex(key);
        return new Route(_gutterClients[gutter], null, ReplySource.Gutter);
    }

    private void OnFailure(ClusterNode? node)
    {
        if (node is null || !node.OnFailure())
            return;
        if (_options.NodeDownPolicy == NodeDownPolicy.Eject)
            _topology.SetLive(node, live: false);
        NodeHealthChanged?.Invoke(this, (node.Endpoint, true));
        _ = Task.Run(() => ProbeAsync(node), CancellationToken.None);
    }

    /// <summary>Probes a down node with <c>mn</c>, backing off, until it answers (then flushes and restores it) or leaves.</summary>
    private async Task ProbeAsync(ClusterNode node)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(node.Removed, _disposed.Token);
        var delay = _options.ProbeMinDelay;
        while (true)
        {
            try
            {
                await Task.Delay(delay, _options.NodeOptions.TimeProvider, stop.Token).ConfigureAwait(false);
                await node.Client.NoOpAsync(stop.Token).ConfigureAwait(false);
                if (_options.FlushOnRestore)
                    await node.Client.FlushAllAsync(cancellationToken: stop.Token).ConfigureAwait(false);
                break;
            }
            catch (MemcachedException)
            {
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ProbeMaxDelay.Ticks));
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
        }
        node.MarkUp();
        if (_options.NodeDownPolicy == NodeDownPolicy.Eject)
            _topology.SetLive(node, live: true);
        NodeHealthChanged?.Invoke(this, (node.Endpoint, false));
    }

    /// <summary>The client a command goes to (null: unavailable) and the node whose health it reports to (null for gutter).</summary>
    private readonly record struct Route(MemcachedClient? Client, ClusterNode? Node, ReplySource Source);
}
