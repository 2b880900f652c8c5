using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using TypedCache.Cluster;
using TypedCache.Diagnostics;
using TypedCache.Memcached;

namespace TypedCache.Caching.Distributed;

/// <summary>
/// The engine behind <c>UseMemcached(...)</c>: an in-process level (a bounded LRU per type keyed by the generated key
/// struct) over memcached (the ketama ring of the cluster client), with ZooKeeper for versions, cross-process
/// invalidation and locks when <c>UseZooKeeper(...)</c> is given.
/// </summary>
/// <remarks>
/// <para>
/// A miss is loaded once per key in the process (single-flight) and once in the cluster: the L2 read asks memcached
/// to vivify a missing item (<c>mg … N</c>), so exactly one client wins the lease (<c>W</c>) and calls the loader; the
/// others wait for its value (bounded) or take a stale one. The winner's write is conditional on the CAS it read, and
/// <see cref="InvalidateAsync"/> marks the item stale (<c>md … I</c>, which moves the CAS), so a value loaded before an
/// invalidation is never written after it.
/// </para>
/// <para>
/// L1 entries are shared instances: treat cached values as immutable (generated records are).
/// </para>
/// </remarks>
internal sealed partial class DistributedCacheEngine : ICacheEngine, IRingListener
{
    private const int MaxMemcachedRelativeTtl = 30 * 24 * 3600;
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan LastPoll = TimeSpan.FromMilliseconds(50);

    private readonly DistributedCacheOptions _options;
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly ConcurrentDictionary<CacheTypeDescriptor, object> _stores = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<string, ITypeStore> _storesByName = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _typeVersions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _tagVersions = new(StringComparer.Ordinal);
    private readonly StrongBox<long> _epoch = new();
    private readonly RingConnection _ring;

    public DistributedCacheEngine(DistributedCacheSettings settings, CacheContextOptions context)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(context);
        _options = settings.Options.Clone();
        _time = context.TimeProvider;
        _prefix = context.KeyPrefix;
        _telemetry = new EngineTelemetry(context);
        _ring = new RingConnection(settings, _time, this, _telemetry);
    }

    public long GetTypeVersion(CacheTypeDescriptor type) => Volatile.Read(ref Version(_typeVersions, type.Name).Value);

    public ValueTask<T?> GetOrLoadAsync<T, TKey, TState>(
        CacheTypeDescriptor<T, TKey> type,
        TKey key,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<T?>>? loader,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var store = Store(type);
        if (store.TryGetLocal(key, NowMs(), out var value))
        {
            CacheTelemetry.L1Read(type.Name, hit: true);
            return new ValueTask<T?>(value);
        }

        CacheTelemetry.L1Read(type.Name, hit: false);
        cancellationToken.ThrowIfCancellationRequested();
        return loader is null ? ReadAsync(store, key, cancellationToken) : SingleFlightAsync(store, key, state, loader, cancellationToken);
    }

    public async ValueTask SetAsync<T, TKey>(CacheTypeDescriptor<T, TKey> type, T value, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        ArgumentNullException.ThrowIfNull(value);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var store = Store(type);
        var key = type.KeyOf(value);
        store.InvalidateLocal(key);
        var stamp = store.Capture(key);
        var now = NowMs();
        var logicalExpiry = now + (long)type.Ttl.TotalMilliseconds;
        // L1 takes the value before memcached does, so this process's readers of the key keep hitting L1 during the
        // write instead of missing it for a round trip and re-reading memcached (where the old value may still be).
        store.PutLocal(key, value, stamp, LocalExpiry(type, now), logicalExpiry);
        try
        {
            await Cluster.SetAsync(store.MemcachedKey(key), store.Encode(value, stamp, logicalExpiry), new MemcachedStoreOptions { Ttl = L2TtlSeconds(type), ClientFlags = store.Flags }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            store.InvalidateLocal(key);
            throw;
        }

        await PublishKeyAsync(type, key, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask InvalidateAsync<T, TKey>(CacheTypeDescriptor<T, TKey> type, TKey key, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var store = Store(type);
        store.InvalidateLocal(key);
        await Cluster.DeleteAsync(store.MemcachedKey(key), new MemcachedDeleteOptions { Invalidate = true }, cancellationToken).ConfigureAwait(false);
        await PublishKeyAsync(type, key, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask InvalidateTypeAsync(CacheTypeDescriptor type, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var box = Version(_typeVersions, type.Name);
        if (_ring.Bus is not { } bus)
        {
            Interlocked.Increment(ref box.Value);
            return;
        }

        await bus.BumpAsync(Coordination.VersionKind.Type, type.Name, box, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken)
    {
        CacheNames.ThrowIfInvalid(tag, nameof(tag));
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var box = Version(_tagVersions, tag);
        if (_ring.Bus is not { } bus)
        {
            Interlocked.Increment(ref box.Value);
            return;
        }

        await bus.BumpAsync(Coordination.VersionKind.Tag, tag, box, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IAsyncDisposable> LockAsync<T, TKey>(CacheTypeDescriptor<T, TKey> type, TKey key, TimeSpan timeout, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The lock timeout must be positive, zero or infinite.");
        }

        using var waiting = CacheTelemetry.StartLockWait(type.Name);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var bus = _ring.Bus ?? throw new InvalidOperationException(
            $"Locking a {type.Name} key needs ZooKeeper: configure the context with UseZooKeeper(connectString, root).");
        return await bus.LockAsync(type.Name, TypeStore<T, TKey>.PartsText(key), timeout, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _ring.DisposeAsync();

    private MemcachedCluster Cluster => _ring.Cluster;

    private static StrongBox<long> Version(ConcurrentDictionary<string, StrongBox<long>> versions, string name) =>
        versions.GetOrAdd(name, static _ => new StrongBox<long>());

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static long LocalExpiry(CacheTypeDescriptor type, long nowMs) => nowMs + (long)type.LocalTtl.TotalMilliseconds;

    /// <summary>memcached keeps an item for its TTL plus the fail-safe window, capped at memcached's relative limit.</summary>
    private int L2TtlSeconds(CacheTypeDescriptor type) =>
        (int)Math.Min(MaxMemcachedRelativeTtl, Math.Ceiling((type.Ttl + _options.FailSafeMaxAge).TotalSeconds));

    private ValueTask ReadyAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return _ring.ReadyAsync(cancellationToken);
    }

    private TypeStore<T, TKey> Store<T, TKey>(CacheTypeDescriptor<T, TKey> type)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        if (_stores.TryGetValue(type, out var existing))
        {
            return (TypeStore<T, TKey>)existing;
        }

        var store = (TypeStore<T, TKey>)_stores.GetOrAdd(
            type,
            static (_, state) => new TypeStore<T, TKey>(
                state.type,
                state.engine._prefix,
                state.engine._options.LocalCacheMaxEntries,
                Version(state.engine._typeVersions, state.type.Name),
                [.. state.type.Tags.Select(tag => Version(state.engine._tagVersions, tag))],
                state.engine._epoch),
            (type, engine: this));
        _storesByName.TryAdd(type.Name, store);
        return store;
    }

    private async ValueTask PublishKeyAsync<T, TKey>(CacheTypeDescriptor<T, TKey> type, TKey key, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        if (_ring.Bus is { } bus)
        {
            await bus.PublishKeyAsync(type.Name, TypeStore<T, TKey>.PartsText(key), cancellationToken).ConfigureAwait(false);
        }
    }

    void IRingListener.OnKey(string type, ReadOnlySpan<byte> keyParts)
    {
        CacheTelemetry.InvalidationReceived(type);
        if (_storesByName.TryGetValue(type, out var store))
        {
            store.InvalidateLocal(keyParts);
        }
    }

    void IRingListener.OnMissed() => Interlocked.Increment(ref _epoch.Value);

    void IRingListener.OnVersion(Coordination.VersionKind kind, string name, long version)
    {
        var box = Version(kind == Coordination.VersionKind.Type ? _typeVersions : _tagVersions, name);
        RaiseTo(box, version);
    }

    /// <summary>Moves a version box forward to <paramref name="version"/>; versions never move back.</summary>
    internal static void RaiseTo(StrongBox<long> box, long version)
    {
        var current = Volatile.Read(ref box.Value);
        while (current < version)
        {
            var seen = Interlocked.CompareExchange(ref box.Value, version, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
