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
    private const int StackLimit = 1024;

    /// <summary>
    /// The key head <c>{prefix}:{Type}:{typeVersion}:</c> as ASCII. Versions change rarely, so an engine keeps the
    /// head of each type's current version and rebuilds it when the version moves.
    /// </summary>
    public static byte[] Head(string prefix, CacheTypeDescriptor type, long typeVersion)
    {
        CacheNames.ThrowIfInvalid(prefix, nameof(prefix));
        return Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{prefix}:{type.Name}:{typeVersion}:"));
    }

    /// <summary>
    /// Writes the key of <paramref name="key"/> after <paramref name="head"/> (from <see cref="Head"/>) into
    /// <paramref name="destination"/> (at least <see cref="MaxLength"/> bytes) and returns its length, at most
    /// <see cref="MaxLength"/>.
    /// </summary>
    public static int Write<TKey>(Span<byte> destination, ReadOnlySpan<byte> head, in TKey key)
        where TKey : struct, ICacheKey<TKey>
    {
        var max = head.Length + key.MaxPartsLength;
        return max <= MaxLength ? WriteWhole(destination, head, key) : WriteBounded(destination, head, key, max);
    }

    private static int WriteBounded<TKey>(Span<byte> destination, ReadOnlySpan<byte> head, in TKey key, int max)
        where TKey : struct, ICacheKey<TKey>
    {
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = WriteWhole(buffer, head, key);
            if (length <= MaxLength)
            {
                buffer[..length].CopyTo(destination);
                return length;
            }

            buffer[..KeptLength].CopyTo(destination);
            destination[KeptLength] = (byte)'#';
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[KeptLength..length], hash);
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

    private static int WriteWhole<TKey>(Span<byte> destination, ReadOnlySpan<byte> head, in TKey key)
        where TKey : struct, ICacheKey<TKey>
    {
        head.CopyTo(destination);
        return head.Length + key.WriteParts(destination[head.Length..]);
    }

    /// <summary>The key as a string, for diagnostics.</summary>
    public static string ToString<TKey>(ReadOnlySpan<byte> head, in TKey key)
        where TKey : struct, ICacheKey<TKey>
    {
        Span<byte> destination = stackalloc byte[MaxLength];
        var length = Write(destination, head, key);
        return Encoding.ASCII.GetString(destination[..length]);
    }
}
