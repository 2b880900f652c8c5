using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using BitFaster.Caching.Lru;
using MessagePack;

namespace TypedCache.Caching.InMemory;

/// <summary>
/// The in-process engine behind <c>UseInMemory()</c>: entries are stored as their generated MessagePack payloads
/// (so callers never share a mutable cached object), expire by the type's TTL on the injected
/// <see cref="TimeProvider"/>, and carry the type and tag versions they were written under, so invalidating a
/// type or a tag is one increment. Misses load once per key (single-flight); locks are per key.
/// </summary>
/// <remarks>
/// One level only: the type's <see cref="CacheTypeDescriptor.Ttl"/> applies; its local TTL is the distributed
/// engine's in-process lifetime. Each type holds at most its bound of entries (<c>UseLocalCache(maxEntries)</c>,
/// <see cref="DefaultMaxEntries"/> unless set) in a bounded LRU, which drops the least recently used past it. An entry
/// that expired or was invalidated is dropped when it is next read, and a sweep on the <see cref="TimeProvider"/>
/// every <see cref="DefaultSweepInterval"/> drops the ones never read again, so keys written once do not hold memory
/// past their TTL.
/// <para>
/// A load runs under its own token, not its first caller's: a caller that gives up stops waiting, and the load
/// is cancelled only when every caller waiting for it has given up.
/// </para>
/// </remarks>
internal sealed partial class InMemoryCacheEngine : ICacheEngine
{
    /// <summary>How often expired and invalidated entries are swept when no interval is given: one minute.</summary>
    public static readonly TimeSpan DefaultSweepInterval = TimeSpan.FromMinutes(1);

    /// <summary>How many entries each cached type holds at most when no bound is given: 10,000.</summary>
    public const int DefaultMaxEntries = 10_000;

    private readonly TimeProvider _time;
    private readonly int _maxEntries;
    private readonly ITimer _sweep;
    private readonly ConcurrentDictionary<CacheTypeDescriptor, ISweepable> _stores = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _typeVersions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _tagVersions = new(StringComparer.Ordinal);

    public InMemoryCacheEngine(TimeProvider time, int maxEntries = DefaultMaxEntries)
        : this(time, maxEntries, DefaultSweepInterval)
    {
    }

    /// <param name="time">The clock of TTLs and sweeps.</param>
    /// <param name="maxEntries">The most entries each cached type holds; 0 keeps none (every read loads).</param>
    /// <param name="sweepInterval">How often expired and invalidated entries are swept.</param>
    public InMemoryCacheEngine(TimeProvider time, int maxEntries, TimeSpan sweepInterval)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(sweepInterval, TimeSpan.Zero);
        _time = time;
        _maxEntries = maxEntries;

        // The timer holds the engine weakly, so an engine dropped without DisposeAsync can still be collected.
        _sweep = time.CreateTimer(
            static state =>
            {
                if (((WeakReference<InMemoryCacheEngine>)state!).TryGetTarget(out var engine))
                {
                    engine.Sweep();
                }
            },
            new WeakReference<InMemoryCacheEngine>(this),
            sweepInterval,
            sweepInterval);
    }

    /// <summary>How many entries the engine holds, expired ones not yet swept included.</summary>
    internal int EntryCount => _stores.Values.Sum(static store => store.Count);

    /// <summary>Drops every entry that expired or was invalidated, read or not.</summary>
    internal void Sweep()
    {
        var now = _time.GetUtcNow();
        foreach (var store in _stores.Values)
        {
            store.Sweep(now);
        }
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
        cancellationToken.ThrowIfCancellationRequested();
        var store = Store(type);
        if (store.TryRead(key, _time.GetUtcNow(), out var value) || loader is null)
        {
            return new ValueTask<T?>(value);
        }

        return LoadAsync(store, key, state, loader, cancellationToken);
    }

    public async ValueTask<IReadOnlyDictionary<TKey, T>> GetOrLoadManyAsync<T, TKey, TState>(
        CacheTypeDescriptor<T, TKey> type,
        IEnumerable<TKey> keys,
        TState state,
        Func<IReadOnlyList<TKey>, TState, CancellationToken, ValueTask<IEnumerable<T>>>? loader,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        cancellationToken.ThrowIfCancellationRequested();
        var store = Store(type);
        var results = new Dictionary<TKey, T>();
        var misses = CacheBatch.Partition(keys, new LocalRead<T, TKey>(store, _time.GetUtcNow()), results);
        if (misses is null || loader is null)
        {
            return results;
        }

        var flights = Join(store, misses, out var load, out var owned);
        if (owned is not null)
        {
            _ = RunLoadAsync(store, load!, owned, async token =>
            {
                var keys = owned.ConvertAll(static o => o.Key);
                var loaded = await loader(keys, state, token).ConfigureAwait(false);
                var byKey = new Dictionary<TKey, T>(keys.Count);
                foreach (var entity in loaded ?? [])
                {
                    if (entity is not null)
                    {
                        byKey[type.KeyOf(entity)] = entity;
                    }
                }

                return byKey;
            });
        }

        for (var i = 0; i < flights.Count; i++)
        {
            T? value;
            try
            {
                value = await flights[i].Flight.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Given up (or failed): stop counting as a waiter of the flights not completed yet.
                for (var j = i; j < flights.Count; j++)
                {
                    flights[j].Flight.Leave();
                }

                throw;
            }

            if (value is not null)
            {
                results[flights[i].Key] = value;
            }
        }

        return results;
    }

    public ValueTask SetAsync<T, TKey>(CacheTypeDescriptor<T, TKey> type, T value, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        ArgumentNullException.ThrowIfNull(value);
        cancellationToken.ThrowIfCancellationRequested();
        var store = Store(type);
        var key = type.KeyOf(value);
        var entry = store.CreateEntry(value, store.Capture(), _time.GetUtcNow());
        store.SupersedeFlight(key);
        store.Put(key, entry);
        return ValueTask.CompletedTask;
    }

    public ValueTask InvalidateAsync<T, TKey>(CacheTypeDescriptor<T, TKey> type, TKey key, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        cancellationToken.ThrowIfCancellationRequested();
        var store = Store(type);
        store.SupersedeFlight(key);
        store.Remove(key);
        return ValueTask.CompletedTask;
    }

    public ValueTask InvalidateTypeAsync(CacheTypeDescriptor type, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref Version(_typeVersions, type.Name).Value);
        return ValueTask.CompletedTask;
    }

    public ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken)
    {
        CacheNames.ThrowIfInvalid(tag, nameof(tag));
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref Version(_tagVersions, tag).Value);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _sweep.Dispose();
        _stores.Clear();
        return ValueTask.CompletedTask;
    }

    private static StrongBox<long> Version(ConcurrentDictionary<string, StrongBox<long>> versions, string name) =>
        versions.GetOrAdd(name, static _ => new StrongBox<long>());

    private TypeStore<T, TKey> Store<T, TKey>(CacheTypeDescriptor<T, TKey> type)
        where T : class
        where TKey : struct, ICacheKey<TKey> =>
        (TypeStore<T, TKey>)_stores.GetOrAdd(
            type,
            static (_, state) => new TypeStore<T, TKey>(
                state.type,
                state.engine._maxEntries,
                Version(state.engine._typeVersions, state.type.Name),
                [.. state.type.Tags.Select(tag => Version(state.engine._tagVersions, tag))]),
            (type, engine: this));

    private async ValueTask<T?> LoadAsync<T, TKey, TState>(
        TypeStore<T, TKey> store,
        TKey key,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<T?>> loader,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var flight = Join(store, [key], out var load, out var owned)[0].Flight;
        if (owned is not null)
        {
            _ = RunLoadAsync(store, load!, owned, async token =>
            {
                var value = await loader(key, state, token).ConfigureAwait(false);
                return value is null ? [] : new Dictionary<TKey, T> { [key] = value };
            });
        }

        try
        {
            return await flight.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            flight.Leave();
            throw;
        }
    }

    /// <summary>
    /// Joins the load in flight for each key, or starts a flight of a new <paramref name="load"/> for it (an
    /// abandoned flight is replaced). <paramref name="owned"/> lists the flights the caller must load, with
    /// <paramref name="load"/>; both are null if every key had a flight to join.
    /// </summary>
    private static List<(TKey Key, LoadFlight<T> Flight)> Join<T, TKey>(
        TypeStore<T, TKey> store,
        IReadOnlyList<TKey> keys,
        out Load? load,
        out List<(TKey Key, LoadFlight<T> Flight)>? owned)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        load = null;
        owned = null;
        var stamp = store.Capture();
        var flights = new List<(TKey, LoadFlight<T>)>(keys.Count);
        foreach (var key in keys)
        {
            while (true)
            {
                if (store.Flights.TryGetValue(key, out var current) && current.Load.TryJoin())
                {
                    flights.Add((key, current));
                    break;
                }

                // The caller's wait counts before the flight is visible, so no one else can abandon the load first.
                load ??= new Load();
                var fresh = new LoadFlight<T>(stamp, load);
                load.Enter();
                if (current is null ? store.Flights.TryAdd(key, fresh) : store.Flights.TryUpdate(key, fresh, current))
                {
                    (owned ??= []).Add((key, fresh));
                    flights.Add((key, fresh));
                    break;
                }

                load.Exit();
            }
        }

        return flights;
    }

    /// <summary>
    /// Runs one load for <paramref name="owned"/> under <paramref name="load"/>'s token and completes their
    /// flights: with the value loaded for each key (null if none), or with the load's failure.
    /// </summary>
    private async Task RunLoadAsync<T, TKey>(
        TypeStore<T, TKey> store,
        Load load,
        List<(TKey Key, LoadFlight<T> Flight)> owned,
        Func<CancellationToken, ValueTask<Dictionary<TKey, T>>> run)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var completed = 0;
        try
        {
            // Off the caller's stack, so a loader that blocks before its first await does not block the caller.
            await Task.Yield();
            var loaded = await run(load.Token).ConfigureAwait(false);
            var loadedAt = _time.GetUtcNow();
            for (; completed < owned.Count; completed++)
            {
                var (key, flight) = owned[completed];
                store.Complete(key, flight, loaded.GetValueOrDefault(key), loadedAt);
            }
        }
        catch (Exception exception)
        {
            for (; completed < owned.Count; completed++)
            {
                store.Fail(owned[completed].Key, owned[completed].Flight, exception);
            }
        }
        finally
        {
            load.Dispose();
        }
    }

    /// <summary>The versions an entry was written under: the type's and each of its tags'.</summary>
    private readonly record struct Stamp(long TypeVersion, long[] TagVersions);

    /// <summary>One stored payload with its expiry and stamp.</summary>
    private sealed record Entry(byte[] Payload, ulong SchemaHash, DateTimeOffset ExpiresAt, Stamp Stamp);

    /// <summary>
    /// One loader call, for one key or a batch: its token is cancelled only when every caller waiting for one
    /// of its flights has given up. It counts the waits; once abandoned, no one can join it.
    /// </summary>
    private sealed class Load : IDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private int _waiters;
        private bool _abandoned;
        private bool _finished;

        public CancellationToken Token => _cancel.Token;

        /// <summary>Counts one more wait; false when the load was abandoned (the caller starts another).</summary>
        public bool TryJoin()
        {
            lock (_cancel)
            {
                if (_abandoned)
                {
                    return false;
                }

                _waiters++;
                return true;
            }
        }

        /// <summary>Counts the wait of the caller that is starting this load.</summary>
        public void Enter()
        {
            lock (_cancel)
            {
                _waiters++;
            }
        }

        /// <summary>Uncounts <see cref="Enter"/> when the caller's flight lost the race to another one.</summary>
        public void Exit()
        {
            lock (_cancel)
            {
                _waiters--;
            }
        }

        /// <summary>One wait gave up; the last one to give up cancels the load.</summary>
        public void Leave()
        {
            lock (_cancel)
            {
                if (--_waiters > 0 || _finished)
                {
                    return;
                }

                _abandoned = true;
                _cancel.Cancel();
            }
        }

        public void Dispose()
        {
            lock (_cancel)
            {
                _finished = true;
                _cancel.Dispose();
            }
        }
    }

    /// <summary>A load in flight for one key, with the stamp its value is stored under and the load it belongs to.</summary>
    private sealed class LoadFlight<T>(Stamp stamp, Load load) : Flight<T>
        where T : class
    {
        public Stamp Stamp { get; } = stamp;

        public Load Load { get; } = load;

        /// <summary>Set when the key is invalidated or set while loading; guarded by locking the flight.</summary>
        public bool Superseded { get; set; }

        /// <summary>A waiter gave up before the flight completed.</summary>
        public void Leave()
        {
            if (!IsCompleted)
            {
                Load.Leave();
            }
        }
    }

    /// <summary>A type's in-process entries at one instant, as <see cref="CacheBatch.Partition"/> reads them.</summary>
    private readonly struct LocalRead<T, TKey>(TypeStore<T, TKey> store, DateTimeOffset now) : ILocalLevel<TKey, T>
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        public bool TryRead(in TKey key, out T? value) => store.TryRead(key, now, out value);
    }

    /// <summary>A type's store as the sweep sees it.</summary>
    private interface ISweepable
    {
        int Count { get; }

        /// <summary>Drops the entries that expired by <paramref name="now"/> or were invalidated.</summary>
        void Sweep(DateTimeOffset now);
    }

    /// <summary>Everything the engine holds for one cached type.</summary>
    private sealed class TypeStore<T, TKey>(
        CacheTypeDescriptor<T, TKey> type,
        int maxEntries,
        StrongBox<long> typeVersion,
        StrongBox<long>[] tagVersions) : ISweepable
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        /// <summary>The entries, bounded by count (least recently used out first); null when the bound is 0.</summary>
        private readonly ConcurrentLru<TKey, Entry>? _entries = maxEntries == 0 ? null : new(Math.Max(maxEntries, 3));

        public CacheTypeDescriptor<T, TKey> Type { get; } = type;

        public int Count => _entries?.Count ?? 0;

        public ConcurrentDictionary<TKey, LoadFlight<T>> Flights { get; } = new();

        public LockTable<TKey> Locks { get; } = new();

        public Stamp Capture()
        {
            var tags = tagVersions.Length == 0 ? [] : new long[tagVersions.Length];
            for (var i = 0; i < tags.Length; i++)
            {
                tags[i] = Volatile.Read(ref tagVersions[i].Value);
            }

            return new Stamp(Volatile.Read(ref typeVersion.Value), tags);
        }

        public bool TryRead(TKey key, DateTimeOffset now, out T? value)
        {
            value = null;
            if (_entries is null || !_entries.TryGet(key, out var entry))
            {
                return false;
            }

            if (IsDead(entry, now))
            {
                _entries.TryRemove(KeyValuePair.Create(key, entry));
                return false;
            }

            var reader = new MessagePackReader(entry.Payload);
            value = Type.Formatter.Deserialize(ref reader, MessagePackSerializerOptions.Standard);
            return true;
        }

        public void Sweep(DateTimeOffset now)
        {
            if (_entries is null)
            {
                return;
            }

            foreach (var pair in _entries)
            {
                if (IsDead(pair.Value, now))
                {
                    _entries.TryRemove(pair);
                }
            }
        }

        public void Put(TKey key, Entry entry) => _entries?.AddOrUpdate(key, entry);

        public void Remove(TKey key) => _entries?.TryRemove(key);

        public Entry CreateEntry(T value, Stamp stamp, DateTimeOffset now)
        {
            var buffer = new ArrayBufferWriter<byte>();
            var writer = new MessagePackWriter(buffer);
            Type.Formatter.Serialize(ref writer, value, MessagePackSerializerOptions.Standard);
            writer.Flush();
            return new Entry(buffer.WrittenSpan.ToArray(), Type.SchemaHash, now + Type.Ttl, stamp);
        }

        /// <summary>
        /// Detaches the load in flight for <paramref name="key"/>: its result is not stored and goes only to the callers
        /// that joined it before; later callers start a fresh load.
        /// </summary>
        public void SupersedeFlight(TKey key)
        {
            if (Flights.TryGetValue(key, out var flight))
            {
                lock (flight)
                {
                    flight.Superseded = true;
                }

                Flights.TryRemove(KeyValuePair.Create(key, flight));
            }
        }

        public void Complete(TKey key, LoadFlight<T> flight, T? value, DateTimeOffset now)
        {
            if (value is not null && _entries is not null)
            {
                var entry = CreateEntry(value, flight.Stamp, now);
                lock (flight)
                {
                    if (!flight.Superseded)
                    {
                        _entries.AddOrUpdate(key, entry);
                    }
                }
            }

            flight.Complete(Flights, key, value);
        }

        public void Fail(TKey key, LoadFlight<T> flight, Exception exception) => flight.Fail(Flights, key, exception);

        private bool IsDead(Entry entry, DateTimeOffset now) =>
            entry.ExpiresAt <= now || entry.SchemaHash != Type.SchemaHash || !IsCurrent(entry.Stamp);

        private bool IsCurrent(Stamp stamp)
        {
            if (stamp.TypeVersion != Volatile.Read(ref typeVersion.Value))
            {
                return false;
            }

            for (var i = 0; i < tagVersions.Length; i++)
            {
                if (stamp.TagVersions[i] != Volatile.Read(ref tagVersions[i].Value))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
