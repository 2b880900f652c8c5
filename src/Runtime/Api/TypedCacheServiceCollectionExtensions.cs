using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using TypedCache;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers a TypedCache context in a service collection, like EF Core's <c>AddDbContext</c>:
/// <c>services.AddTypedCache&lt;ShopCache&gt;(o =&gt; o.UseZooKeeper("127.0.0.1:2181", "/typedcache/shop").UseLocalCache(100_000))</c>.
/// </summary>
/// <remarks>
/// The context is a singleton (it owns its connections; resolving it is a dictionary look-up), built on first resolve
/// from <see cref="CacheContextOptions{TContext}"/>, also a singleton. The container's <see cref="TimeProvider"/> (added
/// as <see cref="TimeProvider.System"/> when none is registered) and <see cref="ILoggerFactory"/> (when registered) go
/// into the options before the configure action runs, so the action may still replace them. Invalid or missing
/// options throw on first resolve, naming the option. Disposing the service provider (<c>DisposeAsync</c>) disposes
/// the context and closes its connections. Registrations use <c>TryAdd</c>: the first registration of a context wins.
/// </remarks>
public static class TypedCacheServiceCollectionExtensions
{
    /// <summary>Registers <typeparamref name="TContext"/> and its options, configured by <paramref name="configure"/>.</summary>
    /// <typeparam name="TContext">The user's <see cref="CacheContext"/> subclass; its constructor takes <see cref="CacheContextOptions{TContext}"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Chooses the engine and options, e.g. <c>o =&gt; o.UseInMemory()</c>.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTypedCache<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TContext>(
        this IServiceCollection services, Action<CacheContextOptionsBuilder<TContext>> configure)
        where TContext : CacheContext
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddTypedCache<TContext>((_, builder) => configure(builder));
    }

    /// <summary>
    /// Registers <typeparamref name="TContext"/> and its options, configured by <paramref name="configure"/> with the
    /// service provider at hand (to read other services, such as <see cref="IConfiguration"/>).
    /// </summary>
    /// <typeparam name="TContext">The user's <see cref="CacheContext"/> subclass; its constructor takes <see cref="CacheContextOptions{TContext}"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Chooses the engine and options.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTypedCache<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TContext>(
        this IServiceCollection services, Action<IServiceProvider, CacheContextOptionsBuilder<TContext>> configure)
        where TContext : CacheContext
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider =>
        {
            var builder = new CacheContextOptionsBuilder<TContext>().UseTimeProvider(provider.GetRequiredService<TimeProvider>());
            if (provider.GetService<ILoggerFactory>() is { } loggerFactory)
            {
                builder.UseLoggerFactory(loggerFactory);
            }

            configure(provider, builder);
            return builder.Options;
        });
        services.TryAddSingleton<TContext>();
        return services;
    }

    /// <summary>
    /// Registers <typeparamref name="TContext"/> with options read from <paramref name="configuration"/>, e.g.
    /// <c>configuration.GetSection("TypedCache")</c>; the keys are those of
    /// <see cref="CacheContextOptionsBuilder{TContext}.UseConfiguration"/>.
    /// </summary>
    /// <typeparam name="TContext">The user's <see cref="CacheContext"/> subclass; its constructor takes <see cref="CacheContextOptions{TContext}"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section to read, on first resolve.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddTypedCache<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TContext>(
        this IServiceCollection services, IConfiguration configuration)
        where TContext : CacheContext
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddTypedCache<TContext>((_, builder) => builder.UseConfiguration(configuration));
    }
}
