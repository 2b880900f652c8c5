using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TypedCache;
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
