namespace TypedCache.EntityFrameworkCore;

/// <summary>
/// Declares, once per entity type, which cached records an entity feeds: when an entity of a mapped type is added,
/// modified or deleted and the change commits, <see cref="CacheInvalidationInterceptor{TContext}"/> invalidates them.
/// </summary>
/// <typeparam name="TContext">The application's <see cref="CacheContext"/>.</typeparam>
/// <example>
/// <code>
/// map.Entity&lt;ProductRow&gt;(e =&gt; e.Invalidates(row =&gt; row.Id, (cache, id, ct) =&gt; cache.Products.InvalidateAsync(id, ct)))
///    .Entity&lt;StockRow&gt;(e =&gt; e.Invalidates(row =&gt; (row.WarehouseId, row.Sku),
///                                            (cache, key, ct) =&gt; cache.Stock.InvalidateAsync(key.WarehouseId, key.Sku, ct)));
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

    /// <summary>Declares the cached records that entities of type <typeparamref name="TEntity"/> (or derived from it) feed.</summary>
    /// <typeparam name="TEntity">The EF Core entity type.</typeparam>
    /// <param name="configure">Declares them with <see cref="EntityInvalidationBuilder{TContext, TEntity}.Invalidates"/>.</param>
    /// <returns>This map.</returns>
    public CacheInvalidationMap<TContext> Entity<TEntity>(Action<EntityInvalidationBuilder<TContext, TEntity>> configure)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(new EntityInvalidationBuilder<TContext, TEntity>(_entities));
        return this;
    }
}

/// <summary>Declares the cached records one entity type feeds; see <see cref="CacheInvalidationMap{TContext}.Entity"/>.</summary>
/// <typeparam name="TContext">The application's <see cref="CacheContext"/>.</typeparam>
/// <typeparam name="TEntity">The EF Core entity type.</typeparam>
public sealed class EntityInvalidationBuilder<TContext, TEntity>
    where TContext : CacheContext
    where TEntity : class
{
    private readonly List<IEntityInvalidation<TContext>> _entities;

    internal EntityInvalidationBuilder(List<IEntityInvalidation<TContext>> entities) => _entities = entities;

    /// <summary>
    /// A saved entity invalidates the record of its key; a modified entity invalidates the key of its original values
    /// too, so a changed key property does not leave the old record behind. Keys are invalidated once per commit however
    /// many entities share them. Call it again for each further cached type the entity feeds.
    /// </summary>
    /// <typeparam name="TKey">The cache key: a value, or a tuple of the parts of a composite key; compared with <see cref="EqualityComparer{T}.Default"/>.</typeparam>
    /// <param name="key">Reads the cache key from an entity; it sees the entity after the save, with store-generated keys set.</param>
    /// <param name="invalidate">Invalidates the record of one key, typically through a repository's <c>InvalidateAsync</c>.</param>
    /// <returns>This builder.</returns>
    public EntityInvalidationBuilder<TContext, TEntity> Invalidates<TKey>(Func<TEntity, TKey> key, Func<TContext, TKey, CancellationToken, ValueTask> invalidate)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(invalidate);
        _entities.Add(new EntityInvalidation<TContext, TEntity, TKey>(key, invalidate));
        return this;
    }
}
