using TypedCache.Memcached;

namespace TypedCache.Cluster;

/// <summary>Settings of a <see cref="MemcachedCluster"/>. Every property has a default that suits a local cluster.</summary>
internal sealed class MemcachedClusterOptions
{
    /// <summary>Which client or proxy the ring places keys like. Default <see cref="RingCompatibility.LibmemcachedWeighted"/>.</summary>
    public RingCompatibility Compatibility { get; set; } = RingCompatibility.LibmemcachedWeighted;

    /// <summary>What a down node's keys do. Default <see cref="NodeDownPolicy.Miss"/>.</summary>
    public NodeDownPolicy NodeDownPolicy { get; set; } = NodeDownPolicy.Miss;

    /// <summary>
    /// How many commands in a row must fail (connection down, timeout, corrupt reply) before a node is marked down.
    /// Every command in flight on a connection fails when it drops, so a busy node reaches this at once. Default 3.
    /// </summary>
    public int FailureThreshold { get; set; } = 3;

    /// <summary>The first pause before probing a down node with <c>mn</c>; it doubles after each failed probe up to <see cref="ProbeMaxDelay"/>. Default 100 ms.</summary>
    public TimeSpan ProbeMinDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest pause between probes of a down node. Default 5 seconds.</summary>
    public TimeSpan ProbeMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Flush a node (<c>flush_all</c>) before it takes its keys back: while it was down its writes and invalidations
    /// went elsewhere or were dropped, so what it still holds may be stale. Default <see langword="true"/>.
    /// </summary>
    public bool FlushOnRestore { get; set; } = true;

    /// <summary>The gutter servers that serve a down node's keys under <see cref="NodeDownPolicy.Gutter"/> (required by that policy). Default none.</summary>
    public IReadOnlyList<RingNode> GutterNodes { get; set; } = [];

    /// <summary>The longest TTL, in seconds, of anything stored in the gutter pool; longer and never-expiring TTLs are capped to it. Default 10.</summary>
    public int GutterTtlSeconds { get; set; } = 10;

    /// <summary>The settings of each node's (and gutter server's) <see cref="MemcachedClient"/>; its clock also drives the probes. Default <see cref="MemcachedClientOptions"/>' defaults.</summary>
    public MemcachedClientOptions NodeOptions { get; set; } = new();

    internal void Validate()
    {
        if (!Enum.IsDefined(Compatibility))
            throw new ArgumentOutOfRangeException(nameof(Compatibility), Compatibility, "Unknown ring compatibility.");
        if (!Enum.IsDefined(NodeDownPolicy))
            throw new ArgumentOutOfRangeException(nameof(NodeDownPolicy), NodeDownPolicy, "Unknown node-down policy.");
        ArgumentOutOfRangeException.ThrowIfLessThan(FailureThreshold, 1, nameof(FailureThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ProbeMinDelay, TimeSpan.Zero, nameof(ProbeMinDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(ProbeMaxDelay, ProbeMinDelay, nameof(ProbeMaxDelay));
        Gutter.Validate(NodeDownPolicy, GutterNodes, GutterTtlSeconds);
        ArgumentNullException.ThrowIfNull(NodeOptions, nameof(NodeOptions));
        NodeOptions.Validate();
    }
}
