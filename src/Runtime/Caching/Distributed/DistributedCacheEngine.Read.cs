using System.Runtime.CompilerServices;
using TypedCache.Cluster;
using TypedCache.Diagnostics;
using TypedCache.Memcached;

namespace TypedCache.Caching.Distributed;

internal sealed partial class DistributedCacheEngine
{
    /// <summary>What an L2 item holds for a reader.</summary>
    private enum L2State
    {
        /// <summary>No usable value: missing, a lease placeholder, invalidated (<c>X</c>), corrupt, another schema, older tags, or past the fail-safe window.</summary>
        Unusable,

        /// <summary>A value within its TTL.</summary>
        Fresh,

        /// <summary>A value past its TTL but within the fail-safe window.</summary>
        Stale,
    }

    /// <summary>A read of one L2 item, detached from the pooled buffer.</summary>
    private readonly record struct L2Read<T>(L2State State, T? Value, long LogicalExpiryMs, ulong Cas, bool Found, bool Won, bool LeaseTaken, bool Available, byte[]? Envelope)
        where T : class;

    private MemcachedGetOptions LeaseOptions => new()
    {
        VivifyOnMissTtl = (int)Math.Ceiling(_options.LeaseTtl.TotalSeconds),
    };

    private MemcachedGetOptions LeaseOptionsFor(CacheTypeDescriptor type)
    {
        var recache = _options.FailSafeMaxAge + (_options.EagerRefreshThreshold is { } threshold ? type.Ttl * (1 - threshold) : TimeSpan.Zero);
        var seconds = (int)Math.Floor(recache.TotalSeconds);
        return seconds > 0 ? LeaseOptions with { RecacheBelowTtl = seconds } : LeaseOptions;
    }

    private async ValueTask<T?> ReadAsync<T, TKey>(TypeStore<T, TKey> store, TKey key, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var stamp = store.Capture(key);
        ClusterReply<MemcachedGetResult> reply;
        using (CacheTelemetry.StartL2("typedcache.l2.get", store.Type.Name))
        {
            reply = await SendReadAsync(store, key, store.KeyHead(), default).ConfigureAwait(false);
        }

        var read = Classify(store, reply, keepEnvelope: false);
        if (read.Won)
        {
            await ReleaseLeaseAsync(new L2Target(store.MemcachedKey(key), read.Cas, Write: true)).ConfigureAwait(false);
        }

        return read.State == L2State.Fresh ? Hit(store, key, stamp, read) : null;
    }

    /// <summary>
    /// The read path of <c>GetOrLoadAsync</c> after an L1 miss: one flight per key in the process, then one lease read;
    /// a fresh hit returns from here, anything else goes on to <see cref="ResolveAsync"/>. A caller that joined the flight
    /// after its read was sent takes the outcome only when it was confirmed current in L2 (see
    /// <see cref="KeyFlight{T}.Binds"/>); otherwise it joins the key's next flight, whose read is sent after it began, so
    /// no caller gets a value older than an invalidation that returned before it began. A flight ended by the
    /// cancellation of the caller running it sends the others on to the key's next flight, never the cancellation.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T?> SingleFlightAsync<T, TKey, TState>(
        TypeStore<T, TKey> store,
        TKey key,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<T?>> loader,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var flight = store.JoinFlight(key, out var owner);
        var binds = false;
        while (!owner)
        {
            var joined = flight.Stage;
            try
            {
                var value = await flight.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (binds || flight.Binds(joined))
                {
                    return value;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && flight.Abandoned)
            {
                // The caller running the flight was cancelled, not this one, which reads for itself.
            }

            // The flight has left the table, so the key's next flight began after this caller joined the last one.
            flight = store.JoinFlight(key, out owner);
            binds = true;
        }

        try
        {
            await ReadyAsync(cancellationToken).ConfigureAwait(false);
            var stamp = store.Capture(key);
            var head = store.KeyHead();
            ClusterReply<MemcachedGetResult> reply;
            using (CacheTelemetry.StartL2("typedcache.l2.get", store.Type.Name))
            {
                flight.Enter(FlightStage.Reading);
                reply = await SendReadAsync(store, key, head, LeaseOptionsFor(store.Type)).ConfigureAwait(false);
            }

            var read = Classify(store, reply, keepEnvelope: true);
            CacheTelemetry.LeaseRead(store.Type.Name, read.Won);
            var outcome = read.State == L2State.Fresh && !read.Won
                ? Resolved<T>.Read(Hit(store, key, stamp, read))
                : await ResolveAsync(store, flight, key, stamp, store.MemcachedKey(head, key), read, state, loader, cancellationToken).ConfigureAwait(false);
            flight.Complete(store.Flights, key, outcome);
            return outcome.Value;
        }
        catch (Exception exception)
        {
            flight.Fail(store.Flights, key, exception, cancellationToken);
            throw;
        }
    }

    /// <summary>
    /// Sends the read of <paramref name="key"/>'s item; its memcached key is written on the stack, under <paramref name="head"/>.
    /// Like every L2 read, it takes no cancellation token (see <see cref="UncancelledRead"/>).
    /// </summary>
    private ValueTask<ClusterReply<MemcachedGetResult>> SendReadAsync<T, TKey>(TypeStore<T, TKey> store, in TKey key, byte[] head, MemcachedGetOptions options)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        Span<byte> memcachedKey = stackalloc byte[CacheKeys.MaxLength];
        return Cluster.GetAsync(memcachedKey[..CacheKeys.Write(memcachedKey, head, key)], options, UncancelledRead);
    }

    /// <summary>
    /// The token of every L2 read, none: memcached may give a read the lease or early-refresh win of its item, and a read
    /// abandoned by its cancelled caller would leave that win to no one, so every reader of the key would wait out
    /// <see cref="DistributedCacheOptions.LeaseWait"/> until the lease expired. A read already sent therefore completes
    /// (within the memcached operation timeout) and hands back what it won; the caller's cancellation is observed before
    /// the read and by what follows it (the loader, the waits).
    /// </summary>
    private static CancellationToken UncancelledRead => CancellationToken.None;

    /// <summary>A fresh L2 value: kept in L1 (unless invalidated since <paramref name="stamp"/>) and returned.</summary>
    private T? Hit<T, TKey>(TypeStore<T, TKey> store, in TKey key, in Stamp stamp, in L2Read<T> read)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        store.PutLocal(key, read.Value!, stamp, LocalExpiry(store.Type, NowMs()), read.LogicalExpiryMs);
        return read.Value;
    }

    /// <summary>After a lease read that was no plain fresh hit: refresh eagerly, load, serve stale or wait for the lease holder.</summary>
    private async ValueTask<Resolved<T>> ResolveAsync<T, TKey, TState>(
        TypeStore<T, TKey> store,
        KeyFlight<T> flight,
        TKey key,
        Stamp stamp,
        byte[] memcachedKey,
        L2Read<T> read,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<T?>> loader,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        if (read.State == L2State.Fresh)
        {
            var value = Hit(store, key, stamp, read);
            _ = RefreshInBackgroundAsync(store, key, stamp, memcachedKey, read, state, loader);
            return Resolved<T>.Read(value);
        }

        var stale = read.State == L2State.Stale ? read : default;
        if (!read.Available || read.Won || !read.LeaseTaken)
        {
            var target = new L2Target(memcachedKey, read.Available ? read.Cas : 0, read.Available);
            return await LoadAsync(store, flight, key, stamp, target, stale, state, loader, cancellationToken).ConfigureAwait(false);
        }

        if (read.State == L2State.Stale)
        {
            CacheTelemetry.Stale(store.Type.Name, "lease");
            return Resolved<T>.Read(read.Value);
        }

        CacheTelemetry.LeaseWait(store.Type.Name);
        var waited = await WaitForLeaseHolderAsync(store, memcachedKey, cancellationToken).ConfigureAwait(false);
        if (waited is { State: L2State.Fresh } fromHolder)
        {
            return Resolved<T>.Read(Hit(store, key, stamp, fromHolder));
        }

        // This client won the lease the holder lost to a newer invalidation; or the holder took too long (or died),
        // and the load does not write over its lease.
        var after = waited is { Won: true } won ? new L2Target(memcachedKey, won.Cas, Write: true) : new L2Target(memcachedKey, 0, Write: false);
        return await LoadAsync(store, flight, key, stamp, after, default, state, loader, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Polls the item a lease holder is loading, with backoff, until it holds a fresh value or
    /// <see cref="DistributedCacheOptions.LeaseWait"/> passes, or it wins the lease itself: an invalidation (or a holder
    /// handing its lease back) marks the item stale and clears the lease, and memcached gives it to the first reader
    /// after, even a plain one, which must load and write, or no one would until the lease wait ran out.
    /// </summary>
    private async ValueTask<L2Read<T>?> WaitForLeaseHolderAsync<T, TKey>(TypeStore<T, TKey> store, byte[] memcachedKey, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var deadline = _time.GetTimestamp() + (long)(_options.LeaseWait.TotalSeconds * _time.TimestampFrequency);
        var pause = FirstPoll;
        while (_time.GetTimestamp() < deadline)
        {
            await Task.Delay(pause, _time, cancellationToken).ConfigureAwait(false);
            pause = pause * 2 > LastPoll ? LastPoll : pause * 2;
            var read = await ReadL2Async(store, memcachedKey, default, keepEnvelope: false).ConfigureAwait(false);
            if (read.State == L2State.Fresh || read.Won)
            {
                return read;
            }

            if (!read.Found)
            {
                // The holder deleted its lease item: its loader found nothing.
                return null;
            }
        }

        return null;
    }

    private async ValueTask<L2Read<T>> ReadL2Async<T, TKey>(TypeStore<T, TKey> store, byte[] memcachedKey, MemcachedGetOptions options, bool keepEnvelope)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        using var activity = CacheTelemetry.StartL2("typedcache.l2.get", store.Type.Name);
        var reply = await Cluster.GetAsync(memcachedKey, options, UncancelledRead).ConfigureAwait(false);
        return Classify(store, reply, keepEnvelope);
    }

    /// <summary>Classifies a single read's reply and returns its value buffer to the pool.</summary>
    private L2Read<T> Classify<T, TKey>(TypeStore<T, TKey> store, in ClusterReply<MemcachedGetResult> reply, bool keepEnvelope)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        if (!reply.IsAvailable)
        {
            return default;
        }

        using var result = reply.Value;
        return Classify(store, result, keepEnvelope);
    }

    /// <summary>Reads an L2 item: parses the envelope, checks schema and tags, decodes; never throws on bad bytes.</summary>
    private L2Read<T> Classify<T, TKey>(TypeStore<T, TKey> store, in MemcachedGetResult result, bool keepEnvelope)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var state = L2State.Unusable;
        T? value = null;
        long logicalExpiry = 0;
        byte[]? envelope = null;
        if (result.Found && !result.Stale)
        {
            var bytes = result.Value;
            if (CacheEnvelope.TryParse(result.ClientFlags, bytes.Span, store.Flags, out var header) == EnvelopeParseResult.Ok &&
                store.TagsCurrent(bytes.Span, header.TagCount) &&
                store.TryDecode(bytes[header.PayloadOffset..], out value))
            {
                var now = NowMs();
                logicalExpiry = header.LogicalExpiryMs;
                state = logicalExpiry > now ? L2State.Fresh
                    : logicalExpiry + (long)_options.FailSafeMaxAge.TotalMilliseconds > now ? L2State.Stale
                    : L2State.Unusable;
                if (keepEnvelope && (state == L2State.Stale || (state == L2State.Fresh && result.Won)))
                {
                    envelope = bytes.ToArray();
                }
            }
        }

        CacheTelemetry.L2Read(store.Type.Name, state == L2State.Fresh);
        return new L2Read<T>(state, state == L2State.Unusable ? null : value, logicalExpiry, result.Cas, result.Found, result.Won, result.LeaseTaken, Available: true, envelope);
    }

    /// <summary>Where a loaded value goes in L2: the key, the CAS it must still have (0: add only), and whether to write at all.</summary>
    private readonly record struct L2Target(byte[] Key, ulong Cas, bool Write);

    /// <summary>Calls the loader with fail-safe and timeouts, then stores the value in L2 (conditionally) and L1.</summary>
    private async ValueTask<Resolved<T>> LoadAsync<T, TKey, TState>(
        TypeStore<T, TKey> store,
        KeyFlight<T> flight,
        TKey key,
        Stamp stamp,
        L2Target target,
        L2Read<T> stale,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<T?>> loader,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var timeout = LoaderTimeout(stale.Value is not null);
        Timed<T?> timed;
        try
        {
            using var loadingScope = CacheTelemetry.StartLoad(store.Type.Name);
            timed = await WithinAsync(loader(key, state, cancellationToken), timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (stale.Value is not null && exception is not OperationCanceledException)
        {
            CacheLog.ServedStale(_telemetry.Logger, store.Type.Name, exception.GetType().Name);
            return Resolved<T>.Read(await ServeStaleAsync(store, key, stamp, target, stale).ConfigureAwait(false));
        }
        catch (Exception)
        {
            await ReleaseLeaseAsync(target).ConfigureAwait(false);
            throw;
        }

        if (timed.Late is { } late)
        {
            _ = StoreWhenLoadedAsync(late, store, key, stamp, target);
            CacheTelemetry.Stale(store.Type.Name, "timeout", served: stale.Value is not null);
            return stale.Value is not null ? Resolved<T>.Read(stale.Value) : throw new TimeoutException(
                $"The loader of {store.Type.Name} key '{TypeStore<T, TKey>.PartsText(key)}' did not finish within {timeout}; it goes on in the background.");
        }

        flight.Enter(FlightStage.Storing);
        var confirmed = await StoreAsync(store, key, stamp, target, timed.Result, CancellationToken.None).ConfigureAwait(false);
        return new Resolved<T>(timed.Result, confirmed);
    }

    /// <summary>A loader's outcome against its timeout: its result, or the task that goes on past the timeout.</summary>
    private readonly record struct Timed<TResult>(TResult? Result, Task<TResult>? Late);

    /// <summary>Waits for a loader's <paramref name="pending"/> result at most <paramref name="timeout"/>; its failure is thrown.</summary>
    private async ValueTask<Timed<TResult>> WithinAsync<TResult>(ValueTask<TResult> pending, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout == Timeout.InfiniteTimeSpan || pending.IsCompleted)
        {
            return new Timed<TResult>(await pending.ConfigureAwait(false), null);
        }

        var loading = pending.AsTask();
        return await CompletesWithinAsync(loading, timeout, cancellationToken).ConfigureAwait(false)
            ? new Timed<TResult>(await loading.ConfigureAwait(false), null)
            : new Timed<TResult>(default, loading);
    }

    private TimeSpan LoaderTimeout(bool hasStale)
    {
        var hard = _options.HardTimeout;
        if (!hasStale || _options.SoftTimeout == Timeout.InfiniteTimeSpan)
        {
            return hard;
        }

        return hard == Timeout.InfiniteTimeSpan || _options.SoftTimeout < hard ? _options.SoftTimeout : hard;
    }

    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(timeout, _time, delay.Token);
        var first = await Task.WhenAny(task, timer).ConfigureAwait(false);
        await delay.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return first == task;
    }

    /// <summary>
    /// Serves a stale value after the loader failed: L1 keeps it for the throttle, and its L2 item is written back as
    /// it was (same logical expiry, the rest of its window as TTL) so that the lease clears and a later reader retries.
    /// </summary>
    private async ValueTask<T?> ServeStaleAsync<T, TKey>(TypeStore<T, TKey> store, TKey key, Stamp stamp, L2Target target, L2Read<T> stale)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        CacheTelemetry.Stale(store.Type.Name, "fail_safe");
        var now = NowMs();
        var windowEnd = stale.LogicalExpiryMs + (long)_options.FailSafeMaxAge.TotalMilliseconds;
        store.PutLocal(key, stale.Value!, stamp, Math.Min(now + (long)_options.FailSafeThrottle.TotalMilliseconds, windowEnd), stale.LogicalExpiryMs);
        await RewriteAsync(store, target, stale).ConfigureAwait(false);
        return stale.Value;
    }

    /// <summary>
    /// Writes <paramref name="read"/>'s envelope back unchanged, if the item still has the CAS it was read with, to live
    /// until the end of its fail-safe window: memcached takes it as a new item, so the lease or early-refresh win the read
    /// held is free again and a later reader wins it. An item written or invalidated since the read is left as it is.
    /// </summary>
    private async ValueTask RewriteAsync<T, TKey>(TypeStore<T, TKey> store, L2Target target, L2Read<T> read)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var remaining = (int)Math.Min(MaxMemcachedRelativeTtl, (read.LogicalExpiryMs + (long)_options.FailSafeMaxAge.TotalMilliseconds - NowMs()) / 1000);
        if (target.Write && target.Cas != 0 && read.Envelope is not null && remaining > 0)
        {
            await Cluster.SetAsync(target.Key, read.Envelope, new MemcachedStoreOptions { Ttl = remaining, CompareCas = target.Cas, ClientFlags = store.Flags }, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After an eager refresh failed: waits <see cref="DistributedCacheOptions.FailSafeThrottle"/>, then hands the
    /// early-refresh wins back (<see cref="RewriteAsync"/>), so that a later reader refreshes again rather than no one
    /// until the items expire, while a failing loader is called at most once per throttle period for them.
    /// </summary>
    private async Task RetryRefreshLaterAsync<T, TKey>(TypeStore<T, TKey> store, IEnumerable<(L2Target Target, L2Read<T> Read)> refreshed)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        try
        {
            await Task.Delay(_options.FailSafeThrottle, _time, _ring.Closing).ConfigureAwait(false);
            await Task.WhenAll(refreshed.Select(r => RewriteAsync(store, r.Target, r.Read).AsTask())).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Closing, or the node is gone: the items keep their wins until they expire, as they would without this.
        }
    }

    private async Task StoreWhenLoadedAsync<T, TKey>(Task<T?> loading, TypeStore<T, TKey> store, TKey key, Stamp stamp, L2Target target)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        try
        {
            var value = await LoadedOrReleasedAsync(loading, [target]).ConfigureAwait(false);
            await StoreAsync(store, key, stamp, target, value, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A background load that fails leaves the stale value (or nothing) in place; the next miss retries.
        }
    }

    /// <summary>A load that went on in the background: its result, or, when it failed, its failure after its leases were handed back.</summary>
    private async Task<TResult> LoadedOrReleasedAsync<TResult>(Task<TResult> loading, IEnumerable<L2Target> targets)
    {
        try
        {
            return await loading.ConfigureAwait(false);
        }
        catch (Exception)
        {
            await ReleaseLeasesAsync(targets).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Hands back, pipelined, the leases of <paramref name="targets"/>; see <see cref="ReleaseLeaseAsync"/>.</summary>
    private Task ReleaseLeasesAsync(IEnumerable<L2Target> targets) =>
        Task.WhenAll(targets.Select(target => ReleaseLeaseAsync(target).AsTask()));

    /// <summary>
    /// Hands back the lease this client won on <paramref name="target"/> without writing a value (its loader failed, or
    /// a plain read was given it): <c>md … I C&lt;cas&gt;</c> leaves the item stale and lets the next reader win at once,
    /// instead of every reader waiting for the lease until <see cref="DistributedCacheOptions.LeaseWait"/> passes.
    /// </summary>
    private async ValueTask ReleaseLeaseAsync(L2Target target)
    {
        if (target.Write && target.Cas != 0)
        {
            await Cluster.DeleteAsync(target.Key, new MemcachedDeleteOptions { Invalidate = true, CompareCas = target.Cas }, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task RefreshInBackgroundAsync<T, TKey, TState>(
        TypeStore<T, TKey> store,
        TKey key,
        Stamp stamp,
        byte[] memcachedKey,
        L2Read<T> read,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<T?>> loader)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        var target = new L2Target(memcachedKey, read.Cas, Write: true);
        try
        {
            using var loadingScope = CacheTelemetry.StartLoad(store.Type.Name);
            var value = await loader(key, state, _ring.Closing).ConfigureAwait(false);
            await StoreAsync(store, key, stamp, target, value, CancellationToken.None).ConfigureAwait(false);
            return;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // An eager refresh that fails leaves the current value, and hands its win back after the throttle below.
        }

        await RetryRefreshLaterAsync(store, [(target, read)]).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores a loaded value: in L2 only if the item still has the CAS read before loading (so an invalidation or a
    /// newer write in between wins), and in L1 unless the key was invalidated meanwhile. A load that found nothing
    /// releases its lease. Returns whether memcached accepted the conditional write or delete, which confirms that no
    /// invalidation came between the lease read and now.
    /// </summary>
    private async ValueTask<bool> StoreAsync<T, TKey>(TypeStore<T, TKey> store, TKey key, Stamp stamp, L2Target target, T? value, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        if (value is null)
        {
            if (!target.Write || target.Cas == 0)
            {
                return false;
            }

            var deleted = await Cluster.DeleteAsync(target.Key, new MemcachedDeleteOptions { CompareCas = target.Cas }, cancellationToken).ConfigureAwait(false);
            return deleted.IsAvailable && deleted.Value == MemcachedStatus.Success;
        }

        var now = NowMs();
        var logicalExpiry = now + (long)store.Type.Ttl.TotalMilliseconds;
        var confirmed = false;
        if (target.Write)
        {
            var options = target.Cas != 0
                ? new MemcachedStoreOptions { Ttl = L2TtlSeconds(store.Type), CompareCas = target.Cas, ClientFlags = store.Flags }
                : new MemcachedStoreOptions { Ttl = L2TtlSeconds(store.Type), Mode = MemcachedStoreMode.Add, ClientFlags = store.Flags };
            var reply = await Cluster.SetAsync(target.Key, store.Encode(value, stamp, logicalExpiry), options, cancellationToken).ConfigureAwait(false);
            if (reply.IsAvailable && reply.Value.Status is MemcachedStatus.Exists or MemcachedStatus.NotFound or MemcachedStatus.NotStored)
            {
                // Invalidated or rewritten while this value loaded: the newer state wins, also in L1.
                return false;
            }

            confirmed = target.Cas != 0 && reply.IsAvailable && reply.Value.Status == MemcachedStatus.Success;
        }

        store.PutLocal(key, value, stamp, LocalExpiry(store.Type, now), logicalExpiry);
        return confirmed;
    }
}
