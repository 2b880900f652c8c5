using TypedCache.Caching.Distributed;

namespace TypedCache;

// The distributed engine's part of the options builder: memcached, ZooKeeper and the in-process level.
public sealed partial class CacheContextOptionsBuilder<TContext>
{
    private readonly DistributedCacheSettings _distributed = new();

    /// <summary>
    /// Stores entries in memcached (the ketama ring over <paramref name="nodes"/>) with an in-process level in front.
    /// With <see cref="UseZooKeeper"/> and no nodes, the ring follows the members registered in ZooKeeper.
    /// </summary>
    /// <param name="nodes">The servers, each <c>host[:port]</c> (port 11211 when left out).</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">An endpoint is not <c>host[:port]</c>.</exception>
    public CacheContextOptionsBuilder<TContext> UseMemcached(params string[] nodes) => UseMemcached(nodes, configure: null);

    /// <summary>
    /// Stores entries in memcached (the ketama ring over <paramref name="nodes"/>) with an in-process level in front,
    /// and sets the engine's options (fail-safe, timeouts, leases; see <see cref="DistributedCacheOptions"/>).
    /// </summary>
    /// <param name="nodes">The servers, each <c>host[:port]</c>; empty to take them from ZooKeeper.</param>
    /// <param name="configure">Changes the engine's options, or null for the defaults.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">An endpoint is not <c>host[:port]</c>.</exception>
    public CacheContextOptionsBuilder<TContext> UseMemcached(IEnumerable<string> nodes, Action<DistributedCacheOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var parsed = nodes.Select(DistributedCacheSettings.ParseNode).ToList();
        _distributed.Nodes.Clear();
        _distributed.Nodes.AddRange(parsed);
        configure?.Invoke(_distributed.Options);
        _distributed.Options.Validate();
        return UseDistributed();
    }

    /// <summary>
    /// Uses ZooKeeper for type and tag versions, cross-service invalidation of the in-process level, locks and (when
    /// <see cref="UseMemcached(string[])"/> lists no nodes) memcached membership.
    /// </summary>
    /// <param name="connectString">The ensemble, <c>host:port[,host:port...]</c>.</param>
    /// <param name="root">The root path shared by every service of one cache, e.g. <c>/typedcache/shop</c>.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">The connect string or the root is not valid.</exception>
    public CacheContextOptionsBuilder<TContext> UseZooKeeper(string connectString, string root)
    {
        ZooKeeper.ZooKeeperConnectString.Parse(connectString);
        ZooKeeper.ZooKeeperPath.Validate(root, nameof(root));
        _distributed.ZooKeeper = new ZooKeeperSettings(connectString, root);
        return UseDistributed();
    }

    /// <summary>Bounds the in-process level: at most <paramref name="maxEntries"/> entries per cached type; 0 turns it off. Default 10,000.</summary>
    /// <param name="maxEntries">The bound, 0 or more.</param>
    /// <returns>This builder.</returns>
    public CacheContextOptionsBuilder<TContext> UseLocalCache(int maxEntries)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        _distributed.Options.LocalCacheMaxEntries = maxEntries;
        return UseDistributed();
    }

    private CacheContextOptionsBuilder<TContext> UseDistributed()
    {
        var settings = _distributed.Clone();
        return UseEngine(options => new DistributedCacheEngine(settings, options));
    }
}
