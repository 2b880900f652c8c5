using System.Runtime.CompilerServices;
using System.Text;
using TypedCache.Memcached;

namespace TypedCache.Cluster;

internal sealed partial class MemcachedCluster
{
    /// <summary>
    /// Reads an item with <c>mg</c> from its node (lease flags, CAS and vivify-on-miss as <paramref name="options"/>
    /// asks). Unavailable replies are misses.
    /// </summary>
    /// <returns>The reply; dispose its value to return the buffer to the pool.</returns>
    /// <exception cref="ArgumentException">The key breaks a key rule.</exception>
    public ValueTask<ClusterReply<MemcachedGetResult>> GetAsync(ReadOnlySpan<byte> key, MemcachedGetOptions options = default, CancellationToken cancellationToken = default)
    {
        if (!TryRoute(key, options.BinaryKey, out var route))
            return new(ClusterReply<MemcachedGetResult>.Unavailable);
        if (route.Source == ReplySource.Gutter)
        {
            options = options with
            {
                VivifyOnMissTtl = GutterTtl(options.VivifyOnMissTtl),
                TouchTtl = GutterTtl(options.TouchTtl),
            };
        }
        return Complete(route.Client!.GetAsync(key, options, cancellationToken), route);
    }

    /// <summary>Reads an item with <c>mg</c>; the key is UTF-8.</summary>
    /// <exception cref="ArgumentException">The key breaks a key rule.</exception>
    public ValueTask<ClusterReply<MemcachedGetResult>> GetAsync(string key, MemcachedGetOptions options = default, CancellationToken cancellationToken = default) =>
        GetAsync(Utf8(key, stackalloc byte[MaxUtf8KeyBytes]), options, cancellationToken);

    /// <summary>
    /// Stores an item with <c>ms</c> on its node (conditional on <see cref="MemcachedStoreOptions.CompareCas"/> when
    /// given). An unavailable reply means the value was dropped.
    /// </summary>
    /// <exception cref="ArgumentException">The key breaks a key rule, or the value cannot fit in an item.</exception>
    public ValueTask<ClusterReply<MemcachedStoreResult>> SetAsync(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MemcachedStoreOptions options = default, CancellationToken cancellationToken = default)
    {
        if (!TryRoute(key, options.BinaryKey, out var route))
            return new(ClusterReply<MemcachedStoreResult>.Unavailable);
        if (route.Source == ReplySource.Gutter)
            options = options with { Ttl = GutterTtl(options.Ttl)!.Value };
        return Complete(route.Client!.SetAsync(key, value, options, cancellationToken), route);
    }

    /// <summary>Stores an item with <c>ms</c>; the key is UTF-8.</summary>
    /// <exception cref="ArgumentException">The key breaks a key rule, or the value cannot fit in an item.</exception>
    public ValueTask<ClusterReply<MemcachedStoreResult>> SetAsync(string key, ReadOnlySpan<byte> value, MemcachedStoreOptions options = default, CancellationToken cancellationToken = default) =>
        SetAsync(Utf8(key, stackalloc byte[MaxUtf8KeyBytes]), value, options, cancellationToken);

    /// <summary>
    /// Deletes, or with <see cref="MemcachedDeleteOptions.Invalidate"/> marks stale, an item with <c>md</c> on its node.
    /// An unavailable reply means nothing was deleted.
    /// </summary>
    /// <exception cref="ArgumentException">The key breaks a key rule.</exception>
    public ValueTask<ClusterReply<MemcachedStatus>> DeleteAsync(ReadOnlySpan<byte> key, MemcachedDeleteOptions options = default, CancellationToken cancellationToken = default)
    {
        if (!TryRoute(key, options.BinaryKey, out var route))
            return new(ClusterReply<MemcachedStatus>.Unavailable);
        if (route.Source == ReplySource.Gutter)
            options = options with { Ttl = GutterTtl(options.Ttl) };
        return Complete(route.Client!.DeleteAsync(key, options, cancellationToken), route);
    }

    /// <summary>Deletes or invalidates an item with <c>md</c>; the key is UTF-8.</summary>
    /// <exception cref="ArgumentException">The key breaks a key rule.</exception>
    public ValueTask<ClusterReply<MemcachedStatus>> DeleteAsync(string key, MemcachedDeleteOptions options = default, CancellationToken cancellationToken = default) =>
        DeleteAsync(Utf8(key, stackalloc byte[MaxUtf8KeyBytes]), options, cancellationToken);

    /// <summary>
    /// Reads many items: the keys are split per server, each server gets one pipelined batch, all servers at once, and
    /// the results come back in the order of <paramref name="keys"/>. Keys of a server that fails are unavailable misses.
    /// </summary>
    /// <returns>The merged results; dispose them to return every value buffer to the pool.</returns>
    /// <exception cref="ArgumentException">A key breaks a key rule (all are checked before anything is sent).</exception>
    public ValueTask<ClusterBatchGetResult> GetManyAsync(ReadOnlySpan<ReadOnlyMemory<byte>> keys, MemcachedGetOptions options = default, CancellationToken cancellationToken = default)
    {
        foreach (var key in keys)
            MemcachedKey.Validate(key.Span, options.BinaryKey, nameof(keys));

        var routes = new List<Route>();
        var groups = new List<List<int>>();
        var batchOf = new int[keys.Length];
        var indexInBatch = new int[keys.Length];
        var sources = new ReplySource[keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            var route = RouteOf(keys[i].Span);
            sources[i] = route.Source;
            if (route.Client is null)
            {
                sources[i] = ReplySource.Unavailable;
                continue;
            }
            int group = routes.FindIndex(r => ReferenceEquals(r.Client, route.Client));
            if (group < 0)
            {
                group = routes.Count;
                routes.Add(route);
                groups.Add([]);
            }
            batchOf[i] = group;
            indexInBatch[i] = groups[group].Count;
            groups[group].Add(i);
        }

        var gutterOptions = options with { VivifyOnMissTtl = GutterTtl(options.VivifyOnMissTtl), TouchTtl = GutterTtl(options.TouchTtl) };
        var sent = new ValueTask<MemcachedBatchGetResult>[routes.Count];
        for (int g = 0; g < routes.Count; g++)
        {
            var groupKeys = new ReadOnlyMemory<byte>[groups[g].Count];
            for (int k = 0; k < groupKeys.Length; k++)
                groupKeys[k] = keys[groups[g][k]];
            sent[g] = routes[g].Client!.GetManyAsync(groupKeys, routes[g].Source == ReplySource.Gutter ? gutterOptions : options, cancellationToken);
        }
        return MergeAsync(sent, routes, groups, batchOf, indexInBatch, sources);
    }

    /// <summary>Reads many items, split per server and merged in the order of <paramref name="keys"/>; the keys are UTF-8.</summary>
    /// <returns>The merged results; dispose them to return every value buffer to the pool.</returns>
    /// <exception cref="ArgumentException">A key breaks a key rule.</exception>
    public ValueTask<ClusterBatchGetResult> GetManyAsync(IReadOnlyList<string> keys, MemcachedGetOptions options = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var bytes = new ReadOnlyMemory<byte>[keys.Count];
        for (int i = 0; i < bytes.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(keys[i], nameof(keys));
            bytes[i] = Encoding.UTF8.GetBytes(keys[i]);
        }
        return GetManyAsync(bytes, options, cancellationToken);
    }

    private async ValueTask<ClusterBatchGetResult> MergeAsync(ValueTask<MemcachedBatchGetResult>[] sent, List<Route> routes, List<List<int>> groups,
        int[] batchOf, int[] indexInBatch, ReplySource[] sources)
    {
        var batches = new MemcachedBatchGetResult?[sent.Length];
        int g = 0;
        try
        {
            for (; g < sent.Length; g++)
            {
                try
                {
                    batches[g] = await sent[g].ConfigureAwait(false);
                    routes[g].Node?.OnSuccess();
                }
                catch (MemcachedException e) when (IsServerFailure(e))
                {
                    OnFailure(routes[g].Node);
                    foreach (int i in groups[g])
                        sources[i] = ReplySource.Unavailable;
                }
            }
        }
        catch
        {
            foreach (var batch in batches)
                batch?.Dispose();
            // The later batches were sent too; their buffers go back to the pool when they complete.
            for (g++; g < sent.Length; g++)
                _ = DisposeWhenDoneAsync(sent[g]);
            throw;
        }
        return new ClusterBatchGetResult(batches, batchOf, indexInBatch, sources);
    }

    private static async Task DisposeWhenDoneAsync(ValueTask<MemcachedBatchGetResult> task)
    {
        try
        {
            (await task.ConfigureAwait(false)).Dispose();
        }
        catch (Exception e) when (e is MemcachedException or OperationCanceledException)
        {
        }
    }

    /// <summary>The route of a key that can be served now; false (after checking the key, so bad keys fail alike) when none can.</summary>
    private bool TryRoute(ReadOnlySpan<byte> key, bool binaryKey, out Route route)
    {
        route = RouteOf(key);
        if (route.Client is not null)
            return true;
        MemcachedKey.Validate(key, binaryKey);
        return false;
    }

    private ValueTask<ClusterReply<T>> Complete<T>(ValueTask<T> task, Route route)
    {
        if (task.IsCompletedSuccessfully)
        {
            route.Node?.OnSuccess();
            return new(new ClusterReply<T>(task.Result, route.Source));
        }
        return Awaited(task, route);

        // Pooled: every command that goes over the network completes asynchronously, and the box would be its only allocation.
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        async ValueTask<ClusterReply<T>> Awaited(ValueTask<T> task, Route route)
        {
            try
            {
                var result = await task.ConfigureAwait(false);
                route.Node?.OnSuccess();
                return new ClusterReply<T>(result, route.Source);
            }
            catch (MemcachedException e) when (IsServerFailure(e))
            {
                OnFailure(route.Node);
                return ClusterReply<T>.Unavailable;
            }
        }
    }

    /// <summary>A failure of the server or the connection, as opposed to a refusal of this one command.</summary>
    private static bool IsServerFailure(MemcachedException e) =>
        e.Kind is MemcachedErrorKind.ConnectionFailed or MemcachedErrorKind.Timeout or MemcachedErrorKind.ProtocolError;

    /// <summary>A TTL capped for the gutter pool: never-expiring and longer TTLs become the gutter TTL; expiring-now stays.</summary>
    private int? GutterTtl(int? ttl) => ttl is { } seconds ? (int)Gutter.CapTtl(seconds, _options.GutterTtlSeconds) : null;

    private const int MaxUtf8KeyBytes = MemcachedKey.MaxLength * 3;

    private static ReadOnlySpan<byte> Utf8(string key, Span<byte> scratch)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length > MemcachedKey.MaxLength)
            throw new ArgumentException($"A memcached key must be 1 to 250 bytes long; it has {key.Length} characters.", nameof(key));
        return scratch[..Encoding.UTF8.GetBytes(key, scratch)];
    }
}
