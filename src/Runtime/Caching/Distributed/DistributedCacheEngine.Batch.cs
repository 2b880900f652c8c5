using TypedCache.Cluster;
using TypedCache.Diagnostics;

namespace TypedCache.Caching.Distributed;

internal sealed partial class DistributedCacheEngine
{
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
        var now = NowMs();
        var results = new Dictionary<TKey, T>();
        var seen = new HashSet<TKey>();
        List<TKey>? misses = null;
        foreach (var key in keys)
        {
            if (!seen.Add(key))
            {
                continue;
            }

            var hit = store.TryGetLocal(key, now, out var value);
            CacheTelemetry.L1Read(type.Name, hit);
            if (hit)
            {
                results[key] = value!;
            }
            else
            {
                (misses ??= []).Add(key);
            }
        }

        if (misses is null)
        {
            return results;
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        if (loader is null)
        {
            await ReadManyAsync(store, misses, results, cancellationToken).ConfigureAwait(false);
            return results;
        }

        var mine = new List<(TKey Key, Flight<T> Flight)>(misses.Count);
        List<(TKey Key, Flight<T> Flight)>? others = null;
        foreach (var key in misses)
        {
            var fresh = new Flight<T>();
            var flight = store.Flights.GetOrAdd(key, fresh);
            if (ReferenceEquals(flight, fresh))
            {
                mine.Add((key, flight));
            }
            else
            {
                (others ??= []).Add((key, flight));
            }
        }

        if (mine.Count > 0)
        {
            await ResolveManyAsync(store, mine, results, state, loader, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (key, flight) in others ?? [])
        {
            if (await flight.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false) is { } value)
            {
                results[key] = value;
            }
        }

        return results;
    }

    private async ValueTask ReadManyAsync<T, TKey>(TypeStore<T, TKey> store, List<TKey> keys, Dictionary<TKey, T> results, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var stamps = keys.Select(key => store.Capture(key)).ToArray();
        var memcachedKeys = keys.Select(key => (ReadOnlyMemory<byte>)store.MemcachedKey(key)).ToArray();
        using var activity = CacheTelemetry.StartL2("typedcache.l2.get_many", store.Type.Name);
        using var batch = await Cluster.GetManyAsync(memcachedKeys, default, cancellationToken).ConfigureAwait(false);
        var now = NowMs();
        for (var i = 0; i < keys.Count; i++)
        {
            if (batch.SourceOf(i) == ReplySource.Unavailable)
            {
                continue;
            }

            var read = Classify(store, batch[i], keepStale: false);
            if (read.State == L2State.Fresh)
            {
                results[keys[i]] = read.Value!;
                store.PutLocal(keys[i], read.Value!, stamps[i], LocalExpiry(store.Type, now), read.LogicalExpiryMs);
            }
        }
    }

    /// <summary>
    /// The batch form of <see cref="ResolveAsync"/>: one pipelined lease read per node, one loader call for every key
    /// this client must load, then the conditional writes pipelined.
    /// </summary>
    private async ValueTask ResolveManyAsync<T, TKey, TState>(
        TypeStore<T, TKey> store,
        List<(TKey Key, Flight<T> Flight)> mine,
        Dictionary<TKey, T> results,
        TState state,
        Func<IReadOnlyList<TKey>, TState, CancellationToken, ValueTask<IEnumerable<T>>> loader,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var done = new bool[mine.Count];
        void Complete(int i, T? value)
        {
            done[i] = true;
            store.Finish(mine[i].Key, mine[i].Flight, value);
            if (value is not null)
            {
                results[mine[i].Key] = value;
            }
        }

        try
        {
            var stamps = mine.Select(m => store.Capture(m.Key)).ToArray();
            var memcachedKeys = mine.Select(m => store.MemcachedKey(m.Key)).ToArray();
            var reads = new L2Read<T>[mine.Count];
            using (CacheTelemetry.StartL2("typedcache.l2.get_many", store.Type.Name))
            using (var batch = await Cluster.GetManyAsync([.. memcachedKeys.Select(k => (ReadOnlyMemory<byte>)k)], LeaseOptionsFor(store.Type), cancellationToken).ConfigureAwait(false))
            {
                for (var i = 0; i < reads.Length; i++)
                {
                    reads[i] = batch.SourceOf(i) == ReplySource.Unavailable ? default : Classify(store, batch[i], keepStale: true);
                }
            }

            var now = NowMs();
            var toLoad = new List<(int Index, L2Target Target)>();
            var waiting = new List<int>();
            for (var i = 0; i < reads.Length; i++)
            {
                var read = reads[i];
                CacheTelemetry.LeaseRead(store.Type.Name, read.Won);
                if (read.State == L2State.Fresh)
                {
                    store.PutLocal(mine[i].Key, read.Value!, stamps[i], LocalExpiry(store.Type, now), read.LogicalExpiryMs);
                    Complete(i, read.Value);
                }
                else if (!read.Available || read.Won || !read.LeaseTaken)
                {
                    toLoad.Add((i, new L2Target(memcachedKeys[i], read.Available ? read.Cas : 0, read.Available)));
                }
                else if (read.State == L2State.Stale)
                {
                    CacheTelemetry.Stale(store.Type.Name, "lease");
                    Complete(i, read.Value);
                }
                else
                {
                    waiting.Add(i);
                }
            }

            if (waiting.Count > 0)
            {
                CacheTelemetry.LeaseWait(store.Type.Name, waiting.Count);
                var waited = await Task.WhenAll(waiting.Select(i => WaitForLeaseHolderAsync(store, memcachedKeys[i], cancellationToken).AsTask())).ConfigureAwait(false);
                for (var w = 0; w < waiting.Count; w++)
                {
                    var i = waiting[w];
                    if (waited[w] is { } read)
                    {
                        store.PutLocal(mine[i].Key, read.Value!, stamps[i], LocalExpiry(store.Type, NowMs()), read.LogicalExpiryMs);
                        Complete(i, read.Value);
                    }
                    else
                    {
                        toLoad.Add((i, new L2Target(memcachedKeys[i], 0, Write: false)));
                    }
                }
            }

            if (toLoad.Count == 0)
            {
                return;
            }

            IEnumerable<T> loaded;
            try
            {
                using var loadingScope = CacheTelemetry.StartLoad(store.Type.Name);
                loaded = await loader([.. toLoad.Select(l => mine[l.Index].Key)], state, cancellationToken).ConfigureAwait(false) ?? [];
            }
            catch (Exception exception) when (exception is not OperationCanceledException && toLoad.All(l => reads[l.Index].Value is not null))
            {
                CacheLog.ServedStale(_telemetry.Logger, store.Type.Name, exception.GetType().Name);
                foreach (var (i, target) in toLoad)
                {
                    Complete(i, await ServeStaleAsync(store, mine[i].Key, stamps[i], target, reads[i]).ConfigureAwait(false));
                }

                return;
            }

            var byKey = new Dictionary<TKey, T>(toLoad.Count);
            foreach (var entity in loaded)
            {
                if (entity is not null)
                {
                    byKey[store.Type.KeyOf(entity)] = entity;
                }
            }

            var writes = toLoad.Select(l => StoreAsync(store, mine[l.Index].Key, stamps[l.Index], l.Target, byKey.GetValueOrDefault(mine[l.Index].Key), CancellationToken.None).AsTask()).ToArray();
            await Task.WhenAll(writes).ConfigureAwait(false);
            foreach (var (i, _) in toLoad)
            {
                Complete(i, byKey.GetValueOrDefault(mine[i].Key));
            }
        }
        catch (Exception exception)
        {
            for (var i = 0; i < mine.Count; i++)
            {
                if (!done[i])
                {
                    store.Abort(mine[i].Key, mine[i].Flight, exception);
                }
            }

            throw;
        }
    }
}
