using Microsoft.EntityFrameworkCore;
using Quickstart;
using TypedCache;
using TypedCache.EntityFrameworkCore;

namespace Shop;

/// <summary>A product as the database stores it.</summary>
public sealed class ProductRow
{
    /// <summary>The product id.</summary>
    public int Id { get; set; }

    /// <summary>The product's name.</summary>
    public required string Name { get; set; }

    /// <summary>The price.</summary>
    public decimal Price { get; set; }
}

/// <summary>The stock of one product in one warehouse.</summary>
public sealed class StockRow
{
    /// <summary>The warehouse.</summary>
    public int WarehouseId { get; set; }

    /// <summary>The product's stock-keeping unit.</summary>
    public required string Sku { get; set; }

    /// <summary>How many are left.</summary>
    public int Quantity { get; set; }
}

/// <summary>The shop's database: the source of truth the cache is filled from.</summary>
/// <param name="options">Built by <see cref="ShopDb.Options"/>.</param>
public sealed class ShopDb(DbContextOptions<ShopDb> options) : DbContext(options)
{
    /// <summary>Reads a product through the cache's loader: a query compiled once, run on a miss.</summary>
    public static readonly DbLoader<ShopDb, int, Product> LoadProduct = DbLoader.Create((ShopDb db, int id) =>
        db.Products.Where(p => p.Id == id).Select(p => new Product(p.Id, p.Name, p.Price)).FirstOrDefault());

    /// <summary>Reads a stock level through the cache's loader.</summary>
    public static readonly DbLoader<ShopDb, int, string, Stock> LoadStock = DbLoader.Create((ShopDb db, int warehouseId, string sku) =>
        db.Stock.Where(s => s.WarehouseId == warehouseId && s.Sku == sku).Select(s => new Stock(s.WarehouseId, s.Sku, s.Quantity)).FirstOrDefault());

    /// <summary>The products.</summary>
    public DbSet<ProductRow> Products => Set<ProductRow>();

    /// <summary>The stock levels.</summary>
    public DbSet<StockRow> Stock => Set<StockRow>();

    /// <summary>
    /// The options every unit of work shares: SQLite at <paramref name="path"/>, and the cached records each entity
    /// feeds, declared once, so that a committed change invalidates them in every service.
    /// </summary>
    /// <param name="path">The database file.</param>
    /// <param name="cache">This process's cache.</param>
    /// <returns>The options; build them once per process.</returns>
    public static DbContextOptions<ShopDb> Options(string path, ShopCache cache) =>
        new DbContextOptionsBuilder<ShopDb>()
            .UseSqlite($"Data Source={path}")
            .AddTypedCacheInvalidation(cache, map => map
                .Entity<ProductRow>(e => e.Invalidates(row => row.Id, (cache, id, ct) => cache.Products.InvalidateAsync(id, ct)))
                .Entity<StockRow>(e => e.Invalidates(
                    row => (row.WarehouseId, row.Sku), (cache, key, ct) => cache.Stock.InvalidateAsync(key.WarehouseId, key.Sku, ct))))
            .Options;

    /// <summary>Creates the database at <paramref name="path"/> afresh with 100 products and their stock.</summary>
    /// <param name="path">The database file.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>A task that completes when the database is ready.</returns>
    public static async Task CreateAsync(string path, CancellationToken cancellationToken)
    {
        var options = new DbContextOptionsBuilder<ShopDb>().UseSqlite($"Data Source={path}").Options;
        await using var db = new ShopDb(options);
        await db.Database.EnsureDeletedAsync(cancellationToken);
        await db.Database.EnsureCreatedAsync(cancellationToken);
        // Readers in the services go on while the admin writes.
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        for (var id = 1; id <= 100; id++)
        {
            db.Products.Add(new ProductRow { Id = id, Name = id == 42 ? "Green tea" : $"Tea #{id}", Price = 4.50m });
            db.Stock.Add(new StockRow { WarehouseId = 1, Sku = $"TEA-{id}", Quantity = 10 });
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <inheritdoc/>
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<ProductRow>().Property(p => p.Id).ValueGeneratedNever();
        modelBuilder.Entity<StockRow>().HasKey(s => new { s.WarehouseId, s.Sku });
    }
}
