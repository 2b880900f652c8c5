using TypedCache;

namespace TypedCache.TestWorker;

/// <summary>A cached type of the engine's tests, shared by the test process and the worker processes.</summary>
[Cached(TtlSeconds = 60, LocalTtlSeconds = 30, Tags = new[] { "catalog" })]
public partial record Item([property: CacheKey] int Id, string Name, int Revision);

/// <summary>The cache context of the engine's tests.</summary>
public partial class EngineCache : CacheContext
{
    /// <summary>Creates the context.</summary>
    public EngineCache(CacheContextOptions<EngineCache> options)
        : base(options)
    {
    }

    /// <summary>The items.</summary>
    public partial ItemRepo Items { get; }
}
