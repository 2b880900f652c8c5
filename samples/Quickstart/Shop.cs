using TypedCache;

namespace Quickstart;

[Cached(TtlSeconds = 600, Tags = new[] { "catalog" })]
public partial record Product([property: CacheKey] int Id, string Name, decimal Price);

[Cached(TtlSeconds = 60)]
public partial record Stock([property: CacheKey(Order = 0)] int WarehouseId,
                            [property: CacheKey(Order = 1)] string Sku, int Quantity);

public partial class ShopCache : CacheContext
{
    public ShopCache(CacheContextOptions<ShopCache> options) : base(options) { }

    public partial ProductRepo Products { get; }   // implemented by the generator

    public partial StockRepo Stock { get; }
}
