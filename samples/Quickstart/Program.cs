using Quickstart;
using TypedCache;

await using var cache = new ShopCache(new CacheContextOptionsBuilder<ShopCache>().UseInMemory().Options);
var loads = 0;

// The loader runs on a miss only; the second call is served from the cache.
for (var i = 0; i < 2; i++)
{
    var product = await cache.Products.GetOrLoadAsync(42, (id, ct) =>
    {
        loads++;
        return ValueTask.FromResult<Product?>(new Product(id, "Green tea", 4.50m));
    });
    Console.WriteLine($"{product} (loads: {loads})");
}

await cache.Stock.SetAsync(new Stock(7, "SKU-1", 12));
Console.WriteLine($"stock: {(await cache.Stock.GetAsync(7, "SKU-1"))?.Quantity}, key: {cache.Stock.KeyFor(7, "SKU-1")}");

// Every product in one batch: one loader call for all misses.
var many = await cache.Products.GetOrLoadManyAsync([41, 42, 43], (keys, ct) =>
    ValueTask.FromResult<IEnumerable<Product>>(keys.Select(k => new Product(k.Id, $"Tea #{k.Id}", 3m)).ToList()));
Console.WriteLine($"batch: {string.Join(", ", many.Values.OrderBy(p => p.Id).Select(p => p.Name))}");

await using (await cache.Products.LockAsync(42, TimeSpan.FromSeconds(5)))
{
    await cache.Products.InvalidateAsync(42);       // one key
}

await cache.InvalidateTagAsync("catalog");          // every type tagged "catalog"
await cache.Products.InvalidateAllAsync();          // the whole type, O(1)
Console.WriteLine($"after invalidation: {await cache.Products.GetAsync(42) is null}, key now {cache.Products.KeyFor(42)}");
