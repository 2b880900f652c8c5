using TypedCache.Cluster;
using TypedCache.Coordination;
using TypedCache.Diagnostics;

namespace TypedCache.Caching.Distributed;

/// <summary>What a cache on the ring hears from ZooKeeper: key invalidations, missed events and version changes.</summary>
internal interface IRingListener
{
    /// <summary>A key of cache <paramref name="type"/> was invalidated by some process (this one included).</summary>
    void OnKey(string type, ReadOnlySpan<byte> key);

    /// <summary>Invalidation events were missed: anything held in process may be stale.</summary>
    void OnMissed();

    /// <summary>A type or tag version moved (the name as its ZooKeeper path segment).</summary>
    void OnVersion(VersionKind kind, string name, long version);
}

/// <summary>
/// The memcached ring (static or following ZooKeeper membership) and, with ZooKeeper, the coordination bus: what the
/// distributed engine and the caches that implement Microsoft's abstractions stand on. Connects in the background;
/// callers await <see cref="ReadyAsync"/>.
/// </summary>
internal sealed class RingConnection : IAsyncDisposable
{
    internal const string NoServers = "TypedCache needs memcached servers: call UseMemcached(\"host:port\", ...), or register them in ZooKeeper and call UseZooKeeper(connectString, root).";

    private readonly Task _ready;
    private readonly CancellationTokenSource _disposed = new();
    private readonly EngineTelemetry? _telemetry;
    private MemcachedCluster? _cluster;
    private CoordinationBus? _bus;

    /// <param name="settings">The servers, ZooKeeper and options; copied.</param>
    /// <param name="time">The clock of the coordination bus.</param>
    /// <param name="listener">Hears the bus, or null to ignore it.</param>
    /// <param name="telemetry">Follows the ring and ZooKeeper once started (and logs ZooKeeper), or null.</param>
    /// <exception cref="InvalidOperationException">Neither memcached servers nor ZooKeeper are configured.</exception>
    public RingConnection(DistributedCacheSettings settings, TimeProvider time, IRingListener? listener, EngineTelemetry? telemetry = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        settings.Options.Validate();
        if (settings.Nodes.Count > 0)
        {
            _cluster = MemcachedCluster.Create(settings.Nodes, settings.ClusterOptions);
        }
        else if (settings.ZooKeeper is null)
        {
            throw new InvalidOperationException(NoServers);
        }

        _telemetry = telemetry;
        Closing = _disposed.Token;

        // Started off the caller's synchronization context: the background loops it starts must never post to it.
        _ready = Task.Run(() => StartAsync(settings.Clone(), time, listener));
    }

    /// <summary>The ring; valid once <see cref="ReadyAsync"/> completed.</summary>
    public MemcachedCluster Cluster => _cluster!;

    /// <summary>The coordination bus, or null without ZooKeeper; valid once <see cref="ReadyAsync"/> completed.</summary>
    public CoordinationBus? Bus => _bus;

    /// <summary>The start: running, done, or faulted with why it failed.</summary>
    public Task Started => _ready;

    /// <summary>Cancelled when disposal begins; stays valid afterwards.</summary>
    public CancellationToken Closing { get; }

    /// <summary>Completes when ZooKeeper (if configured) is followed and the memcached connections were given their chance to open.</summary>
    public ValueTask ReadyAsync(CancellationToken cancellationToken) =>
        _ready.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(_ready.WaitAsync(cancellationToken));

    /// <summary>Stops the telemetry following the ring, then closes ZooKeeper and every memcached connection. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        try
        {
            await _ready.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A failed start already reached every caller; disposal releases what did start.
        }

        _telemetry?.Detach();

        if (_bus is not null)
        {
            await _bus.DisposeAsync().ConfigureAwait(false);
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
        }

        _disposed.Dispose();
    }

    private async Task StartAsync(DistributedCacheSettings settings, TimeProvider time, IRingListener? listener)
    {
        var clusterOptions = settings.ClusterOptions ?? new MemcachedClusterOptions();
        if (settings.ZooKeeper is { } zooKeeper)
        {
            if (_telemetry is not null)
            {
                zooKeeper = zooKeeper with { Logger = _telemetry.ZooKeeperLogger };
            }

            _bus = listener is null
                ? await CoordinationBus.StartAsync(zooKeeper, settings.Options, time, static (_, _) => { }, static () => { }, static (_, _, _) => { }, _disposed.Token).ConfigureAwait(false)
                : await CoordinationBus.StartAsync(zooKeeper, settings.Options, time, listener.OnKey, listener.OnMissed, listener.OnVersion, _disposed.Token).ConfigureAwait(false);
            _cluster ??= await MemcachedCluster.StartAsync(_bus.Root, clusterOptions, _disposed.Token).ConfigureAwait(false);
        }

        _telemetry?.Attach(_cluster!, _bus?.Root.Client);
        await _cluster!.WaitForConnectionsAsync(clusterOptions.NodeOptions.ConnectTimeout, _disposed.Token).ConfigureAwait(false);
    }
}
