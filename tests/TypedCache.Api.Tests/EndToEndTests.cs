namespace TypedCache.Api.Tests;

public sealed class EndToEndTests
{
    [Fact]
    public async Task GetOrLoad_caches_the_loaded_product()
    {
        await using var cache = new ShopCache(new CacheContextOptionsBuilder<ShopCache>().UseInMemory().Options);
        var calls = 0;
        ValueTask<Product?> Load(int id, CancellationToken ct)
        {
            calls++;
            return new ValueTask<Product?>(new Product(id, "Tea", 4.5m));
        }

        var first = await cache.Products.GetOrLoadAsync(42, Load);
        var second = await cache.Products.GetOrLoadAsync(42, Load);

        Assert.Equal(new Product(42, "Tea", 4.5m), first);
        Assert.Equal(first, second);
        Assert.Equal(1, calls);
        Assert.Equal("tc:Product:0:42", cache.Products.KeyFor(42));
    }
}
