using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TypedCache.Caching;

/// <summary>
/// Builds memcached keys, <c>{prefix}:{Type}:{typeVersion}:{part1}:{part2}</c>, into spans. A key over
/// <see cref="MaxLength"/> bytes keeps its first <see cref="KeptLength"/> bytes and ends in <c>#</c> and
/// 32 hex digits of the SHA-256 of the rest; <c>#</c> never occurs in an escaped part, so a shortened key
/// never equals a short one.
/// </summary>
internal static class CacheKeys
{
    /// <summary>memcached's limit on a key's length.</summary>
    public const int MaxLength = 250;

    private const int HashHexLength = 32;
    private const int KeptLength = MaxLength - 1 - HashHexLength;
    private const int StackLimit = 512;

    /// <summary>The key head <c>{prefix}:{Type}:</c> as ASCII; both names are valid <see cref="CacheNames"/>.</summary>
    public static byte[] Head(string prefix, CacheTypeDescriptor type)
    {
        CacheNames.ThrowIfInvalid(prefix, nameof(prefix));
        return Encoding.ASCII.GetBytes($"{prefix}:{type.Name}:");
    }

    /// <summary>
    /// Writes the key of <paramref name="key"/> into <paramref name="destination"/> (at least
    /// <see cref="MaxLength"/> bytes) and returns its length, at most <see cref="MaxLength"/>.
    /// </summary>
    public static int Write<TKey>(Span<byte> destination, ReadOnlySpan<byte> head, long typeVersion, in TKey key)
        where TKey : struct, ICacheKey<TKey>
    {
        var max = head.Length + 21 + key.MaxPartsLength;
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            head.CopyTo(buffer);
            var position = head.Length;
            typeVersion.TryFormat(buffer[position..], out var written, default, CultureInfo.InvariantCulture);
            position += written;
            buffer[position++] = CacheKeyWriter.Separator;
            position += key.WriteParts(buffer[position..]);
            if (position <= MaxLength)
            {
                buffer[..position].CopyTo(destination);
                return position;
            }

            buffer[..KeptLength].CopyTo(destination);
            destination[KeptLength] = (byte)'#';
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[KeptLength..position], hash);
            var hexPosition = KeptLength + 1;
            foreach (var b in hash[..(HashHexLength / 2)])
            {
                CacheKeyWriter.WriteHex(destination, ref hexPosition, b);
            }

            return MaxLength;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The key as a string, for diagnostics.</summary>
    public static string ToString<TKey>(ReadOnlySpan<byte> head, long typeVersion, in TKey key)
        where TKey : struct, ICacheKey<TKey>
    {
        Span<byte> destination = stackalloc byte[MaxLength];
        var length = Write(destination, head, typeVersion, key);
        return Encoding.ASCII.GetString(destination[..length]);
    }
}
