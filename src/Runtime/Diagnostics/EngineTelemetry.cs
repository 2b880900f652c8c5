using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using TypedCache.Cluster;
using TypedCache.ZooKeeper;

namespace TypedCache.Diagnostics;

/// <summary>
/// One distributed engine's diagnostics: its loggers, the cluster and ZooKeeper client it follows for the observable
/// instruments, the ring and node events it counts and logs, and its health.
/// </summary>
internal sealed class EngineTelemetry
{
    private MemcachedCluster? _cluster;
    private ZooKeeperClient? _zooKeeper;

    public EngineTelemetry(CacheContextOptions context)
    {
        Context = context.ContextName;
        Logger = context.LoggerFactory.CreateLogger("TypedCache");
        ZooKeeperLogger = context.LoggerFactory.CreateLogger("TypedCache.ZooKeeper");
    }

    /// <summary>The context's class name: the <c>typedcache.context</c> tag.</summary>
    public string Context { get; }

    /// <summary>The engine's logger (event ids 5300–5499).</summary>
    public ILogger Logger { get; }

    /// <summary>The ZooKeeper client's logger (event ids 5100–5299).</summary>
    public ILogger ZooKeeperLogger { get; }

    /// <summary>The nodes the ring places keys on, once started.</summary>
    public int? RingSize => _cluster?.Ring.LiveCount;

    /// <summary>The ZooKeeper connection's state, when the engine uses ZooKeeper and has started.</summary>
    public ConnectionState? ZooKeeperState => _zooKeeper?.State;

    public static bool IsUp(ConnectionState state) => state is ConnectionState.Connected or ConnectionState.Reconnected;

    public static string StateName(ConnectionState state) => state switch
    {
        ConnectionState.Connected => "connected",
        ConnectionState.Suspended => "suspended",
        ConnectionState.Reconnected => "reconnected",
        ConnectionState.Lost => "lost",
        ConnectionState.Expired => "expired",
        ConnectionState.AuthFailed => "auth_failed",
        _ => "closed",
    };

    /// <summary>Follows the started engine's cluster and ZooKeeper client until <see cref="Detach"/>.</summary>
    public void Attach(MemcachedCluster cluster, ZooKeeperClient? zooKeeper)
    {
        _cluster = cluster;
        _zooKeeper = zooKeeper;
        cluster.RingChanged += OnRingChanged;
        cluster.NodeHealthChanged += OnNodeHealthChanged;
        if (zooKeeper is not null)
        {
            zooKeeper.StateChanged += OnZooKeeperStateChanged;
        }

        CacheTelemetry.Track(this);
        CacheLog.Started(Logger, Context, cluster.Ring.Nodes.Length, zooKeeper is null ? "off" : StateName(zooKeeper.State));
    }

    /// <summary>Stops following; the observable instruments no longer report this engine.</summary>
    public void Detach()
    {
        CacheTelemetry.Untrack(this);
        if (_cluster is { } cluster)
        {
            cluster.RingChanged -= OnRingChanged;
            cluster.NodeHealthChanged -= OnNodeHealthChanged;
        }

        if (_zooKeeper is { } zooKeeper)
        {
            zooKeeper.StateChanged -= OnZooKeeperStateChanged;
        }
    }

    /// <summary>
    /// Healthy: every node answers and ZooKeeper (when used) is connected. Degraded: starting, some nodes down, or
    /// ZooKeeper away (the engine serves on the last ring). Unhealthy: the start failed, or no node is live.
    /// </summary>
    public HealthCheckResult CheckHealth(Task ready)
    {
        if (ready.IsFaulted)
        {
            return HealthCheckResult.Unhealthy($"The cache engine of {Context} could not start.", ready.Exception?.InnerException);
        }

        if (_cluster is not { } cluster)
        {
            return HealthCheckResult.Degraded($"The cache engine of {Context} is starting.");
        }

        var nodes = cluster.Ring.Nodes.Length;
        var live = nodes - cluster.DownNodes.Count;
        var zooKeeper = _zooKeeper?.State;
        var data = new Dictionary<string, object>
        {
            ["context"] = Context,
            ["nodes"] = nodes,
            ["liveNodes"] = live,
            ["zooKeeper"] = zooKeeper is { } state ? StateName(state) : "off",
        };
        if (live == 0)
        {
            return HealthCheckResult.Unhealthy($"No memcached node of {Context} is live: every read goes to the loader.", data: data);
        }

        if (zooKeeper is { } current && !IsUp(current))
        {
            return HealthCheckResult.Degraded(
                $"ZooKeeper of {Context} is {StateName(current)}: serving on the last ring ({live} of {nodes} nodes live); invalidations queue and locks fail.", data: data);
        }

        return live < nodes
            ? HealthCheckResult.Degraded($"{nodes - live} of {nodes} memcached nodes of {Context} are down: their keys go to the loader.", data: data)
            : HealthCheckResult.Healthy($"{nodes} memcached nodes of {Context} live.", data);
    }

    private void OnRingChanged(object? sender, KetamaRing ring)
    {
        CacheLog.RingChanged(Logger, Context, ring.LiveCount, ring.Nodes.Length);
        CacheTelemetry.RingRebuilds.Add(1, new KeyValuePair<string, object?>(CacheTelemetry.ContextTag, Context));
    }

    private void OnNodeHealthChanged(object? sender, (string Endpoint, bool Down) change)
    {
        var tags = new TagList { { CacheTelemetry.ContextTag, Context }, { CacheTelemetry.NodeTag, change.Endpoint } };
        if (change.Down)
        {
            CacheLog.NodeDown(Logger, change.Endpoint, Context);
            CacheTelemetry.NodesDown.Add(1, tags);
        }
        else
        {
            CacheLog.NodeUp(Logger, change.Endpoint, Context);
            CacheTelemetry.NodesUp.Add(1, tags);
        }
    }

    private void OnZooKeeperStateChanged(object? sender, ConnectionState state)
    {
        if (IsUp(state))
        {
            CacheLog.ZooKeeperUp(Logger, Context, state);
        }
        else
        {
            CacheLog.ZooKeeperDown(Logger, Context, state);
        }
    }
}
