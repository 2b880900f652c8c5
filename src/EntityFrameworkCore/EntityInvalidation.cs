namespace TypedCache.EntityFrameworkCore;

/// <summary>One entity type's mapping to a cached type, without its type arguments.</summary>
internal interface IEntityInvalidation<TContext>
    where TContext : CacheContext
{
    /// <summary>The cache key of <paramref name="entity"/>, or <see langword="null"/> when the mapping is for another entity type.</summary>
    PendingInvalidation<TContext>? KeyOf(object entity);
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
    public PendingInvalidation<TContext>? KeyOf(object entity) =>
        entity is TEntity typed ? new Key(this, key(typed)) : null;

    private sealed record Key(EntityInvalidation<TContext, TEntity, TKey> Mapping, TKey Value) : PendingInvalidation<TContext>
    {
        public override ValueTask InvalidateAsync(TContext cache, CancellationToken cancellationToken) =>
            Mapping.Invalidate(cache, Value, cancellationToken);
    }

    private ValueTask Invalidate(TContext cache, TKey value, CancellationToken cancellationToken) => invalidate(cache, value, cancellationToken);
}
