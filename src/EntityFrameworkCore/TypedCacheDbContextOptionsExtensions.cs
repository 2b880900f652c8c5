using Microsoft.EntityFrameworkCore;

namespace TypedCache.EntityFrameworkCore;

/// <summary>Adds TypedCache's invalidation to a <see cref="DbContext"/>'s options.</summary>
public static class TypedCacheDbContextOptionsExtensions
{
    /// <summary>
    /// Invalidates the cached records of committed changes in <paramref name="cache"/>, as <paramref name="map"/>
    /// declares, through a <see cref="CacheInvalidationInterceptor{TContext}"/>.
    /// </summary>
    /// <typeparam name="TContext">The application's <see cref="CacheContext"/>.</typeparam>
    /// <param name="options">The context's options.</param>
    /// <param name="cache">The cache whose records are invalidated; with dependency injection, the singleton resolved from the service provider.</param>
    /// <param name="map">Declares which cached records each entity type feeds.</param>
    /// <returns><paramref name="options"/>.</returns>
    /// <example>
    /// <code>
    /// options.UseSqlite(connectionString).AddTypedCacheInvalidation(cache, map =&gt; map
    ///     .Entity&lt;ProductRow&gt;(e =&gt; e.Invalidates(row =&gt; row.Id, (cache, id, ct) =&gt; cache.Products.InvalidateAsync(id, ct))));
    /// </code>
    /// </example>
    public static DbContextOptionsBuilder AddTypedCacheInvalidation<TContext>(
        this DbContextOptionsBuilder options,
        TContext cache,
        Action<CacheInvalidationMap<TContext>> map)
        where TContext : CacheContext
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.AddInterceptors(new CacheInvalidationInterceptor<TContext>(cache, map));
    }

    /// <inheritdoc cref="AddTypedCacheInvalidation{TContext}(DbContextOptionsBuilder, TContext, Action{CacheInvalidationMap{TContext}})"/>
    /// <typeparam name="TDbContext">The EF Core context.</typeparam>
    /// <typeparam name="TContext">The application's <see cref="CacheContext"/>.</typeparam>
    public static DbContextOptionsBuilder<TDbContext> AddTypedCacheInvalidation<TDbContext, TContext>(
        this DbContextOptionsBuilder<TDbContext> options,
        TContext cache,
        Action<CacheInvalidationMap<TContext>> map)
        where TDbContext : DbContext
        where TContext : CacheContext =>
        (DbContextOptionsBuilder<TDbContext>)AddTypedCacheInvalidation((DbContextOptionsBuilder)options, cache, map);
}
