using TypedCache;

namespace Demo;

/// <summary>A product of the shop's catalog, cached for ten minutes and tagged "catalog".</summary>
[Cached(TtlSeconds = 600, Tags = new[] { "catalog" })]
public partial record Product([property: CacheKey] int Id, string Name, decimal Price);

/// <summary>How many of one item a warehouse holds, cached for a minute.</summary>
[Cached(TtlSeconds = 60)]
public partial record Stock([property: CacheKey(Order = 0)] int WarehouseId,
                            [property: CacheKey(Order = 1)] string Sku, int Quantity);

/// <summary>The shop's cache: one per service, all sharing the cluster.</summary>
public partial class ShopCache : CacheContext
{
    /// <summary>Creates the context.</summary>
    public ShopCache(CacheContextOptions<ShopCache> options) : base(options) { }

    /// <summary>The products.</summary>
    public partial ProductRepo Products { get; }

    /// <summary>The stock levels.</summary>
    public partial StockRepo Stock { get; }
}
