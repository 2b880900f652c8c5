namespace TypedCache.Caching;

/// <summary>
/// What a cache context's repositories call. The in-memory engine implements it in-process; the
/// memcached + ZooKeeper engine (L1 + L2, leases, single-flight, fail-safe) implements the same contract.
/// </summary>
/// <remarks>
/// Loaders are static lambdas: what they need comes back through a state argument, so a call allocates no
/// closure; a batch loader returns the entities it found and the engine keys them through the descriptor.
/// Keys are the generated key structs: an engine keys its in-process level by them and builds the distributed
/// key with <see cref="CacheKeys.Write{TKey}"/> only when it goes to the network. Single and batch reads share
/// one semantics: a loader of <see langword="null"/> means read only; with a loader, misses are loaded once per
/// key however many callers ask at once (single-flight), the loaded value is stored unless the key was
/// invalidated or set while it loaded, and a loader's exception reaches every caller waiting on that key.
/// </remarks>
internal interface ICacheEngine : IAsyncDisposable
{
    /// <summary>The type's current version, which goes into its keys; bumped by <see cref="InvalidateTypeAsync"/>.</summary>
    long GetTypeVersion(CacheTypeDescriptor type);

    /// <summary>Reads one key; on a miss, calls <paramref name="loader"/> when given.</summary>
    ValueTask<T?> GetOrLoadAsync<T, TKey, TState>(
        CacheTypeDescriptor<T, TKey> type,
        TKey key,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<T?>>? loader,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>;

    /// <summary>
    /// Reads many keys; on misses, calls <paramref name="loader"/> once with all of them when given. The result
    /// holds the keys found or loaded.
    /// </summary>
    ValueTask<IReadOnlyDictionary<TKey, T>> GetOrLoadManyAsync<T, TKey, TState>(
        CacheTypeDescriptor<T, TKey> type,
        IEnumerable<TKey> keys,
        TState state,
        Func<IReadOnlyList<TKey>, TState, CancellationToken, ValueTask<IEnumerable<T>>>? loader,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>;

    /// <summary>Stores <paramref name="value"/> under its key.</summary>
    ValueTask SetAsync<T, TKey>(CacheTypeDescriptor<T, TKey> type, T value, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>;

    /// <summary>Removes one key, also from a load in flight (its result is not stored).</summary>
    ValueTask InvalidateAsync<T, TKey>(CacheTypeDescriptor<T, TKey> type, TKey key, CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>;

    /// <summary>Invalidates every entry of the type in O(1): bumps its version.</summary>
    ValueTask InvalidateTypeAsync(CacheTypeDescriptor type, CancellationToken cancellationToken);

    /// <summary>Invalidates every entry of every type carrying <paramref name="tag"/> in O(1): bumps its version.</summary>
    ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the exclusive lock on one key, waiting at most <paramref name="timeout"/>; throws
    /// <see cref="TimeoutException"/> when it is not had in time. Disposing the handle releases it.
    /// </summary>
    ValueTask<IAsyncDisposable> LockAsync<T, TKey>(
        CacheTypeDescriptor<T, TKey> type,
        TKey key,
        TimeSpan timeout,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>;
}
