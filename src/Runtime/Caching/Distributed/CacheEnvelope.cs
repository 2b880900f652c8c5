using System.Buffers;
using System.Buffers.Binary;

namespace TypedCache.Caching.Distributed;

/// <summary>The outcome of <see cref="CacheEnvelope.TryParse"/>.</summary>
internal enum EnvelopeParseResult
{
    /// <summary>A well-formed envelope of this format and schema.</summary>
    Ok,

    /// <summary>The bytes are shorter than their header says, or hold an impossible count.</summary>
    Corrupt,

    /// <summary>The first byte names a format this version does not read (a newer TypedCache wrote it).</summary>
    UnknownFormat,

    /// <summary>Written under another schema hash (a rolling deploy changed the type).</summary>
    OtherSchema,

    /// <summary>No bytes: a lease placeholder, not a value.</summary>
    Empty,
}

/// <summary>
/// Every value stored in memcached is wrapped in an envelope:
/// <c>[format:1][schemaHash:8 LE][logicalExpiry unix ms:8 LE][tagCount:1][tagVersion:8 LE]×tagCount[payload]</c>.
/// The logical expiry is when the value stops being fresh; the item lives on in memcached for the fail-safe window
/// after it. Tag versions are those of the type's tags, in the descriptor's order, when the value was loaded.
/// </summary>
internal static class CacheEnvelope
{
    /// <summary>The format this version writes and reads.</summary>
    public const byte Format = 1;

    private const int FixedHeader = 1 + 8 + 8 + 1;

    /// <summary>The header length for a type with <paramref name="tagCount"/> tags.</summary>
    public static int HeaderLength(int tagCount) => FixedHeader + (8 * tagCount);

    /// <summary>Writes the header into <paramref name="writer"/>; the caller writes the payload after it.</summary>
    public static void WriteHeader(IBufferWriter<byte> writer, ulong schemaHash, long logicalExpiryMs, ReadOnlySpan<long> tagVersions)
    {
        if (tagVersions.Length > byte.MaxValue)
        {
            throw new ArgumentException($"An envelope holds at most {byte.MaxValue} tag versions; got {tagVersions.Length}.", nameof(tagVersions));
        }

        var length = HeaderLength(tagVersions.Length);
        var span = writer.GetSpan(length);
        span[0] = Format;
        BinaryPrimitives.WriteUInt64LittleEndian(span[1..], schemaHash);
        BinaryPrimitives.WriteInt64LittleEndian(span[9..], logicalExpiryMs);
        span[17] = (byte)tagVersions.Length;
        for (var i = 0; i < tagVersions.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[(FixedHeader + (8 * i))..], tagVersions[i]);
        }

        writer.Advance(length);
    }

    /// <summary>Reads an envelope; never throws. On <see cref="EnvelopeParseResult.Ok"/> the out values are set.</summary>
    public static EnvelopeParseResult TryParse(ReadOnlySpan<byte> bytes, ulong schemaHash, out Header header)
    {
        header = default;
        if (bytes.IsEmpty)
        {
            return EnvelopeParseResult.Empty;
        }

        if (bytes[0] != Format)
        {
            return EnvelopeParseResult.UnknownFormat;
        }

        if (bytes.Length < FixedHeader)
        {
            return EnvelopeParseResult.Corrupt;
        }

        var tagCount = bytes[17];
        var length = HeaderLength(tagCount);
        if (bytes.Length < length)
        {
            return EnvelopeParseResult.Corrupt;
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(bytes[1..]) != schemaHash)
        {
            return EnvelopeParseResult.OtherSchema;
        }

        header = new Header(BinaryPrimitives.ReadInt64LittleEndian(bytes[9..]), tagCount, length);
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
