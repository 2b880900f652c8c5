using Microsoft.Extensions.Diagnostics.HealthChecks;
using TypedCache.Caching.Distributed;

namespace TypedCache.Diagnostics;

/// <summary>
/// The health of one context's engine: memcached nodes live and the ZooKeeper connection. The in-process engine is
/// always healthy.
/// </summary>
internal sealed class TypedCacheHealthCheck(CacheContext context) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext healthCheckContext, CancellationToken cancellationToken = default)
    {
        var result = context.Engine is DistributedCacheEngine engine
            ? engine.CheckHealth()
            : HealthCheckResult.Healthy($"{context.GetType().Name} keeps its entries in this process.");
        return Task.FromResult(result.Status == HealthStatus.Unhealthy
            ? new HealthCheckResult(healthCheckContext.Registration.FailureStatus, result.Description, result.Exception, result.Data)
            : result);
    }
}
