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
        cancellationToken.ThrowIfCancellationRequested();
        var store = Store(type);
        var results = new Dictionary<TKey, T>();
        var misses = CacheBatch.Partition(keys, new LocalRead<T, TKey>(store, NowMs()), results);
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

        var mine = new List<(TKey Key, KeyFlight<T> Flight)>(misses.Count);
        List<(TKey Key, KeyFlight<T> Flight, FlightStage Joined)>? others = null;
        foreach (var key in misses)
        {
            var flight = store.JoinFlight(key, out var owner);
            if (owner)
            {
                mine.Add((key, flight));
            }
            else
            {
                (others ??= []).Add((key, flight, flight.Stage));
            }
        }

        if (mine.Count > 0)
        {
            await ResolveManyAsync(store, mine, results, state, loader, cancellationToken).ConfigureAwait(false);
        }

        // As in a single read-through: a key whose flight's outcome does not bind this call (or whose flight was abandoned
        // by the cancellation of the caller running it) joins the key's next flight, which began after this call joined
        // the last one, so its outcome binds. Every flight of a round is waited for before this call starts any: a wait
        // that throws then leaves no flight of this call's without an outcome.
        var pending = others?.ConvertAll(o => (o.Key, o.Flight, o.Joined, Binds: false));
        while (pending is { Count: > 0 })
        {
            var rejoin = new List<TKey>();
            foreach (var (key, flight, joined, binds) in pending)
            {
                try
                {
                    var value = await flight.WaitAsync(cancellationToken).ConfigureAwait(false);
                    if (binds || flight.Binds(joined))
                    {
                        Found(results, key, value);
                        continue;
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && flight.Abandoned)
                {
                    // The caller running the flight was cancelled, not this one.
                }

                rejoin.Add(key);
            }

            List<(TKey Key, KeyFlight<T> Flight)>? again = null;
            pending = [];
            foreach (var key in rejoin)
            {
                var later = store.JoinFlight(key, out var owner);
                if (owner)
                {
                    (again ??= []).Add((key, later));
                }
                else
                {
                    pending.Add((key, later, later.Stage, true));
                }
            }

            if (again is not null)
            {
                await ResolveManyAsync(store, again, results, state, loader, cancellationToken).ConfigureAwait(false);
            }
        }

        return results;
    }

    private static void Found<T, TKey>(Dictionary<TKey, T> results, TKey key, T? value)
        where T : class
        where TKey : notnull
    {
        if (value is not null)
        {
            results[key] = value;
        }
    }

    private async ValueTask ReadManyAsync<T, TKey>(TypeStore<T, TKey> store, List<TKey> keys, Dictionary<TKey, T> results, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var stamps = keys.Select(key => store.Capture(key)).ToArray();
        var memcachedKeys = keys.Select(key => (ReadOnlyMemory<byte>)store.MemcachedKey(key)).ToArray();
        List<L2Target>? won = null;
        using (CacheTelemetry.StartL2("typedcache.l2.get_many", store.Type.Name))
        using (var batch = await Cluster.GetManyAsync(memcachedKeys, default, UncancelledRead).ConfigureAwait(false))
        {
            var now = NowMs();
            for (var i = 0; i < keys.Count; i++)
            {
                if (batch.SourceOf(i) == ReplySource.Unavailable)
                {
                    continue;
                }

                var read = Classify(store, batch[i], keepEnvelope: false);
                if (read.Won)
                {
                    (won ??= []).Add(new L2Target(store.MemcachedKey(keys[i]), read.Cas, Write: true));
                }

                if (read.State == L2State.Fresh)
                {
                    results[keys[i]] = read.Value!;
                    store.PutLocal(keys[i], read.Value!, stamps[i], LocalExpiry(store.Type, now), read.LogicalExpiryMs);
                }
            }
        }

        if (won is not null)
        {
            await ReleaseLeasesAsync(won).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The batch form of <see cref="ResolveAsync"/>: one pipelined lease read per node, one loader call for every key
    /// this client must load, then the conditional writes pipelined.
    /// </summary>
    private async ValueTask ResolveManyAsync<T, TKey, TState>(
        TypeStore<T, TKey> store,
        List<(TKey Key, KeyFlight<T> Flight)> mine,
        Dictionary<TKey, T> results,
        TState state,
        Func<IReadOnlyList<TKey>, TState, CancellationToken, ValueTask<IEnumerable<T>>> loader,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var done = new bool[mine.Count];
        void Complete(int i, in Resolved<T> outcome)
        {
            done[i] = true;
            mine[i].Flight.Complete(store.Flights, mine[i].Key, outcome);
            if (outcome.Value is { } value)
            {
                results[mine[i].Key] = value;
            }
        }

        try
        {
            var stamps = mine.Select(m => store.Capture(m.Key)).ToArray();
            var memcachedKeys = mine.Select(m => store.MemcachedKey(m.Key)).ToArray();
            var reads = new L2Read<T>[mine.Count];
            mine.ForEach(m => m.Flight.Enter(FlightStage.Reading));
            using (CacheTelemetry.StartL2("typedcache.l2.get_many", store.Type.Name))
            using (var batch = await Cluster.GetManyAsync([.. memcachedKeys.Select(k => (ReadOnlyMemory<byte>)k)], LeaseOptionsFor(store.Type), UncancelledRead).ConfigureAwait(false))
            {
                for (var i = 0; i < reads.Length; i++)
                {
                    reads[i] = batch.SourceOf(i) == ReplySource.Unavailable ? default : Classify(store, batch[i], keepEnvelope: true);
                }
            }

            var now = NowMs();
            var toLoad = new List<(int Index, L2Target Target)>();
            var waiting = new List<int>();
            List<(TKey Key, Stamp Stamp, L2Target Target, L2Read<T> Read)>? refresh = null;
            for (var i = 0; i < reads.Length; i++)
            {
                var read = reads[i];
                CacheTelemetry.LeaseRead(store.Type.Name, read.Won);
                if (read.State == L2State.Fresh)
                {
                    store.PutLocal(mine[i].Key, read.Value!, stamps[i], LocalExpiry(store.Type, now), read.LogicalExpiryMs);
                    Complete(i, Resolved<T>.Read(read.Value));
                    if (read.Won)
                    {
                        (refresh ??= []).Add((mine[i].Key, stamps[i], new L2Target(memcachedKeys[i], read.Cas, Write: true), read));
                    }
                }
                else if (!read.Available || read.Won || !read.LeaseTaken)
                {
                    toLoad.Add((i, new L2Target(memcachedKeys[i], read.Available ? read.Cas : 0, read.Available)));
                }
                else if (read.State == L2State.Stale)
                {
                    CacheTelemetry.Stale(store.Type.Name, "lease");
                    Complete(i, Resolved<T>.Read(read.Value));
                }
                else
                {
                    waiting.Add(i);
                }
            }

            if (refresh is not null)
            {
                _ = RefreshManyInBackgroundAsync(store, refresh, state, loader);
            }

            if (waiting.Count > 0)
            {
                CacheTelemetry.LeaseWait(store.Type.Name, waiting.Count);
                var waits = waiting.ConvertAll(i => WaitForLeaseHolderAsync(store, memcachedKeys[i], cancellationToken).AsTask());
                L2Read<T>?[] waited;
                try
                {
                    waited = await Task.WhenAll(waits).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Cancelled while waiting: the leases this batch won, on its read or in a poll meanwhile, are handed
                    // back, as a failed load would.
                    await ReleaseLeasesAsync(toLoad.Select(l => l.Target).Concat(Enumerable.Range(0, waits.Count)
                        .Where(w => waits[w].IsCompletedSuccessfully && waits[w].Result is { Won: true })
                        .Select(w => new L2Target(memcachedKeys[waiting[w]], waits[w].Result!.Value.Cas, Write: true)))).ConfigureAwait(false);
                    throw;
                }

                for (var w = 0; w < waiting.Count; w++)
                {
                    var i = waiting[w];
                    if (waited[w] is { State: L2State.Fresh } read)
                    {
                        store.PutLocal(mine[i].Key, read.Value!, stamps[i], LocalExpiry(store.Type, NowMs()), read.LogicalExpiryMs);
                        Complete(i, Resolved<T>.Read(read.Value));
                    }
                    else
                    {
                        toLoad.Add((i, waited[w] is { Won: true } won ? new L2Target(memcachedKeys[i], won.Cas, Write: true) : new L2Target(memcachedKeys[i], 0, Write: false)));
                    }
                }
            }

            if (toLoad.Count == 0)
            {
                return;
            }

            // Like a single load, as one: the soft timeout and fail-safe apply when every key to load has a stale value.
            var keys = toLoad.ConvertAll(l => mine[l.Index].Key);
            var allStale = toLoad.TrueForAll(l => reads[l.Index].Value is not null);
            var timeout = LoaderTimeout(allStale);
            Timed<IEnumerable<T>> timed;
            try
            {
                using var loadingScope = CacheTelemetry.StartLoad(store.Type.Name);
                timed = await WithinAsync(loader(keys, state, cancellationToken), timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException && allStale)
            {
                CacheLog.ServedStale(_telemetry.Logger, store.Type.Name, exception.GetType().Name);
                foreach (var (i, target) in toLoad)
                {
                    Complete(i, Resolved<T>.Read(await ServeStaleAsync(store, mine[i].Key, stamps[i], target, reads[i]).ConfigureAwait(false)));
                }

                return;
            }
            catch (Exception)
            {
                await ReleaseLeasesAsync(toLoad.Select(l => l.Target)).ConfigureAwait(false);
                throw;
            }

            var targets = toLoad.ConvertAll(l => (mine[l.Index].Key, stamps[l.Index], l.Target));
            if (timed.Late is { } late)
            {
                _ = StoreManyWhenLoadedAsync(late, store, targets);
                CacheTelemetry.Stale(store.Type.Name, "timeout", served: allStale);
                if (!allStale)
                {
                    throw new TimeoutException(
                        $"The loader of {keys.Count} {store.Type.Name} keys did not finish within {timeout}; it goes on in the background.");
                }

                foreach (var (i, _) in toLoad)
                {
                    Complete(i, Resolved<T>.Read(reads[i].Value));
                }

                return;
            }

            toLoad.ForEach(l => mine[l.Index].Flight.Enter(FlightStage.Storing));
            var stored = await StoreManyAsync(store, targets, timed.Result).ConfigureAwait(false);
            for (var l = 0; l < toLoad.Count; l++)
            {
                Complete(toLoad[l].Index, stored[l]);
            }
        }
        catch (Exception exception)
        {
            for (var i = 0; i < mine.Count; i++)
            {
                if (!done[i])
                {
                    mine[i].Flight.Fail(store.Flights, mine[i].Key, exception, cancellationToken);
                }
            }

            throw;
        }
    }

    /// <summary>Stores what a batch loader returned, each target conditionally as a single load would; returns each target's outcome.</summary>
    private async ValueTask<Resolved<T>[]> StoreManyAsync<T, TKey>(TypeStore<T, TKey> store, List<(TKey Key, Stamp Stamp, L2Target Target)> targets, IEnumerable<T>? loaded)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var byKey = new Dictionary<TKey, T>(targets.Count);
        foreach (var entity in loaded ?? [])
        {
            if (entity is not null)
            {
                byKey[store.Type.KeyOf(entity)] = entity;
            }
        }

        var writes = new Task<bool>[targets.Count];
        for (var i = 0; i < writes.Length; i++)
        {
            var (key, stamp, target) = targets[i];
            writes[i] = StoreAsync(store, key, stamp, target, byKey.GetValueOrDefault(key), CancellationToken.None).AsTask();
        }

        var confirmed = await Task.WhenAll(writes).ConfigureAwait(false);
        var outcomes = new Resolved<T>[targets.Count];
        for (var i = 0; i < outcomes.Length; i++)
        {
            outcomes[i] = new Resolved<T>(byKey.GetValueOrDefault(targets[i].Key), confirmed[i]);
        }

        return outcomes;
    }

    private async Task StoreManyWhenLoadedAsync<T, TKey>(Task<IEnumerable<T>> loading, TypeStore<T, TKey> store, List<(TKey Key, Stamp Stamp, L2Target Target)> targets)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        try
        {
            await StoreManyAsync(store, targets, await LoadedOrReleasedAsync(loading, targets.Select(t => t.Target)).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A background batch load that fails leaves the stale values (or nothing) in place; the next misses retry.
        }
    }

    /// <summary>The batch form of <see cref="RefreshInBackgroundAsync"/>: reloads the fresh keys whose reads won the early-refresh lease.</summary>
    private async Task RefreshManyInBackgroundAsync<T, TKey, TState>(
        TypeStore<T, TKey> store,
        List<(TKey Key, Stamp Stamp, L2Target Target, L2Read<T> Read)> refresh,
        TState state,
        Func<IReadOnlyList<TKey>, TState, CancellationToken, ValueTask<IEnumerable<T>>> loader)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        try
        {
            IEnumerable<T> loaded;
            using (CacheTelemetry.StartLoad(store.Type.Name))
            {
                loaded = await loader(refresh.ConvertAll(r => r.Key), state, _ring.Closing).ConfigureAwait(false);
            }

            await StoreManyAsync(store, refresh.ConvertAll(r => (r.Key, r.Stamp, r.Target)), loaded).ConfigureAwait(false);
            return;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // An eager refresh that fails leaves the current values, and hands their wins back after the throttle below.
        }

        await RetryRefreshLaterAsync(store, refresh.ConvertAll(r => (r.Target, r.Read))).ConfigureAwait(false);
    }

    /// <summary>A type's L1 at one instant, as <see cref="CacheBatch.Partition"/> reads it.</summary>
    private readonly struct LocalRead<T, TKey>(TypeStore<T, TKey> store, long nowMs) : ILocalLevel<TKey, T>
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        public bool TryRead(in TKey key, out T? value)
        {
            var hit = store.TryGetLocal(key, nowMs, out value);
            CacheTelemetry.L1Read(store.Type.Name, hit);
            return hit;
        }
    }
}
