using TypedCache.Cluster;

namespace TypedCache.Proxy;

/// <summary>Settings of a <see cref="MemcachedProxy"/>. Every limit is enforced as memcached would enforce it.</summary>
internal sealed class ProxyOptions
{
    /// <summary>
    /// Most client connections open at once. The one past the limit gets <c>ERROR Too many open connections</c> and is
    /// closed, as memcached does. The proxy raises its open-file limit to fit this many (plus its backends) and refuses
    /// to start if it cannot. Default 10,000.
    /// </summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>
    /// The largest data block of a storage command, in bytes. A larger one is swallowed and answered
    /// <c>SERVER_ERROR object too large for cache</c>, as memcached does; nothing is sent to a backend. Default 1 MiB.
    /// </summary>
    public int MaxValueBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The longest command line, in bytes (a multi-key <c>get</c> is one line). A longer line gets
    /// <c>CLIENT_ERROR line too long</c> and the connection is closed. Default 64 KiB.
    /// </summary>
    public int MaxLineBytes { get; set; } = 64 * 1024;

    /// <summary>A client connection that sends nothing for this long is closed. <see cref="TimeSpan.Zero"/>: never. Default 10 minutes.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a backend may take to accept a connection or answer a request; past it the request is answered as the
    /// node-down policy answers a down node's (its late reply is dropped). Default 1 second.
    /// </summary>
    public TimeSpan BackendTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Requests past <see cref="BackendTimeout"/> in a row, with no reply in between, that mark a node down: its
    /// connection is closed, everything in flight on it answered as the node-down policy says, and it comes back when
    /// it is reconnected (and flushed, see <see cref="FlushOnRestore"/>). Default 3, as the cluster client's
    /// <see cref="MemcachedClusterOptions.FailureThreshold"/>.
    /// </summary>
    public int FailureThreshold { get; set; } = 3;

    /// <summary>
    /// What a down node's keys do: <see cref="NodeDownPolicy.Miss"/> (they miss; writes answer as not stored),
    /// <see cref="NodeDownPolicy.Eject"/> (the node leaves the ring until it answers again) or
    /// <see cref="NodeDownPolicy.Gutter"/> (they go to <see cref="GutterNodes"/>, TTLs capped to
    /// <see cref="GutterTtlSeconds"/>). Default Miss.
    /// </summary>
    public NodeDownPolicy NodeDownPolicy { get; set; } = NodeDownPolicy.Miss;

    /// <summary>
    /// The gutter servers of <see cref="NodeDownPolicy.Gutter"/> (required by it, unused by the other policies): while a
    /// node is down, each of its keys goes to the gutter server a ring of these places it on. Deletes go to the key's
    /// gutter server whether or not its node is up, so that a node that goes down again never brings back a deleted
    /// value from the gutter. Default none.
    /// </summary>
    public IReadOnlyList<RingNode> GutterNodes { get; set; } = [];

    /// <summary>
    /// The longest TTL, in seconds, of an item written to a gutter server: longer and never-expiring TTLs of the
    /// commands sent there (storage, touch, gat, and the meta <c>T</c> and <c>N</c> flags) are lowered to it. Default 10,
    /// as the cluster client's <see cref="MemcachedClusterOptions.GutterTtlSeconds"/>.
    /// </summary>
    public int GutterTtlSeconds { get; set; } = 10;

    /// <summary>Flush a node (<c>flush_all</c>) when its connection comes back, before it takes keys again. Default true.</summary>
    public bool FlushOnRestore { get; set; } = true;

    /// <summary>Which client's ring the proxy places keys like. Default <see cref="RingCompatibility.LibmemcachedWeighted"/>.</summary>
    public RingCompatibility Compatibility { get; set; } = RingCompatibility.LibmemcachedWeighted;

    /// <summary>Most requests of one client connection waiting for their replies; past it the proxy stops reading that client. Default 1,024.</summary>
    public int MaxPipelineDepth { get; set; } = 1024;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1, nameof(MaxConnections));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxValueBytes, 0, nameof(MaxValueBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLineBytes, 512, nameof(MaxLineBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(IdleTimeout, TimeSpan.Zero, nameof(IdleTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(BackendTimeout, TimeSpan.Zero, nameof(BackendTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(FailureThreshold, 1, nameof(FailureThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPipelineDepth, 1, nameof(MaxPipelineDepth));
        if (!Enum.IsDefined(NodeDownPolicy))
            throw new ArgumentOutOfRangeException(nameof(NodeDownPolicy), NodeDownPolicy, "Unknown node-down policy.");
        Gutter.Validate(NodeDownPolicy, GutterNodes, GutterTtlSeconds);
        if (!Enum.IsDefined(Compatibility))
            throw new ArgumentOutOfRangeException(nameof(Compatibility), Compatibility, "Unknown ring compatibility.");
    }
}
