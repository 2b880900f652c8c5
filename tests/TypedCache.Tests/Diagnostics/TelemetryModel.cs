namespace TypedCache.Tests.Diagnostics;

/// <summary>A cached type only the telemetry tests use, so that their instruments' type tag is theirs alone.</summary>
[Cached(TtlSeconds = 60, LocalTtlSeconds = 30)]
public partial record Probe([property: CacheKey] int Id, string Name);

/// <summary>A context only the telemetry tests use: the <c>typedcache.context</c> tag is theirs alone.</summary>
public partial class TelemetryCache : CacheContext
{
    public TelemetryCache(CacheContextOptions<TelemetryCache> options)
        : base(options)
    {
    }

    public partial ProbeRepo Probes { get; }
}
