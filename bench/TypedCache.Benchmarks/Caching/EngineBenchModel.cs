namespace TypedCache.Benchmarks.Caching;

/// <summary>The cached type of the engine benchmarks.</summary>
[Cached(TtlSeconds = 3600, LocalTtlSeconds = 3600)]
public sealed partial record Product([property: CacheKey] int Id, string Name, decimal Price);

/// <summary>The context of the engine benchmarks.</summary>
public sealed partial class BenchCache : CacheContext
{
    /// <summary>Creates the context.</summary>
    public BenchCache(CacheContextOptions<BenchCache> options)
        : base(options)
    {
    }

    /// <summary>The products.</summary>
    public partial ProductRepo Products { get; }
}
