namespace TypedCache.Caching.MicrosoftCaching;

/// <summary>
/// A string key of Microsoft's cache abstractions as a key struct, so that it is escaped and shortened exactly like
/// a generated key: <c>{prefix}:{escaped key}</c>, never an invalid memcached key whatever the string holds.
/// </summary>
internal readonly struct TextCacheKey(string value) : ICacheKey<TextCacheKey>
{
    private readonly string _value = value;

    public int MaxPartsLength => CacheKeyWriter.MaxLength(_value);

    public int WriteParts(Span<byte> destination)
    {
        var position = 0;
        CacheKeyWriter.Write(destination, ref position, _value);
        return position;
    }

    public bool Equals(TextCacheKey other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is TextCacheKey other && Equals(other);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>The head <c>{prefix}:</c> of every key of one cache.</summary>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is not a valid name.</exception>
    public static byte[] Head(string prefix)
    {
        CacheNames.ThrowIfInvalid(prefix, nameof(prefix));
        return System.Text.Encoding.ASCII.GetBytes(prefix + ":");
    }

    /// <summary>The memcached key of <paramref name="key"/> after <paramref name="head"/>, as ASCII text.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    public static string MemcachedKey(byte[] head, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return CacheKeys.ToString(head, new TextCacheKey(key));
    }
}
