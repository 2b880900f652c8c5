using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TypedCache.Diagnostics;

/// <summary>
/// TypedCache's one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named <c>TypedCache</c>, and the
/// instruments of every layer (the list is in <c>Diagnostics/README.md</c>). The hooks in the layers are one call
/// each: a counter with a static instrument and a struct tag, which allocates nothing and costs a branch when no
/// listener is attached. Tags carry type names, context names and node endpoints, never keys or values.
/// </summary>
internal static class CacheTelemetry
{
    /// <summary>The cached type's name, e.g. <c>Product</c>.</summary>
    public const string TypeTag = "typedcache.type";

    /// <summary>The cache context's class name, e.g. <c>ShopCache</c>.</summary>
    public const string ContextTag = "typedcache.context";

    /// <summary>A memcached node's <c>host:port</c>.</summary>
    public const string NodeTag = "typedcache.node";

    /// <summary>Why a stale value was served: <c>fail_safe</c>, <c>lease</c> or <c>timeout</c>.</summary>
    public const string StaleReasonTag = "typedcache.stale.reason";

    /// <summary>A ZooKeeper connection state, lower case, e.g. <c>connected</c>.</summary>
    public const string ZooKeeperStateTag = "typedcache.zookeeper.state";

    public static readonly Meter Meter = new(TypedCacheDiagnostics.MeterName);

    public static readonly ActivitySource Source = new(TypedCacheDiagnostics.ActivitySourceName);

    public static readonly Counter<long> L1Hits = Meter.CreateCounter<long>("typedcache.l1.hits", "{hit}", "Reads answered by the in-process level.");

    public static readonly Counter<long> L1Misses = Meter.CreateCounter<long>("typedcache.l1.misses", "{miss}", "Reads the in-process level could not answer.");

    public static readonly Counter<long> L2Hits = Meter.CreateCounter<long>("typedcache.l2.hits", "{hit}", "memcached reads that found a fresh value.");

    public static readonly Counter<long> L2Misses = Meter.CreateCounter<long>("typedcache.l2.misses", "{miss}", "memcached reads that found no fresh value (missing, a lease, invalidated, stale, another schema).");

    public static readonly Counter<long> LoaderCalls = Meter.CreateCounter<long>("typedcache.loader.calls", "{call}", "Loader calls (a batch loader call counts once).");

    public static readonly Histogram<double> LoaderDuration = Meter.CreateHistogram<double>("typedcache.loader.duration", "s", "How long loader calls took, until they returned or the caller stopped waiting.");

    public static readonly Counter<long> LeaseWins = Meter.CreateCounter<long>("typedcache.lease.wins", "{lease}", "Leases this process won: it loads the key for the whole cluster.");

    public static readonly Counter<long> LeaseWaits = Meter.CreateCounter<long>("typedcache.lease.waits", "{wait}", "Reads that waited for another client's lease to bring the value.");

    public static readonly Counter<long> StaleServed = Meter.CreateCounter<long>("typedcache.stale.served", "{value}", "Stale values served (fail-safe, a lease held elsewhere, a soft timeout).");

    public static readonly Counter<long> InvalidationsSent = Meter.CreateCounter<long>("typedcache.invalidations.sent", "{invalidation}", "Invalidations (keys and version bumps) this process wrote to ZooKeeper.");

    public static readonly Counter<long> InvalidationsReceived = Meter.CreateCounter<long>("typedcache.invalidations.received", "{invalidation}", "Key invalidations read from ZooKeeper's event log.");

    public static readonly Histogram<double> InvalidationLag = Meter.CreateHistogram<double>("typedcache.invalidation.lag", "s", "From the invalidating call until ZooKeeper held it (queued while ZooKeeper is away).");

    public static readonly Counter<long> RingRebuilds = Meter.CreateCounter<long>("typedcache.ring.rebuilds", "{rebuild}", "Ring swaps: membership changes, ejections and restores.");

    public static readonly Counter<long> NodesUp = Meter.CreateCounter<long>("typedcache.node.up", "{event}", "memcached nodes found answering again.");

    public static readonly Counter<long> NodesDown = Meter.CreateCounter<long>("typedcache.node.down", "{event}", "memcached nodes marked down.");

    public static readonly Histogram<double> LockWait = Meter.CreateHistogram<double>("typedcache.lock.wait", "s", "How long taking a key's ZooKeeper lock took, whether it was had or not.");

    public static readonly ObservableGauge<int> RingSize = Meter.CreateObservableGauge("typedcache.ring.size", ObserveRingSize, "{node}", "memcached nodes the ring places keys on now.");

    public static readonly ObservableGauge<int> ZooKeeperState = Meter.CreateObservableGauge(
        "typedcache.zookeeper.state", ObserveZooKeeper, "{connection}", "1 while the ZooKeeper connection is up, 0 otherwise; the state is a tag.");

    /// <summary>The engines the observable instruments read; an engine is here from its start until it is disposed.</summary>
    private static readonly ConcurrentDictionary<EngineTelemetry, byte> Engines = new();

    public static void L1Read(string type, bool hit) => (hit ? L1Hits : L1Misses).Add(1, new KeyValuePair<string, object?>(TypeTag, type));

    public static void L2Read(string type, bool hit) => (hit ? L2Hits : L2Misses).Add(1, new KeyValuePair<string, object?>(TypeTag, type));

    /// <summary>Counts a lease read: a win when <paramref name="won"/>.</summary>
    public static void LeaseRead(string type, bool won)
    {
        if (won)
        {
            LeaseWins.Add(1, new KeyValuePair<string, object?>(TypeTag, type));
        }
    }

    public static void LeaseWait(string type, int count = 1) => LeaseWaits.Add(count, new KeyValuePair<string, object?>(TypeTag, type));

    /// <summary>Counts a stale value served for <paramref name="reason"/> when <paramref name="served"/>.</summary>
    public static void Stale(string type, string reason, bool served = true)
    {
        if (served)
        {
            StaleServed.Add(1, new KeyValuePair<string, object?>(TypeTag, type), new KeyValuePair<string, object?>(StaleReasonTag, reason));
        }
    }

    /// <summary>An invalidation ZooKeeper now holds, queued at <paramref name="queuedAt"/> (a <see cref="Stopwatch"/> timestamp); <paramref name="type"/> is null for a tag.</summary>
    public static void InvalidationSent(string? type, long queuedAt)
    {
        var tag = new KeyValuePair<string, object?>(TypeTag, type);
        InvalidationsSent.Add(1, tag);
        InvalidationLag.Record(Stopwatch.GetElapsedTime(queuedAt).TotalSeconds, tag);
    }

    public static void InvalidationReceived(string type) => InvalidationsReceived.Add(1, new KeyValuePair<string, object?>(TypeTag, type));

    /// <summary>Counts a loader call and times it until the scope is disposed; an activity <c>typedcache.load</c> when listened to.</summary>
    public static TimedScope StartLoad(string type)
    {
        LoaderCalls.Add(1, new KeyValuePair<string, object?>(TypeTag, type));
        return new TimedScope(LoaderDuration, type, StartActivity("typedcache.load", ActivityKind.Internal, type));
    }

    /// <summary>Times a lock acquisition until the scope is disposed.</summary>
    public static TimedScope StartLockWait(string type) => new(LockWait, type, null);

    /// <summary>An activity around one memcached round trip (<c>typedcache.l2.get</c>, <c>typedcache.l2.get_many</c>), or null when nobody listens.</summary>
    public static Activity? StartL2(string name, string type) => StartActivity(name, ActivityKind.Client, type);

    public static void Track(EngineTelemetry engine) => Engines.TryAdd(engine, 0);

    public static void Untrack(EngineTelemetry engine) => Engines.TryRemove(engine, out _);

    private static Activity? StartActivity(string name, ActivityKind kind, string type)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(name, kind);
        activity?.SetTag(TypeTag, type);
        return activity;
    }

    private static IEnumerable<Measurement<int>> ObserveRingSize()
    {
        foreach (var engine in Engines.Keys)
        {
            if (engine.RingSize is { } size)
            {
                yield return new Measurement<int>(size, new KeyValuePair<string, object?>(ContextTag, engine.Context));
            }
        }
    }

    private static IEnumerable<Measurement<int>> ObserveZooKeeper()
    {
        foreach (var engine in Engines.Keys)
        {
            if (engine.ZooKeeperState is { } state)
            {
                yield return new Measurement<int>(
                    EngineTelemetry.IsUp(state) ? 1 : 0,
                    new KeyValuePair<string, object?>(ContextTag, engine.Context),
                    new KeyValuePair<string, object?>(ZooKeeperStateTag, EngineTelemetry.StateName(state)));
            }
        }
    }
}

/// <summary>Records the time from its creation to its disposal in a histogram, and ends its activity.</summary>
internal readonly struct TimedScope(Histogram<double> histogram, string type, Activity? activity) : IDisposable
{
    private readonly long _started = histogram.Enabled ? Stopwatch.GetTimestamp() : 0;

    public void Dispose()
    {
        if (_started != 0)
        {
            histogram.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, new KeyValuePair<string, object?>(CacheTelemetry.TypeTag, type));
        }

        activity?.Dispose();
    }
}
