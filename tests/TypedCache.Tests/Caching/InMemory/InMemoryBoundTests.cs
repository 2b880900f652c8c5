using TypedCache.TestWorker;

namespace TypedCache.Tests.Caching.InMemory;

/// <summary><c>UseLocalCache(maxEntries)</c> bounds the in-memory engine, whichever of the two calls comes first.</summary>
public sealed class InMemoryBoundTests
{
    public static TheoryData<bool> Orders => new() { true, false };

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task UseLocalCache_bounds_the_in_memory_engine(bool boundFirst)
    {
        var builder = new CacheContextOptionsBuilder<EngineCache>();
        var options = boundFirst ? builder.UseLocalCache(10).UseInMemory().Options : builder.UseInMemory().UseLocalCache(10).Options;
        await using var cache = new EngineCache(options);
        for (var id = 0; id < 200; id++)
        {
            await cache.Items.SetAsync(new Item(id, "kept?", 1));
        }

        var kept = (await cache.Items.GetManyAsync(Enumerable.Range(0, 200).Select(id => new ItemKey(id)))).Count;

        Assert.InRange(kept, 1, 10);
    }

    [Fact]
    public async Task Without_UseLocalCache_the_in_memory_engine_keeps_up_to_the_default_bound()
    {
        await using var cache = new EngineCache(new CacheContextOptionsBuilder<EngineCache>().UseInMemory().Options);
        for (var id = 0; id < 200; id++)
        {
            await cache.Items.SetAsync(new Item(id, "kept", 1));
        }

        Assert.Equal(200, (await cache.Items.GetManyAsync(Enumerable.Range(0, 200).Select(id => new ItemKey(id)))).Count);
    }
}
