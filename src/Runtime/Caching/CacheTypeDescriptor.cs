using System.Collections.Immutable;
using System.ComponentModel;
using MessagePack.Formatters;

namespace TypedCache.Caching;

/// <summary>
/// What the cache engine knows about a cached type, generated once per type: its name in keys, its schema hash,
/// its lifetimes and tags. The engine never reflects over the type.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class CacheTypeDescriptor
{
    private protected CacheTypeDescriptor(string name, ulong schemaHash, TimeSpan ttl, TimeSpan localTtl, string[] tags)
    {
        CacheNames.ThrowIfInvalid(name, nameof(name));
        if (ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, $"The TTL of cached type '{name}' must be positive.");
        }

        if (localTtl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(localTtl), localTtl, $"The local TTL of cached type '{name}' must be positive.");
        }

        ArgumentNullException.ThrowIfNull(tags);
        foreach (var tag in tags)
        {
            CacheNames.ThrowIfInvalid(tag, nameof(tags));
        }

        Name = name;
        SchemaHash = schemaHash;
        Ttl = ttl;
        LocalTtl = localTtl;
        Tags = [.. tags];
    }

    /// <summary>The name the type goes by in cache keys and version counters.</summary>
    public string Name { get; }

    /// <summary>A hash of the type's serialized member layout; an entry written under another hash is a miss.</summary>
    public ulong SchemaHash { get; }

    /// <summary>How long an entry lives in the distributed level.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>How long an entry lives in the in-process level.</summary>
    public TimeSpan LocalTtl { get; }

    /// <summary>The tags every entry of the type carries.</summary>
    public ImmutableArray<string> Tags { get; }
}

/// <summary>The descriptor of cached type <typeparamref name="T"/> with key struct <typeparamref name="TKey"/>.</summary>
/// <typeparam name="T">The cached type.</typeparam>
/// <typeparam name="TKey">Its generated key struct.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class CacheTypeDescriptor<T, TKey> : CacheTypeDescriptor
    where T : class
    where TKey : struct, ICacheKey<TKey>
{
    private readonly Func<T, TKey> _keyOf;

    /// <summary>Creates the descriptor; called once per type by generated code.</summary>
    /// <param name="name">The name in keys: 1 to 64 letters, digits, <c>-</c>, <c>_</c> or <c>.</c>.</param>
    /// <param name="schemaHash">The hash of the serialized member layout.</param>
    /// <param name="ttl">The distributed lifetime; positive.</param>
    /// <param name="localTtl">The in-process lifetime; positive.</param>
    /// <param name="tags">The type's tags, each a valid name.</param>
    /// <param name="formatter">The generated MessagePack formatter.</param>
    /// <param name="keyOf">Reads the key of an entity (a static lambda).</param>
    public CacheTypeDescriptor(
        string name,
        ulong schemaHash,
        TimeSpan ttl,
        TimeSpan localTtl,
        string[] tags,
        IMessagePackFormatter<T> formatter,
        Func<T, TKey> keyOf)
        : base(name, schemaHash, ttl, localTtl, tags)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        ArgumentNullException.ThrowIfNull(keyOf);
        Formatter = formatter;
        _keyOf = keyOf;
    }

    /// <summary>The generated formatter of <typeparamref name="T"/>.</summary>
    public IMessagePackFormatter<T> Formatter { get; }

    /// <summary>The key of <paramref name="entity"/>.</summary>
    /// <param name="entity">A non-null entity.</param>
    public TKey KeyOf(T entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return _keyOf(entity);
    }
}
