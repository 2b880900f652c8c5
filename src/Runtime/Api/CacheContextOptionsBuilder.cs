using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TypedCache.Caching;
using TypedCache.Caching.InMemory;

namespace TypedCache;

/// <summary>
/// Builds the options of a cache context without dependency injection, like EF Core's
/// <c>DbContextOptionsBuilder</c>: <c>new ShopCache(new CacheContextOptionsBuilder&lt;ShopCache&gt;().UseInMemory().Options)</c>.
/// </summary>
/// <typeparam name="TContext">The user's <see cref="CacheContext"/> subclass.</typeparam>
/// <remarks>Each engine adds its <c>Use...</c> method in its own part of this class, choosing itself through <c>UseEngine</c>.</remarks>
public sealed partial class CacheContextOptionsBuilder<TContext>
    where TContext : CacheContext
{
    private string _keyPrefix = "tc";
    private TimeProvider _timeProvider = TimeProvider.System;
    private ILoggerFactory _loggerFactory = NullLoggerFactory.Instance;
    private Func<CacheContextOptions, ICacheEngine>? _engineFactory;

    /// <summary>The options as configured so far.</summary>
    public CacheContextOptions<TContext> Options => new(_keyPrefix, _timeProvider, _loggerFactory, _engineFactory);

    /// <summary>
    /// Keeps every entry in this process: no servers, for tests and local development. Entries expire by their
    /// type's TTL; invalidation, tags, locks and single-flight behave as on the distributed engine.
    /// </summary>
    /// <returns>This builder.</returns>
    public CacheContextOptionsBuilder<TContext> UseInMemory() =>
        UseEngine(static options => new InMemoryCacheEngine(options.TimeProvider));

    /// <summary>Sets the first part of every key. Default: <c>tc</c>.</summary>
    /// <param name="keyPrefix">1 to 64 ASCII letters, digits, <c>-</c>, <c>_</c> or <c>.</c>.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="keyPrefix"/> is not a valid name.</exception>
    public CacheContextOptionsBuilder<TContext> UseKeyPrefix(string keyPrefix)
    {
        CacheNames.ThrowIfInvalid(keyPrefix, nameof(keyPrefix));
        _keyPrefix = keyPrefix;
        return this;
    }

    /// <summary>Sets the clock for TTLs and lock timeouts. Default: <see cref="TimeProvider.System"/>.</summary>
    /// <param name="timeProvider">The clock; tests pass a fake one.</param>
    /// <returns>This builder.</returns>
    public CacheContextOptionsBuilder<TContext> UseTimeProvider(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
        return this;
    }

    /// <summary>Sets where the engine and its connections log. Default: <c>NullLoggerFactory.Instance</c> (nothing is logged).</summary>
    /// <param name="loggerFactory">The logger factory; keys and values are never logged.</param>
    /// <returns>This builder.</returns>
    public CacheContextOptionsBuilder<TContext> UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _loggerFactory = loggerFactory;
        return this;
    }

    /// <summary>Chooses the engine; the last call wins.</summary>
    internal CacheContextOptionsBuilder<TContext> UseEngine(Func<CacheContextOptions, ICacheEngine> engineFactory)
    {
        _engineFactory = engineFactory;
        return this;
    }
}
