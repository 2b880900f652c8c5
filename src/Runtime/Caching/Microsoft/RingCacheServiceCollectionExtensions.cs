using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TypedCache;
using TypedCache.Caching.Distributed;
using TypedCache.Caching.MicrosoftCaching;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TypedCache's implementations of Microsoft's cache abstractions on the memcached ring.</summary>
public static class RingCacheServiceCollectionExtensions
{
    /// <summary>
    /// Registers an <see cref="IBufferDistributedCache"/> (also <see cref="IDistributedCache"/>) over the memcached ring:
    /// <c>services.AddTypedCacheDistributedCache(o =&gt; o.UseZooKeeper("127.0.0.1:2181", "/typedcache/app"))</c>.
    /// Connections open in the background when the cache is first resolved and close when the container is disposed.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Names the servers (<c>UseMemcached</c> and/or <c>UseZooKeeper</c>) and the key prefix (default <c>dc</c>).</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="InvalidOperationException">No servers were configured.</exception>
    public static IServiceCollection AddTypedCacheDistributedCache(this IServiceCollection services, Action<RingCacheOptionsBuilder> configure)
    {
        var builder = Configure(services, configure, "dc");
        services.AddSingleton(provider => new MemcachedDistributedCache(
            new RingConnection(builder.Settings, TimeOf(builder, provider), listener: null), builder.KeyPrefix, TimeOf(builder, provider), ownsRing: true));
        services.AddSingleton<IBufferDistributedCache>(static provider => provider.GetRequiredService<MemcachedDistributedCache>());
        services.AddSingleton<IDistributedCache>(static provider => provider.GetRequiredService<MemcachedDistributedCache>());
        return services;
    }

    /// <summary>
    /// Registers a <see cref="HybridCache"/> on the memcached ring: an in-process level, memcached behind it, and with
    /// <c>UseZooKeeper</c> tags (<c>RemoveByTagAsync</c>, <c>"*"</c> included) and key removals that reach every
    /// process: <c>services.AddTypedCacheHybridCache(o =&gt; o.UseZooKeeper("127.0.0.1:2181", "/typedcache/app").UseMemcached("127.0.0.1:11211"))</c>.
    /// Serializers come from the container as for Microsoft's implementation: an <see cref="IHybridCacheSerializer{T}"/>
    /// per type, else an <see cref="IHybridCacheSerializerFactory"/>, else UTF-8 for strings, raw bytes for byte arrays
    /// and System.Text.Json for the rest.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">
    /// Names the servers, the key prefix (default <c>hc</c>; it also names the cache in ZooKeeper), the in-process
    /// bound, the default entry options and the payload limit.
    /// </param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="InvalidOperationException">No servers were configured.</exception>
    public static IServiceCollection AddTypedCacheHybridCache(this IServiceCollection services, Action<RingCacheOptionsBuilder> configure)
    {
        var builder = Configure(services, configure, "hc");
        services.AddSingleton<HybridCache>(provider => new RingHybridCache(builder, TimeOf(builder, provider), provider));
        return services;
    }

    private static RingCacheOptionsBuilder Configure(IServiceCollection services, Action<RingCacheOptionsBuilder> configure, string defaultKeyPrefix)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new RingCacheOptionsBuilder(defaultKeyPrefix);
        configure(builder);
        builder.Validate();
        services.TryAddSingleton(TimeProvider.System);
        return builder;
    }

    private static TimeProvider TimeOf(RingCacheOptionsBuilder builder, IServiceProvider provider) =>
        builder.TimeProvider ?? provider.GetRequiredService<TimeProvider>();
}
