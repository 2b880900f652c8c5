using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
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
/// engine's in-process lifetime. An expired entry is dropped when it is next read or written.
/// </remarks>
internal sealed partial class InMemoryCacheEngine : ICacheEngine
{
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<CacheTypeDescriptor, object> _stores = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _typeVersions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _tagVersions = new(StringComparer.Ordinal);

    public InMemoryCacheEngine(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
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
        ArgumentNullException.ThrowIfNull(keys);
        cancellationToken.ThrowIfCancellationRequested();
        var store = Store(type);
        var now = _time.GetUtcNow();
        var results = new Dictionary<TKey, T>();
        var seen = new HashSet<TKey>();
        List<TKey>? misses = null;
        foreach (var key in keys)
        {
            if (!seen.Add(key))
            {
                continue;
            }

            if (store.TryRead(key, now, out var value))
            {
                results[key] = value!;
            }
            else
            {
                (misses ??= []).Add(key);
            }
        }

        if (misses is null || loader is null)
        {
            return results;
        }

        var stamp = store.Capture();
        var mine = new List<TKey>(misses.Count);
        var mineFlights = new List<Flight<T>>(misses.Count);
        List<(TKey Key, Flight<T> Flight)>? others = null;
        foreach (var key in misses)
        {
            var fresh = new Flight<T>(stamp);
            var flight = store.Flights.GetOrAdd(key, fresh);
            if (ReferenceEquals(flight, fresh))
            {
                mine.Add(key);
                mineFlights.Add(flight);
            }
            else
            {
                (others ??= []).Add((key, flight));
            }
        }

        if (mine.Count > 0)
        {
            var completed = 0;
            try
            {
                var loaded = await loader(mine, state, cancellationToken).ConfigureAwait(false);
                var loadedAt = _time.GetUtcNow();
                var byKey = new Dictionary<TKey, T>(mine.Count);
                foreach (var entity in loaded ?? [])
                {
                    if (entity is not null)
                    {
                        byKey[type.KeyOf(entity)] = entity;
                    }
                }

                for (; completed < mine.Count; completed++)
                {
                    var key = mine[completed];
                    var value = byKey.GetValueOrDefault(key);
                    store.Complete(key, mineFlights[completed], value, loadedAt);
                    if (value is not null)
                    {
                        results[key] = value;
                    }
                }
            }
            catch (Exception exception)
            {
                for (; completed < mine.Count; completed++)
                {
                    store.Fail(mine[completed], mineFlights[completed], exception);
                }

                throw;
            }
        }

        foreach (var (key, flight) in others ?? [])
        {
            var value = await flight.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (value is not null)
            {
                results[key] = value;
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
        store.Entries[key] = entry;
        return ValueTask.CompletedTask;
    }

    public ValueTask InvalidateAsync<T, TKey>(CacheTypeDescriptor<T, TKey> type, TKey key, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        cancellationToken.ThrowIfCancellationRequested();
        var store = Store(type);
        store.SupersedeFlight(key);
        store.Entries.TryRemove(key, out _);
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
        var fresh = new Flight<T>(store.Capture());
        var flight = store.Flights.GetOrAdd(key, fresh);
        if (!ReferenceEquals(flight, fresh))
        {
            return await flight.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var value = await loader(key, state, cancellationToken).ConfigureAwait(false);
            store.Complete(key, flight, value, _time.GetUtcNow());
            return value;
        }
        catch (Exception exception)
        {
            store.Fail(key, flight, exception);
            throw;
        }
    }

    /// <summary>The versions an entry was written under: the type's and each of its tags'.</summary>
    private readonly record struct Stamp(long TypeVersion, long[] TagVersions);

    /// <summary>One stored payload with its expiry and stamp.</summary>
    private sealed record Entry(byte[] Payload, ulong SchemaHash, DateTimeOffset ExpiresAt, Stamp Stamp);

    /// <summary>A load in flight for one key; waiters share its completion.</summary>
    private sealed class Flight<T>(Stamp stamp)
        where T : class
    {
        public Stamp Stamp { get; } = stamp;

        public TaskCompletionSource<T?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Set when the key is invalidated or set while loading; guarded by locking the flight.</summary>
        public bool Superseded { get; set; }
    }

    /// <summary>Everything the engine holds for one cached type.</summary>
    private sealed class TypeStore<T, TKey>(
        CacheTypeDescriptor<T, TKey> type,
        StrongBox<long> typeVersion,
        StrongBox<long>[] tagVersions)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        public CacheTypeDescriptor<T, TKey> Type { get; } = type;

        public ConcurrentDictionary<TKey, Entry> Entries { get; } = new();

        public ConcurrentDictionary<TKey, Flight<T>> Flights { get; } = new();

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
            if (!Entries.TryGetValue(key, out var entry))
            {
                return false;
            }

            if (entry.ExpiresAt <= now || entry.SchemaHash != Type.SchemaHash || !IsCurrent(entry.Stamp))
            {
                Entries.TryRemove(KeyValuePair.Create(key, entry));
                return false;
            }

            var reader = new MessagePackReader(entry.Payload);
            value = Type.Formatter.Deserialize(ref reader, MessagePackSerializerOptions.Standard);
            return true;
        }

        public Entry CreateEntry(T value, Stamp stamp, DateTimeOffset now)
        {
            var buffer = new ArrayBufferWriter<byte>();
            var writer = new MessagePackWriter(buffer);
            Type.Formatter.Serialize(ref writer, value, MessagePackSerializerOptions.Standard);
            writer.Flush();
            return new Entry(buffer.WrittenSpan.ToArray(), Type.SchemaHash, now + Type.Ttl, stamp);
        }

        /// <summary>Marks a load in flight for <paramref name="key"/> so that its result is not stored.</summary>
        public void SupersedeFlight(TKey key)
        {
            if (Flights.TryGetValue(key, out var flight))
            {
                lock (flight)
                {
                    flight.Superseded = true;
                }
            }
        }

        public void Complete(TKey key, Flight<T> flight, T? value, DateTimeOffset now)
        {
            if (value is not null)
            {
                var entry = CreateEntry(value, flight.Stamp, now);
                lock (flight)
                {
                    if (!flight.Superseded)
                    {
                        Entries[key] = entry;
                    }
                }
            }

            Flights.TryRemove(KeyValuePair.Create(key, flight));
            flight.Completion.TrySetResult(value);
        }

        public void Fail(TKey key, Flight<T> flight, Exception exception)
        {
            Flights.TryRemove(KeyValuePair.Create(key, flight));
            if (exception is OperationCanceledException canceled)
            {
                flight.Completion.TrySetCanceled(canceled.CancellationToken);
            }
            else
            {
                flight.Completion.TrySetException(exception);
            }
        }

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
