using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TypedCache.Cluster;

namespace TypedCache.Caching.Distributed;

/// <summary>What the <c>Use...</c> methods of the options builder collected for the distributed engine; copied per engine.</summary>
internal sealed class DistributedCacheSettings
{
    public List<RingNode> Nodes { get; private init; } = [];

    public MemcachedClusterOptions? ClusterOptions { get; set; }

    public DistributedCacheOptions Options { get; private init; } = new();

    public ZooKeeperSettings? ZooKeeper { get; set; }

    public DistributedCacheSettings Clone() => new()
    {
        Nodes = [.. Nodes],
        ClusterOptions = ClusterOptions,
        Options = Options.Clone(),
        ZooKeeper = ZooKeeper,
    };

    /// <summary>Parses <c>host[:port]</c> (port 11211 when left out).</summary>
    /// <exception cref="ArgumentException">The endpoint is empty or its port is not a number from 1 to 65535.</exception>
    public static RingNode ParseNode(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        var colon = endpoint.LastIndexOf(':');
        if (colon < 0)
        {
            return new RingNode(endpoint);
        }

        if (!int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"The memcached endpoint '{endpoint}' must be host[:port] with a port from 1 to 65535.", nameof(endpoint));
        }

        return new RingNode(endpoint[..colon], port);
    }
}

/// <summary>The ZooKeeper ensemble and root of <c>UseZooKeeper</c>.</summary>
/// <param name="ConnectString">The ensemble, <c>host:port,host:port</c>.</param>
/// <param name="Root">The TypedCache root path, e.g. <c>/typedcache/shop</c>.</param>
internal sealed record ZooKeeperSettings(string ConnectString, string Root)
{
    /// <summary>The ZooKeeper client's logger. Default: nothing is logged.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
}
