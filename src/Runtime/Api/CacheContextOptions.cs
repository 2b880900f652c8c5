using Microsoft.Extensions.Logging;
using TypedCache.Caching;

namespace TypedCache;

/// <summary>
/// The options a <see cref="CacheContext"/> is created with: which engine stores the entries, the key prefix and
/// the clock and the loggers. Built with <see cref="CacheContextOptionsBuilder{TContext}"/>; immutable once built.
/// </summary>
public abstract class CacheContextOptions
{
    private protected CacheContextOptions(string keyPrefix, TimeProvider timeProvider, ILoggerFactory loggerFactory, Func<CacheContextOptions, ICacheEngine>? engineFactory)
    {
        KeyPrefix = keyPrefix;
        TimeProvider = timeProvider;
        LoggerFactory = loggerFactory;
        EngineFactory = engineFactory;
    }

    /// <summary>The first part of every key, before the type name. Default: <c>tc</c>.</summary>
    public string KeyPrefix { get; }

    /// <summary>The clock for TTLs and lock timeouts. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>
    /// Creates the loggers of the engine and its connections. Default: <c>NullLoggerFactory.Instance</c> (nothing is
    /// logged); with dependency injection, the container's <see cref="ILoggerFactory"/>. Keys and values are never logged.
    /// </summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The name of the context type these options are for, e.g. <c>ShopCache</c>: a tag of the context's metrics.</summary>
    internal abstract string ContextName { get; }

    /// <summary>Creates the engine a context runs on; <see langword="null"/> until an engine is chosen.</summary>
    internal Func<CacheContextOptions, ICacheEngine>? EngineFactory { get; }
}

/// <summary>The options of the cache context <typeparamref name="TContext"/>.</summary>
/// <typeparam name="TContext">The user's <see cref="CacheContext"/> subclass.</typeparam>
public sealed class CacheContextOptions<TContext> : CacheContextOptions
    where TContext : CacheContext
{
    internal CacheContextOptions(string keyPrefix, TimeProvider timeProvider, ILoggerFactory loggerFactory, Func<CacheContextOptions, ICacheEngine>? engineFactory)
        : base(keyPrefix, timeProvider, loggerFactory, engineFactory)
    {
    }

    internal override string ContextName => typeof(TContext).Name;
}
