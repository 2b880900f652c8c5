using System.Collections.Concurrent;
using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace TypedCache.EntityFrameworkCore;

/// <summary>
/// Creates loaders that read cached records through a <see cref="DbContext"/>: a query declared once, compiled once by
/// EF Core, and handed to a repository's <c>GetOrLoadAsync</c> or <c>GetOrLoadManyAsync</c> with the context of the
/// current unit of work.
/// </summary>
/// <example>
/// <code>
/// static readonly DbLoader&lt;ShopDb, int, Product&gt; LoadProduct = DbLoader.Create((ShopDb db, int id) =&gt;
///     db.Products.Where(p =&gt; p.Id == id).Select(p =&gt; new Product(p.Id, p.Name, p.Price)).FirstOrDefault());
///
/// Product? product = await cache.Products.GetOrLoadAsync(42, LoadProduct.For(db), ct);
/// </code>
/// </example>
public static class DbLoader
{
    /// <summary>A loader for a record with a one-part key.</summary>
    /// <typeparam name="TDbContext">The EF Core context.</typeparam>
    /// <typeparam name="TKey">The key part.</typeparam>
    /// <typeparam name="T">The cached record.</typeparam>
    /// <param name="query">Reads one record, ending in <c>FirstOrDefault()</c> or <c>SingleOrDefault()</c>; a query that finds none returns <see langword="null"/>.</param>
    /// <returns>The loader; keep it in a static field, since compiling the query is the costly part.</returns>
    public static DbLoader<TDbContext, TKey, T> Create<TDbContext, TKey, T>(Expression<Func<TDbContext, TKey, T?>> query)
        where TDbContext : DbContext
        where T : class
    {
        ArgumentNullException.ThrowIfNull(query);
        return new(new(() => Compile<TDbContext, TKey, T>(query)));
    }

    /// <summary>A loader for a record with a two-part key.</summary>
    /// <typeparam name="TDbContext">The EF Core context.</typeparam>
    /// <typeparam name="TKey1">The first key part.</typeparam>
    /// <typeparam name="TKey2">The second key part.</typeparam>
    /// <typeparam name="T">The cached record.</typeparam>
    /// <param name="query">Reads one record, ending in <c>FirstOrDefault()</c> or <c>SingleOrDefault()</c>.</param>
    /// <returns>The loader; keep it in a static field.</returns>
    public static DbLoader<TDbContext, TKey1, TKey2, T> Create<TDbContext, TKey1, TKey2, T>(Expression<Func<TDbContext, TKey1, TKey2, T?>> query)
        where TDbContext : DbContext
        where T : class
    {
        ArgumentNullException.ThrowIfNull(query);
        return new(new(() => Compile<TDbContext, TKey1, TKey2, T>(query)));
    }

    /// <summary>
    /// A loader for the misses of a batch read: one query for all of them, typically
    /// <c>(db, ids) =&gt; db.Products.Where(p =&gt; ids.Contains(p.Id)).Select(...)</c>.
    /// </summary>
    /// <typeparam name="TDbContext">The EF Core context.</typeparam>
    /// <typeparam name="TId">What the query filters on: a key part, or a value built from the cache key.</typeparam>
    /// <typeparam name="T">The cached record.</typeparam>
    /// <param name="query">Reads the records of the given ids, in any order; ids without a record are simply absent.</param>
    /// <returns>The loader; keep it in a static field.</returns>
    public static DbBatchLoader<TDbContext, TId, T> CreateBatch<TDbContext, TId, T>(Expression<Func<TDbContext, TId[], IQueryable<T>>> query)
        where TDbContext : DbContext
        where T : class
    {
        ArgumentNullException.ThrowIfNull(query);
        return new(new(() => EF.CompileAsyncQuery(query)));
    }

    // The compiled query takes a CancellationToken as its last parameter: EF Core passes it to the database call.
    private static Func<TDbContext, TKey, CancellationToken, Task<T?>> Compile<TDbContext, TKey, T>(Expression<Func<TDbContext, TKey, T?>> query)
        where TDbContext : DbContext
        where T : class =>
        EF.CompileAsyncQuery(Expression.Lambda<Func<TDbContext, TKey, CancellationToken, T?>>(
            query.Body, [.. query.Parameters, Expression.Parameter(typeof(CancellationToken), "cancellationToken")]));

    private static Func<TDbContext, TKey1, TKey2, CancellationToken, Task<T?>> Compile<TDbContext, TKey1, TKey2, T>(Expression<Func<TDbContext, TKey1, TKey2, T?>> query)
        where TDbContext : DbContext
        where T : class =>
        EF.CompileAsyncQuery(Expression.Lambda<Func<TDbContext, TKey1, TKey2, CancellationToken, T?>>(
            query.Body, [.. query.Parameters, Expression.Parameter(typeof(CancellationToken), "cancellationToken")]));
}

/// <summary>A compiled query that loads one record with a one-part key; see <see cref="DbLoader"/>.</summary>
/// <typeparam name="TDbContext">The EF Core context.</typeparam>
/// <typeparam name="TKey">The key part.</typeparam>
/// <typeparam name="T">The cached record.</typeparam>
public sealed class DbLoader<TDbContext, TKey, T>
    where TDbContext : DbContext
    where T : class
{
    private readonly CompiledPerModel<Func<TDbContext, TKey, CancellationToken, Task<T?>>> _query;

    internal DbLoader(CompiledPerModel<Func<TDbContext, TKey, CancellationToken, Task<T?>>> query) => _query = query;

    /// <summary>The loader to pass to a repository's <c>GetOrLoadAsync</c>, reading through <paramref name="db"/>.</summary>
    /// <param name="db">The context of the current unit of work; it must outlive the call.</param>
    /// <returns>The loader.</returns>
    public Func<TKey, CancellationToken, ValueTask<T?>> For(TDbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        var query = _query.For(db);
        return (key, ct) => new ValueTask<T?>(query(db, key, ct));
    }
}

/// <summary>A compiled query that loads one record with a two-part key; see <see cref="DbLoader"/>.</summary>
/// <typeparam name="TDbContext">The EF Core context.</typeparam>
/// <typeparam name="TKey1">The first key part.</typeparam>
/// <typeparam name="TKey2">The second key part.</typeparam>
/// <typeparam name="T">The cached record.</typeparam>
public sealed class DbLoader<TDbContext, TKey1, TKey2, T>
    where TDbContext : DbContext
    where T : class
{
    private readonly CompiledPerModel<Func<TDbContext, TKey1, TKey2, CancellationToken, Task<T?>>> _query;

    internal DbLoader(CompiledPerModel<Func<TDbContext, TKey1, TKey2, CancellationToken, Task<T?>>> query) => _query = query;

    /// <summary>The loader to pass to a repository's <c>GetOrLoadAsync</c>, reading through <paramref name="db"/>.</summary>
    /// <param name="db">The context of the current unit of work; it must outlive the call.</param>
    /// <returns>The loader.</returns>
    public Func<TKey1, TKey2, CancellationToken, ValueTask<T?>> For(TDbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        var query = _query.For(db);
        return (key1, key2, ct) => new ValueTask<T?>(query(db, key1, key2, ct));
    }
}

/// <summary>A compiled query that loads the misses of a batch read at once; see <see cref="DbLoader.CreateBatch{TDbContext, TId, T}"/>.</summary>
/// <typeparam name="TDbContext">The EF Core context.</typeparam>
/// <typeparam name="TId">What the query filters on.</typeparam>
/// <typeparam name="T">The cached record.</typeparam>
public sealed class DbBatchLoader<TDbContext, TId, T>
    where TDbContext : DbContext
    where T : class
{
    private readonly CompiledPerModel<Func<TDbContext, TId[], IAsyncEnumerable<T>>> _query;

    internal DbBatchLoader(CompiledPerModel<Func<TDbContext, TId[], IAsyncEnumerable<T>>> query) => _query = query;

    /// <summary>The loader to pass to a repository's <c>GetOrLoadManyAsync</c>, reading through <paramref name="db"/>.</summary>
    /// <typeparam name="TCacheKey">The repository's generated key struct.</typeparam>
    /// <param name="db">The context of the current unit of work; it must outlive the call.</param>
    /// <param name="id">Reads the query's id from a cache key, for example <c>key =&gt; key.Id</c>.</param>
    /// <returns>The loader.</returns>
    public Func<IReadOnlyList<TCacheKey>, CancellationToken, ValueTask<IEnumerable<T>>> For<TCacheKey>(TDbContext db, Func<TCacheKey, TId> id)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(id);
        var query = _query.For(db);
        return async (keys, ct) =>
        {
            var ids = new TId[keys.Count];
            for (var i = 0; i < ids.Length; i++)
                ids[i] = id(keys[i]);
            var found = new List<T>(ids.Length);
            await foreach (var record in query(db, ids).WithCancellation(ct).ConfigureAwait(false))
                found.Add(record);
            return found;
        };
    }
}

/// <summary>
/// A query compiled once per EF Core model: a compiled query may only run against the model it was compiled for, and
/// one loader may serve contexts of different providers (a test against SQLite and PostgreSQL, say).
/// </summary>
internal sealed class CompiledPerModel<TQuery>(Func<TQuery> compile)
    where TQuery : class
{
    private readonly ConcurrentDictionary<IModel, TQuery> _compiled = new(ReferenceEqualityComparer.Instance);

    public TQuery For(DbContext db) => _compiled.GetOrAdd(db.Model, static (_, compile) => compile(), compile);
}
