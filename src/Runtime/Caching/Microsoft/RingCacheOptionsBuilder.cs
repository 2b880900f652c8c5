using Microsoft.Extensions.Caching.Hybrid;
using TypedCache.Caching;
using TypedCache.Caching.Distributed;
using TypedCache.Cluster;

namespace TypedCache;

/// <summary>
/// Configures the caches that implement Microsoft's abstractions on the memcached ring
/// (<c>AddTypedCacheDistributedCache</c>, <c>AddTypedCacheHybridCache</c>), in the style of
/// <see cref="CacheContextOptionsBuilder{TContext}"/>: <c>o =&gt; o.UseZooKeeper(...).UseMemcached(...)</c>.
/// </summary>
public sealed class RingCacheOptionsBuilder
{
    internal RingCacheOptionsBuilder(string defaultKeyPrefix) => KeyPrefix = defaultKeyPrefix;

    internal DistributedCacheSettings Settings { get; } = new();

    internal string KeyPrefix { get; private set; }

    internal TimeProvider? TimeProvider { get; private set; }

    internal HybridCacheEntryOptions? DefaultEntryOptions { get; private set; }

    internal int MaximumPayloadBytes { get; private set; } = 1024 * 1024;

    /// <summary>Stores entries on the ketama ring over <paramref name="nodes"/>; with <see cref="UseZooKeeper"/> and no nodes, the ring follows the members registered in ZooKeeper.</summary>
    /// <param name="nodes">The servers, each <c>host[:port]</c> (port 11211 when left out).</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">An endpoint is not <c>host[:port]</c>.</exception>
    public RingCacheOptionsBuilder UseMemcached(params string[] nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var parsed = nodes.Select(DistributedCacheSettings.ParseNode).ToList();
        Settings.Nodes.Clear();
        Settings.Nodes.AddRange(parsed);
        return this;
    }

    /// <summary>
    /// Sets the servers' item size limit (memcached's <c>-I</c>); a bigger value is refused before it is sent. Default 1 MiB, memcached's default.
    /// </summary>
    /// <param name="bytes">The limit, at least 1024.</param>
    /// <returns>This builder.</returns>
    public RingCacheOptionsBuilder UseMemcachedItemSize(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1024);
        Settings.ClusterOptions = new MemcachedClusterOptions { NodeOptions = new Memcached.MemcachedClientOptions { MaxItemSizeBytes = bytes } };
        return this;
    }

    /// <summary>
    /// Uses ZooKeeper for memcached membership (when <see cref="UseMemcached"/> lists no nodes) and, for the hybrid
    /// cache, tag versions and the invalidation of every process's in-process level.
    /// </summary>
    /// <param name="connectString">The ensemble, <c>host:port[,host:port...]</c>.</param>
    /// <param name="root">The root path shared by every service of one cache, e.g. <c>/typedcache/shop</c>.</param>
    /// <returns>This builder.</returns>
    public RingCacheOptionsBuilder UseZooKeeper(string connectString, string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectString);
        ZooKeeper.ZooKeeperPath.Validate(root, nameof(root));
        Settings.ZooKeeper = new ZooKeeperSettings(connectString, root);
        return this;
    }

    /// <summary>Sets the first part of every key. Default <c>dc</c> for the distributed cache, <c>hc</c> for the hybrid cache.</summary>
    /// <param name="keyPrefix">1 to 64 ASCII letters, digits, <c>-</c>, <c>_</c> or <c>.</c>.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="keyPrefix"/> is not a valid name.</exception>
    public RingCacheOptionsBuilder UseKeyPrefix(string keyPrefix)
    {
        CacheNames.ThrowIfInvalid(keyPrefix, nameof(keyPrefix));
        KeyPrefix = keyPrefix;
        return this;
    }

    /// <summary>Sets the clock of expirations. Default: the container's <see cref="System.TimeProvider"/>, else <see cref="TimeProvider.System"/>.</summary>
    /// <param name="timeProvider">The clock; tests pass a fake one.</param>
    /// <returns>This builder.</returns>
    public RingCacheOptionsBuilder UseTimeProvider(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        TimeProvider = timeProvider;
        return this;
    }

    /// <summary>Hybrid cache only: bounds the in-process level to <paramref name="maxEntries"/> entries; 0 turns it off. Default 10,000.</summary>
    /// <param name="maxEntries">The bound, 0 or more.</param>
    /// <returns>This builder.</returns>
    public RingCacheOptionsBuilder UseLocalCache(int maxEntries)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        Settings.Options.LocalCacheMaxEntries = maxEntries;
        return this;
    }

    /// <summary>
    /// Hybrid cache only: the entry options of calls that give none (or leave some unset). Default: 5 minutes in both
    /// levels, no flags.
    /// </summary>
    /// <param name="options">The defaults.</param>
    /// <returns>This builder.</returns>
    public RingCacheOptionsBuilder UseDefaultEntryOptions(HybridCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        DefaultEntryOptions = options;
        return this;
    }

    /// <summary>Hybrid cache only: a serialized value bigger than this is returned but not cached. Default 1 MiB.</summary>
    /// <param name="bytes">The limit, positive.</param>
    /// <returns>This builder.</returns>
    public RingCacheOptionsBuilder UseMaximumPayloadBytes(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        MaximumPayloadBytes = bytes;
        return this;
    }

    /// <summary>Checks that servers were given.</summary>
    /// <exception cref="InvalidOperationException">Neither <see cref="UseMemcached"/> nor <see cref="UseZooKeeper"/> was called.</exception>
    internal void Validate()
    {
        if (Settings.Nodes.Count == 0 && Settings.ZooKeeper is null)
        {
            throw new InvalidOperationException(RingConnection.NoServers);
        }

        Settings.Options.Validate();
    }
}
