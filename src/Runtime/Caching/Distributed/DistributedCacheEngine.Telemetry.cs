using Microsoft.Extensions.Diagnostics.HealthChecks;
using TypedCache.Diagnostics;

namespace TypedCache.Caching.Distributed;

// The engine's diagnostics: metrics, logs and health (src/Runtime/Diagnostics).
internal sealed partial class DistributedCacheEngine
{
    private readonly EngineTelemetry _telemetry;

    /// <summary>The engine's health: nodes live and the ZooKeeper connection (see <see cref="EngineTelemetry.CheckHealth"/>).</summary>
    internal HealthCheckResult CheckHealth() => _telemetry.CheckHealth(_ring.Started);
}
