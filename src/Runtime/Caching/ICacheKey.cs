using System.ComponentModel;

namespace TypedCache.Caching;

/// <summary>
/// A cached type's key as a value: the generated <c>readonly struct</c> of the key's parts. It compares and
/// hashes itself, so the in-process level is keyed by it without building a string, and it writes its parts
/// into a span when the distributed key is needed.
/// </summary>
/// <typeparam name="TKey">The key struct itself.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface ICacheKey<TKey> : IEquatable<TKey>
    where TKey : struct, ICacheKey<TKey>
{
    /// <summary>The most bytes <see cref="WriteParts"/> can write for this key.</summary>
    int MaxPartsLength { get; }

    /// <summary>
    /// Writes the key's parts, escaped and separated by <c>:</c>, as printable ASCII into
    /// <paramref name="destination"/>, which holds at least <see cref="MaxPartsLength"/> bytes.
    /// </summary>
    /// <returns>The number of bytes written.</returns>
    int WriteParts(Span<byte> destination);
}
