using System.Buffers;
using System.Buffers.Binary;

namespace TypedCache.Caching.Distributed;

/// <summary>The outcome of <see cref="CacheEnvelope.TryParse"/>.</summary>
internal enum EnvelopeParseResult
{
    /// <summary>A well-formed envelope of this format, stored under this schema's client flags.</summary>
    Ok,

    /// <summary>The bytes are shorter than their header says, or hold an impossible count.</summary>
    Corrupt,

    /// <summary>The first byte names a format this version does not read (a newer TypedCache wrote it).</summary>
    UnknownFormat,

    /// <summary>Stored under other client flags: another schema hash (a rolling deploy changed the type), another encoding, or not by TypedCache.</summary>
    OtherSchema,

    /// <summary>No bytes: a lease placeholder, not a value.</summary>
    Empty,
}

/// <summary>
/// Every value stored in memcached is wrapped in an envelope:
/// <c>[format:1][logicalExpiry unix ms:8 LE][tagCount:1][tagVersion:8 LE]×tagCount[payload]</c>, and stored under
/// client flags that name its schema and encoding (<see cref="Flags"/>). The logical expiry is when the value stops
/// being fresh; the item lives on in memcached for the fail-safe window after it. Tag versions are those of the type's
/// tags, in the descriptor's order, when the value was loaded.
/// </summary>
internal static class CacheEnvelope
{
    /// <summary>The format this version writes and reads.</summary>
    public const byte Format = 2;

    /// <summary>The payload encoding in the low byte of the client flags: the generated MessagePack formatter.</summary>
    public const byte MessagePackEncoding = 1;

    private const int FixedHeader = 1 + 8 + 1;

    /// <summary>
    /// The client flags of an entry of a type with <paramref name="schemaHash"/>: the hash folded to 24 bits in the high
    /// bytes, the encoding in the low byte. Never 0, so bytes stored without flags are never taken for an entry.
    /// </summary>
    public static uint Flags(ulong schemaHash)
    {
        var folded = (uint)(schemaHash ^ (schemaHash >> 24) ^ (schemaHash >> 48)) & 0xFF_FFFFu;
        return (folded << 8) | MessagePackEncoding;
    }

    /// <summary>The header length for a type with <paramref name="tagCount"/> tags.</summary>
    public static int HeaderLength(int tagCount) => FixedHeader + (8 * tagCount);

    /// <summary>Writes the header into <paramref name="writer"/>; the caller writes the payload after it.</summary>
    public static void WriteHeader(IBufferWriter<byte> writer, long logicalExpiryMs, ReadOnlySpan<long> tagVersions)
    {
        if (tagVersions.Length > byte.MaxValue)
        {
            throw new ArgumentException($"An envelope holds at most {byte.MaxValue} tag versions; got {tagVersions.Length}.", nameof(tagVersions));
        }

        var length = HeaderLength(tagVersions.Length);
        var span = writer.GetSpan(length);
        span[0] = Format;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], logicalExpiryMs);
        span[9] = (byte)tagVersions.Length;
        for (var i = 0; i < tagVersions.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[(FixedHeader + (8 * i))..], tagVersions[i]);
        }

        writer.Advance(length);
    }

    /// <summary>
    /// Reads an envelope stored under <paramref name="flags"/> for a reader expecting <paramref name="expectedFlags"/>
    /// (<see cref="Flags"/>); never throws. On <see cref="EnvelopeParseResult.Ok"/> the header is set.
    /// </summary>
    public static EnvelopeParseResult TryParse(uint flags, ReadOnlySpan<byte> bytes, uint expectedFlags, out Header header)
    {
        header = default;
        if (bytes.IsEmpty)
        {
            return EnvelopeParseResult.Empty;
        }

        if (flags != expectedFlags)
        {
            return EnvelopeParseResult.OtherSchema;
        }

        if (bytes[0] != Format)
        {
            return EnvelopeParseResult.UnknownFormat;
        }

        if (bytes.Length < FixedHeader)
        {
            return EnvelopeParseResult.Corrupt;
        }

        var tagCount = bytes[9];
        var length = HeaderLength(tagCount);
        if (bytes.Length < length)
        {
            return EnvelopeParseResult.Corrupt;
        }

        header = new Header(BinaryPrimitives.ReadInt64LittleEndian(bytes[1..]), tagCount, length);
        return EnvelopeParseResult.Ok;
    }

    /// <summary>The tag version at <paramref name="index"/> of an envelope whose header parsed.</summary>
    public static long TagVersion(ReadOnlySpan<byte> bytes, int index) =>
        BinaryPrimitives.ReadInt64LittleEndian(bytes[(FixedHeader + (8 * index))..]);

    /// <summary>A parsed header.</summary>
    /// <param name="LogicalExpiryMs">When the value stops being fresh, in Unix milliseconds.</param>
    /// <param name="TagCount">How many tag versions follow the fixed header.</param>
    /// <param name="PayloadOffset">Where the payload starts.</param>
    internal readonly record struct Header(long LogicalExpiryMs, int TagCount, int PayloadOffset);
}
