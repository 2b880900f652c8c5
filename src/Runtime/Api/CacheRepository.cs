using System.ComponentModel;
using TypedCache.Caching;

namespace TypedCache;

/// <summary>
/// The base of every generated <c>{Type}Repo</c>: the operations that take the key struct. The generated class
/// adds the overloads that take the key's parts as typed parameters.
/// </summary>
/// <typeparam name="T">The cached type.</typeparam>
/// <typeparam name="TKey">Its generated key struct.</typeparam>
public abstract class CacheRepository<T, TKey>
    where T : class
    where TKey : struct, ICacheKey<TKey>
{
    private readonly ICacheEngine _engine;
    private readonly CacheTypeDescriptor<T, TKey> _type;
    private readonly string _keyPrefix;

    /// <summary>Binds the repository to its context's engine; called by generated code.</summary>
    /// <param name="context">The owning context.</param>
    /// <param name="type">The type's generated descriptor.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected CacheRepository(CacheContext context, CacheTypeDescriptor<T, TKey> type)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(type);
        _engine = context.Engine;
        _type = type;
        _keyPrefix = context.Options.KeyPrefix;
    }

    /// <summary>Reads many keys at once; the result holds the keys that were cached.</summary>
    /// <param name="keys">The keys; duplicates are read once.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The cached entities by key.</returns>
    public ValueTask<IReadOnlyDictionary<TKey, T>> GetManyAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default) =>
        _engine.GetOrLoadManyAsync<T, TKey, object?>(_type, keys, null, null, cancellationToken);

    /// <summary>
    /// Reads many keys at once and loads every miss with one call of <paramref name="loader"/>, which returns the
    /// entities it found (in any order; their keys are read from them). Found entities are cached.
    /// </summary>
    /// <param name="keys">The keys; duplicates are read once.</param>
    /// <param name="loader">Loads the missed keys; called at most once, never with an empty list.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The cached or loaded entities by key; a key neither cached nor loaded is absent.</returns>
    public ValueTask<IReadOnlyDictionary<TKey, T>> GetOrLoadManyAsync(
        IEnumerable<TKey> keys,
        Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IEnumerable<T>>> loader,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loader);
        return _engine.GetOrLoadManyAsync(_type, keys, loader, static (missed, load, ct) => load(missed, ct), cancellationToken);
    }

    /// <summary>Stores <paramref name="entity"/> under its key, replacing what was cached.</summary>
    /// <param name="entity">The entity to cache.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the entity is stored.</returns>
    public ValueTask SetAsync(T entity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return _engine.SetAsync(_type, entity, cancellationToken);
    }

    /// <summary>Invalidates every entry of the type, in O(1): the type's version moves on.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the version has moved on.</returns>
    public ValueTask InvalidateAllAsync(CancellationToken cancellationToken = default) =>
        _engine.InvalidateTypeAsync(_type, cancellationToken);

    /// <summary>Reads one key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The cached entity, or <see langword="null"/>.</returns>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected ValueTask<T?> GetCoreAsync(TKey key, CancellationToken cancellationToken) =>
        _engine.GetOrLoadAsync<T, TKey, object?>(_type, key, null, null, cancellationToken);

    /// <summary>Reads one key and loads it on a miss; the loader is a static lambda that gets its state back.</summary>
    /// <typeparam name="TState">What the loader needs.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="state">Passed to <paramref name="loader"/>.</param>
    /// <param name="loader">Loads the key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The cached or loaded entity, or <see langword="null"/>.</returns>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected ValueTask<T?> GetOrLoadCoreAsync<TState>(
        TKey key,
        TState state,
        Func<TKey, TState, CancellationToken, ValueTask<T?>> loader,
        CancellationToken cancellationToken) =>
        _engine.GetOrLoadAsync(_type, key, state, loader, cancellationToken);

    /// <summary>Invalidates one key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the key is invalidated.</returns>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected ValueTask InvalidateCoreAsync(TKey key, CancellationToken cancellationToken) =>
        _engine.InvalidateAsync(_type, key, cancellationToken);

    /// <summary>Takes the exclusive lock on one key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="timeout">How long to wait for it.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The held lock; dispose it to release.</returns>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected ValueTask<IAsyncDisposable> LockCoreAsync(TKey key, TimeSpan timeout, CancellationToken cancellationToken) =>
        _engine.LockAsync(_type, key, timeout, cancellationToken);

    /// <summary>The memcached key of <paramref name="key"/> under the type's current version.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The key, at most 250 printable ASCII characters.</returns>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected string KeyForCore(TKey key) => CacheKeys.ToString(CacheKeys.Head(_keyPrefix, _type, _engine.GetTypeVersion(_type)), key);
}
