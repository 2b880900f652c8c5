using Microsoft.Extensions.Diagnostics.HealthChecks;
using TypedCache;
using TypedCache.Diagnostics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds a TypedCache context's health to ASP.NET Core health checks: <c>services.AddHealthChecks().AddTypedCache&lt;ShopCache&gt;()</c>.</summary>
public static class TypedCacheHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check of <typeparamref name="TContext"/> (registered with <c>AddTypedCache</c>): <b>Healthy</b> while every
    /// memcached node answers and ZooKeeper (when used) is connected; <b>Degraded</b> while the engine starts, some nodes
    /// are down, or ZooKeeper is away (the cache serves on the last ring, invalidations queue, locks fail);
    /// <b>Unhealthy</b> when the engine could not start or no memcached node is live. The result's data holds
    /// <c>context</c>, <c>nodes</c>, <c>liveNodes</c> and <c>zooKeeper</c> (the connection state, or <c>off</c>).
    /// </summary>
    /// <typeparam name="TContext">The registered context.</typeparam>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name. Default: <c>typedcache-{TContext}</c>, e.g. <c>typedcache-ShopCache</c>.</param>
    /// <param name="failureStatus">Reported instead of Unhealthy, when given.</param>
    /// <param name="tags">Tags to filter checks by, e.g. <c>ready</c>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHealthChecksBuilder AddTypedCache<TContext>(
        this IHealthChecksBuilder builder, string? name = null, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
        where TContext : CacheContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name ?? "typedcache-" + typeof(TContext).Name,
            provider => new TypedCacheHealthCheck(provider.GetRequiredService<TContext>()),
            failureStatus,
            tags));
    }
}
