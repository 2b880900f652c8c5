using System.Buffers.Binary;

namespace TypedCache.Caching.MicrosoftCaching;

/// <summary>The outcome of <see cref="DistributedEntry.TryParse"/>.</summary>
internal enum DistributedEntryParseResult
{
    /// <summary>A well-formed entry of this format.</summary>
    Ok,

    /// <summary>Shorter than the header, or a header that makes no sense.</summary>
    Corrupt,

    /// <summary>The first byte names a format this version does not read.</summary>
    UnknownFormat,

    /// <summary>No bytes (a lease placeholder or a stub), not an entry.</summary>
    Empty,
}

/// <summary>
/// An <c>IDistributedCache</c> entry in memcached: <c>[format:1][absolute expiry, Unix ms:8 LE][sliding window, ms:8 LE][value]</c>.
/// The absolute expiry is <see cref="long.MaxValue"/> when there is none, the sliding window 0 when there is none.
/// memcached's TTL enforces both on the server; the header lets a read check the absolute cap by the injected clock
/// and extend a sliding entry without passing it.
/// </summary>
internal static class DistributedEntry
{
    public const byte Format = 1;

    public const int HeaderLength = 1 + 8 + 8;

    public const long NoExpiry = long.MaxValue;

    public static void WriteHeader(Span<byte> destination, long absoluteExpiryMs, long slidingMs)
    {
        destination[0] = Format;
        BinaryPrimitives.WriteInt64LittleEndian(destination[1..], absoluteExpiryMs);
        BinaryPrimitives.WriteInt64LittleEndian(destination[9..], slidingMs);
    }

    /// <summary>Reads an entry's header; never throws.</summary>
    public static DistributedEntryParseResult TryParse(ReadOnlySpan<byte> bytes, out Header header)
    {
        header = default;
        if (bytes.IsEmpty)
        {
            return DistributedEntryParseResult.Empty;
        }

        if (bytes[0] != Format)
        {
            return DistributedEntryParseResult.UnknownFormat;
        }

        if (bytes.Length < HeaderLength)
        {
            return DistributedEntryParseResult.Corrupt;
        }

        var absolute = BinaryPrimitives.ReadInt64LittleEndian(bytes[1..]);
        var sliding = BinaryPrimitives.ReadInt64LittleEndian(bytes[9..]);
        if (absolute <= 0 || sliding < 0)
        {
            return DistributedEntryParseResult.Corrupt;
        }

        header = new Header(absolute, sliding);
        return DistributedEntryParseResult.Ok;
    }

    /// <summary>A parsed header.</summary>
    /// <param name="AbsoluteExpiryMs">When the entry expires whatever its reads, Unix ms; <see cref="NoExpiry"/> for never.</param>
    /// <param name="SlidingMs">The sliding window in ms; 0 for none.</param>
    internal readonly record struct Header(long AbsoluteExpiryMs, long SlidingMs);
}
