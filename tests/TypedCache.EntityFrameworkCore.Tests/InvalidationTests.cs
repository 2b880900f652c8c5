using System.Transactions;
using Microsoft.EntityFrameworkCore;

namespace TypedCache.EntityFrameworkCore.Tests;

/// <summary>
/// The interceptor on a real database, with the in-memory cache engine: what is invalidated, and when. "Invalidated"
/// is read from the cache: a record set before the save is gone afterwards, one that must stay is still there.
/// </summary>
public abstract class InvalidationTests<TDatabase>(TDatabase database) : IAsyncLifetime
    where TDatabase : ITestDatabase
{
    private readonly TestCache _cache = new(new CacheContextOptionsBuilder<TestCache>().UseInMemory().Options);
    private CacheInvalidationInterceptor<TestCache>? _interceptor;
    private string _name = "";

    protected TestCache Cache => _cache;

    public async Task InitializeAsync()
    {
        _interceptor = new CacheInvalidationInterceptor<TestCache>(_cache, TestMapping.Map);
        await using var db = NewDb();
        await db.Database.EnsureCreatedAsync();
        db.Products.AddRange(new ProductRow { Name = "tea", Price = 4.5m }, new ProductRow { Name = "coffee", Price = 3m });
        db.Stock.Add(new StockRow { WarehouseId = 1, Sku = "TEA-1", Quantity = 10 });
        await db.SaveChangesAsync();
        await _cache.Products.SetAsync(new Product(1, "tea", 4.5m));
        await _cache.Products.SetAsync(new Product(2, "coffee", 3m));
        await _cache.Stock.SetAsync(new Stock(1, "TEA-1", 10));
    }

    public async Task DisposeAsync() => await _cache.DisposeAsync();

    [Fact]
    public async Task A_saved_change_invalidates_its_record_and_no_other()
    {
        await using var db = NewDb();
        (await db.Products.SingleAsync(p => p.Id == 1)).Price = 5m;

        await db.SaveChangesAsync();

        Assert.Null(await _cache.Products.GetAsync(1));
        Assert.NotNull(await _cache.Products.GetAsync(2));
        Assert.NotNull(await _cache.Stock.GetAsync(1, "TEA-1"));
    }

    [Fact]
    public async Task A_synchronous_save_invalidates_too()
    {
        await using var db = NewDb();
        db.Products.Remove(db.Products.Single(p => p.Id == 2));

        db.SaveChanges();

        Assert.Null(await _cache.Products.GetAsync(2));
        Assert.NotNull(await _cache.Products.GetAsync(1));
    }

    [Fact]
    public async Task An_added_entity_invalidates_the_key_the_database_generated()
    {
        await _cache.Products.SetAsync(new Product(3, "cached before it existed", 0m));
        await using var db = NewDb();
        var row = new ProductRow { Name = "cocoa", Price = 2m };
        db.Products.Add(row);

        await db.SaveChangesAsync();

        Assert.Equal(3, row.Id);
        Assert.Null(await _cache.Products.GetAsync(3));
        Assert.NotNull(await _cache.Products.GetAsync(1));
    }

    [Fact]
    public async Task A_changed_key_property_invalidates_the_old_key_and_the_new_one()
    {
        await _cache.Stock.SetAsync(new Stock(1, "TEA-2", 0));
        await _cache.Stock.SetAsync(new Stock(2, "TEA-1", 0));
        await using var db = NewDb();
        (await db.Stock.SingleAsync()).Sku = "TEA-2";

        await db.SaveChangesAsync();

        Assert.Null(await _cache.Stock.GetAsync(1, "TEA-1"));
        Assert.Null(await _cache.Stock.GetAsync(1, "TEA-2"));
        Assert.NotNull(await _cache.Stock.GetAsync(2, "TEA-1"));
    }

    [Fact]
    public async Task Inside_a_transaction_keys_wait_for_the_commit()
    {
        await using var db = NewDb();
        await using var transaction = await db.Database.BeginTransactionAsync();
        (await db.Products.SingleAsync(p => p.Id == 1)).Price = 5m;
        await db.SaveChangesAsync();
        (await db.Stock.SingleAsync()).Quantity = 9;
        await db.SaveChangesAsync();

        Assert.NotNull(await _cache.Products.GetAsync(1));
        Assert.NotNull(await _cache.Stock.GetAsync(1, "TEA-1"));

        await transaction.CommitAsync();

        Assert.Null(await _cache.Products.GetAsync(1));
        Assert.Null(await _cache.Stock.GetAsync(1, "TEA-1"));
        Assert.NotNull(await _cache.Products.GetAsync(2));
    }

    [Fact]
    public async Task A_synchronous_commit_invalidates_too()
    {
        await using var db = NewDb();
        using var transaction = db.Database.BeginTransaction();
        db.Products.Single(p => p.Id == 1).Price = 5m;
        db.SaveChanges();
        Assert.NotNull(await _cache.Products.GetAsync(1));

        transaction.Commit();

        Assert.Null(await _cache.Products.GetAsync(1));
    }

    [Fact]
    public async Task A_rolled_back_transaction_invalidates_nothing()
    {
        await using (var db = NewDb())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            (await db.Products.SingleAsync(p => p.Id == 1)).Price = 5m;
            db.Stock.Remove(await db.Stock.SingleAsync());
            await db.SaveChangesAsync();

            await transaction.RollbackAsync();
        }

        Assert.NotNull(await _cache.Products.GetAsync(1));
        Assert.NotNull(await _cache.Stock.GetAsync(1, "TEA-1"));
        await using var check = NewDb();
        Assert.Equal(4.5m, (await check.Products.SingleAsync(p => p.Id == 1)).Price);
    }

    [Fact]
    public async Task A_transaction_disposed_without_commit_invalidates_nothing_then_or_later()
    {
        await using var db = NewDb();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            (await db.Products.SingleAsync(p => p.Id == 1)).Price = 5m;
            await db.SaveChangesAsync();
        }

        await using (var next = await db.Database.BeginTransactionAsync())
        {
            (await db.Products.SingleAsync(p => p.Id == 2)).Price = 1m;
            await db.SaveChangesAsync();
            await next.CommitAsync();
        }

        Assert.Null(await _cache.Products.GetAsync(2));
        Assert.NotNull(await _cache.Products.GetAsync(1));
    }

    [Fact]
    public async Task A_failed_save_invalidates_nothing()
    {
        await using var db = NewDb();
        (await db.Products.SingleAsync(p => p.Id == 1)).Price = 5m;
        db.Products.Add(new ProductRow { Name = "coffee", Price = 1m }); // the name is unique: the save fails

        await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());

        Assert.NotNull(await _cache.Products.GetAsync(1));
        Assert.NotNull(await _cache.Products.GetAsync(2));
    }

    [Fact]
    public async Task A_failed_save_inside_a_transaction_drops_its_keys_but_not_the_earlier_ones()
    {
        await using var db = NewDb();
        await using var transaction = await db.Database.BeginTransactionAsync();
        (await db.Stock.SingleAsync()).Quantity = 9;
        await db.SaveChangesAsync();
        var duplicate = new ProductRow { Name = "coffee", Price = 1m };
        db.Products.Add(duplicate);
        await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        db.Entry(duplicate).State = EntityState.Detached;

        await transaction.CommitAsync();

        Assert.Null(await _cache.Stock.GetAsync(1, "TEA-1"));
        Assert.NotNull(await _cache.Products.GetAsync(1));
        Assert.NotNull(await _cache.Products.GetAsync(2));
    }

    [Fact]
    public async Task Loaders_read_through_the_context_single_composite_and_batch()
    {
        await using var db = NewDb();
        await _cache.Products.InvalidateAllAsync();
        await _cache.Stock.InvalidateAllAsync();

        Assert.Equal(new Product(1, "tea", 4.5m), await _cache.Products.GetOrLoadAsync(1, TestMapping.Product.For(db)));
        Assert.Null(await _cache.Products.GetOrLoadAsync(99, TestMapping.Product.For(db)));
        Assert.Equal(new Stock(1, "TEA-1", 10), await _cache.Stock.GetOrLoadAsync(1, "TEA-1", TestMapping.Stock.For(db)));
        var many = await _cache.Products.GetOrLoadManyAsync(
            [new ProductKey(1), new ProductKey(2), new ProductKey(99)], TestMapping.Products.For(db, (ProductKey key) => key.Id));

        Assert.Equal(2, many.Count);
        Assert.Equal(new Product(2, "coffee", 3m), many[new ProductKey(2)]);
        Assert.Equal(new Product(2, "coffee", 3m), await _cache.Products.GetAsync(2));
    }

    [Fact]
    public async Task A_loaded_record_is_reloaded_with_the_saved_value()
    {
        await using var db = NewDb();
        await _cache.Products.InvalidateAsync(1);
        Assert.Equal(4.5m, (await _cache.Products.GetOrLoadAsync(1, TestMapping.Product.For(db)))!.Price);

        (await db.Products.SingleAsync(p => p.Id == 1)).Price = 6m;
        await db.SaveChangesAsync();

        Assert.Equal(6m, (await _cache.Products.GetOrLoadAsync(1, TestMapping.Product.For(db)))!.Price);
    }

    protected TestDb NewDb()
    {
        if (_name.Length == 0)
            _name = GetType().Name[..4] + "_" + Guid.NewGuid().ToString("N")[..12];
        var options = new DbContextOptionsBuilder<TestDb>();
        database.Use(options, _name);
        options.AddInterceptors(_interceptor!);
        return new TestDb(options.Options);
    }
}

public sealed class SqliteInvalidationTests(SqliteDatabase database) : InvalidationTests<SqliteDatabase>(database), IClassFixture<SqliteDatabase>;

/// <summary>What needs a database with concurrent writers and ambient transactions.</summary>
public sealed class PostgresInvalidationTests(PostgresDatabase database) : InvalidationTests<PostgresDatabase>(database), IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task Contexts_sharing_the_interceptor_keep_their_own_pending_keys()
    {
        await using var inTransaction = NewDb();
        await using var plain = NewDb();
        await using var transaction = await inTransaction.Database.BeginTransactionAsync();
        (await inTransaction.Products.SingleAsync(p => p.Id == 1)).Price = 5m;
        await inTransaction.SaveChangesAsync();

        (await plain.Products.SingleAsync(p => p.Id == 2)).Price = 1m;
        await plain.SaveChangesAsync();

        Assert.Null(await Cache.Products.GetAsync(2));
        Assert.NotNull(await Cache.Products.GetAsync(1));
        await transaction.CommitAsync();
        Assert.Null(await Cache.Products.GetAsync(1));
    }

    [Fact]
    public async Task An_ambient_transaction_invalidates_when_it_commits_and_not_when_it_is_abandoned()
    {
        using (var abandoned = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            await using var db = NewDb();
            (await db.Products.SingleAsync(p => p.Id == 2)).Price = 1m;
            await db.SaveChangesAsync();
        }

        using (var scope = new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            await using var db = NewDb();
            (await db.Products.SingleAsync(p => p.Id == 1)).Price = 5m;
            await db.SaveChangesAsync();
            Assert.NotNull(await Cache.Products.GetAsync(1));
            scope.Complete();
        }

        Assert.Null(await Cache.Products.GetAsync(1));
        Assert.NotNull(await Cache.Products.GetAsync(2));
    }
}
