using TypedCache.Caching;

namespace TypedCache;

/// <summary>
/// The base of a user's cache context, like EF Core's <c>DbContext</c>: a <c>partial</c> subclass declares one
/// <c>partial</c> repository property per cached type, and TypedCache's generator implements them.
/// </summary>
/// <remarks>
/// A context owns its engine (for the distributed engine, its connections): create one per application and
/// share it; it is safe for concurrent use. Dispose it to release the engine.
/// </remarks>
/// <example>
/// <code>
/// public partial class ShopCache : CacheContext
/// {
///     public ShopCache(CacheContextOptions&lt;ShopCache&gt; options) : base(options) { }
///     public partial ProductRepo Products { get; }
/// }
/// </code>
/// </example>
public abstract class CacheContext : IAsyncDisposable
{
    /// <summary>Creates the context and its engine.</summary>
    /// <param name="options">The options; an engine must have been chosen, for example with <c>UseInMemory()</c>.</param>
    /// <exception cref="InvalidOperationException">No engine was chosen.</exception>
    protected CacheContext(CacheContextOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var factory = options.EngineFactory ?? throw new InvalidOperationException(
            $"No cache engine is configured for {GetType().Name}: call UseInMemory() (or another Use... method) on its options builder.");
        Options = options;
        Engine = factory(options);
    }

    /// <summary>The options the context was created with.</summary>
    public CacheContextOptions Options { get; }

    internal ICacheEngine Engine { get; }

    /// <summary>Invalidates every entry of every cached type that carries <paramref name="tag"/>, in O(1).</summary>
    /// <param name="tag">A tag named in some <c>[Cached(Tags = ...)]</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the tag's version has moved on.</returns>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is not a valid tag.</exception>
    public ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken = default) =>
        Engine.InvalidateTagAsync(tag, cancellationToken);

    /// <summary>Releases the engine.</summary>
    /// <returns>A task that completes when the engine is released.</returns>
    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
