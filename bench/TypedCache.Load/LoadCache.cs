namespace TypedCache.Load;

/// <summary>The cached type of the load tool: a versioned record, so a reader can tell an old value from a new one.</summary>
[Cached(TtlSeconds = 3600, LocalTtlSeconds = 3600)]
public sealed partial record Item([property: CacheKey] int Id, long Version, string Payload);

/// <summary>The context every TypedCache client of the load tool opens.</summary>
public sealed partial class LoadCache : CacheContext
{
    /// <summary>Creates the context.</summary>
    /// <param name="options">The engine and its servers.</param>
    public LoadCache(CacheContextOptions<LoadCache> options)
        : base(options)
    {
    }

    /// <summary>The items.</summary>
    public partial ItemRepo Items { get; }
}
