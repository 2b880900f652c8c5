namespace TypedCache.EntityFrameworkCore;

/// <summary>
/// Declares, once per entity type, which cached records an entity feeds: when an entity of a mapped type is added,
/// modified or deleted and the change commits, <see cref="CacheInvalidationInterceptor{TContext}"/> invalidates them.
/// </summary>
/// <typeparam name="TContext">The application's <see cref="CacheContext"/>.</typeparam>
/// <example>
/// <code>
/// map.Entity&lt;ProductRow, int&gt;(row =&gt; row.Id, (cache, id, ct) =&gt; cache.Products.InvalidateAsync(id, ct))
///    .Entity&lt;StockRow, (int, string)&gt;(row =&gt; (row.WarehouseId, row.Sku),
///                                       (cache, key, ct) =&gt; cache.Stock.InvalidateAsync(key.Item1, key.Item2, ct));
/// </code>
/// </example>
public sealed class CacheInvalidationMap<TContext>
    where TContext : CacheContext
{
    private readonly List<IEntityInvalidation<TContext>> _entities = [];

    internal CacheInvalidationMap()
    {
    }

    internal IReadOnlyList<IEntityInvalidation<TContext>> Entities => _entities;

    /// <summary>
    /// Maps an entity type to the cached records it feeds. An entity of type <typeparamref name="TEntity"/> (or derived
    /// from it) that is saved invalidates the record of its key; a modified entity invalidates the key of its original
    /// values too, so a changed key property does not leave the old record behind. Keys are invalidated once per
    /// commit however many entities share them. Call it again to map an entity to more than one cached type.
    /// </summary>
    /// <typeparam name="TEntity">The EF Core entity type.</typeparam>
    /// <typeparam name="TKey">The cache key an entity feeds: a value, or a tuple of the parts of a composite key; compared with <see cref="EqualityComparer{T}.Default"/>.</typeparam>
    /// <param name="key">Reads the cache key from an entity; it sees the entity after the save, with store-generated keys set.</param>
    /// <param name="invalidate">Invalidates the record of one key, typically through a repository's <c>InvalidateAsync</c>.</param>
    /// <returns>This map.</returns>
    public CacheInvalidationMap<TContext> Entity<TEntity, TKey>(Func<TEntity, TKey> key, Func<TContext, TKey, CancellationToken, ValueTask> invalidate)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(invalidate);
        _entities.Add(new EntityInvalidation<TContext, TEntity, TKey>(key, invalidate));
        return this;
    }
}
