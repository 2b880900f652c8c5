namespace TypedCache.EntityFrameworkCore;

/// <summary>One entity type's mapping to a cached type, without its type arguments.</summary>
internal interface IEntityInvalidation<TContext>
    where TContext : CacheContext
{
    /// <summary>Whether <paramref name="entity"/> is of the mapped entity type.</summary>
    bool Maps(object entity);

    /// <summary>The cache key of <paramref name="entity"/>, which <see cref="Maps"/> accepted.</summary>
    PendingInvalidation<TContext> KeyOf(object entity);
}

/// <summary>One cache key to invalidate; equal keys of the same mapping are invalidated once.</summary>
internal abstract record PendingInvalidation<TContext>
    where TContext : CacheContext
{
    public abstract ValueTask InvalidateAsync(TContext cache, CancellationToken cancellationToken);
}

internal sealed class EntityInvalidation<TContext, TEntity, TKey>(
    Func<TEntity, TKey> key,
    Func<TContext, TKey, CancellationToken, ValueTask> invalidate) : IEntityInvalidation<TContext>
    where TContext : CacheContext
    where TEntity : class
{
    public bool Maps(object entity) => entity is TEntity;

    public PendingInvalidation<TContext> KeyOf(object entity) => new Key(this, key((TEntity)entity));

    private sealed record Key(EntityInvalidation<TContext, TEntity, TKey> Mapping, TKey Value) : PendingInvalidation<TContext>
    {
        public override ValueTask InvalidateAsync(TContext cache, CancellationToken cancellationToken) =>
            Mapping.Invalidate(cache, Value, cancellationToken);
    }

    private ValueTask Invalidate(TContext cache, TKey value, CancellationToken cancellationToken) => invalidate(cache, value, cancellationToken);
}
