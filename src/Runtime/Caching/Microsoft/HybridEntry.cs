using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace TypedCache.Caching.MicrosoftCaching;

/// <summary>The outcome of <see cref="HybridEntry.TryParse"/>.</summary>
internal enum HybridEntryParseResult
{
    /// <summary>A well-formed entry of this format.</summary>
    Ok,

    /// <summary>The bytes end before their header says, or hold a tag name that is not UTF-8.</summary>
    Corrupt,

    /// <summary>The first byte names a format this version does not read (a newer TypedCache wrote it).</summary>
    UnknownFormat,
}

/// <summary>
/// The versions a hybrid cache entry was written under: the cache's <c>"*"</c> version and each of its tags'
/// (tags as their ZooKeeper path segments). An entry is current while none of them has moved since.
/// </summary>
internal sealed class TagStamp(long all, string[] tags, StrongBox<long>[] boxes, long[] versions)
{
    public long All { get; } = all;

    public string[] Tags { get; } = tags;

    public long[] Versions { get; } = versions;

    /// <summary>Whether neither <paramref name="all"/> nor a tag moved past the versions stamped.</summary>
    public bool IsCurrent(StrongBox<long> all)
    {
        if (Volatile.Read(ref all.Value) > All)
        {
            return false;
        }

        for (var i = 0; i < boxes.Length; i++)
        {
            if (Volatile.Read(ref boxes[i].Value) > Versions[i])
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// A hybrid cache entry inside its distributed entry:
/// <c>[format:1][all version:8 LE][tag count:2 LE]([tag version:8 LE][name length:2 LE][name, UTF-8])×count[payload]</c>.
/// </summary>
internal static class HybridEntry
{
    public const byte Format = 1;

    private const int FixedHeader = 1 + 8 + 2;

    /// <summary>Writes the header of <paramref name="stamp"/>; the caller writes the payload after it.</summary>
    /// <returns>The header's length.</returns>
    public static int WriteHeader(IBufferWriter<byte> writer, TagStamp stamp)
    {
        var length = FixedHeader;
        foreach (var tag in stamp.Tags)
        {
            length += 8 + 2 + Encoding.UTF8.GetByteCount(tag);
        }

        var span = writer.GetSpan(length);
        span[0] = Format;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], stamp.All);
        BinaryPrimitives.WriteUInt16LittleEndian(span[9..], (ushort)stamp.Tags.Length);
        var position = FixedHeader;
        for (var i = 0; i < stamp.Tags.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[position..], stamp.Versions[i]);
            var written = Encoding.UTF8.GetBytes(stamp.Tags[i], span[(position + 10)..]);
            BinaryPrimitives.WriteUInt16LittleEndian(span[(position + 8)..], (ushort)written);
            position += 10 + written;
        }

        writer.Advance(length);
        return length;
    }

    /// <summary>Reads an entry's header; never throws.</summary>
    public static HybridEntryParseResult TryParse(ReadOnlySpan<byte> bytes, out Header header)
    {
        header = default;
        if (bytes.IsEmpty || bytes[0] != Format)
        {
            return bytes.IsEmpty ? HybridEntryParseResult.Corrupt : HybridEntryParseResult.UnknownFormat;
        }

        if (bytes.Length < FixedHeader)
        {
            return HybridEntryParseResult.Corrupt;
        }

        var all = BinaryPrimitives.ReadInt64LittleEndian(bytes[1..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(bytes[9..]);
        var tags = new string[count];
        var versions = new long[count];
        var position = FixedHeader;
        for (var i = 0; i < count; i++)
        {
            if (bytes.Length < position + 10)
            {
                return HybridEntryParseResult.Corrupt;
            }

            versions[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[position..]);
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(position + 8)..]);
            position += 10;
            if (bytes.Length < position + nameLength || nameLength == 0 || !Utf8.IsValid(bytes.Slice(position, nameLength)))
            {
                return HybridEntryParseResult.Corrupt;
            }

            tags[i] = Encoding.UTF8.GetString(bytes.Slice(position, nameLength));
            position += nameLength;
        }

        header = new Header(all, tags, versions, position);
        return HybridEntryParseResult.Ok;
    }

    /// <summary>A parsed header.</summary>
    /// <param name="All">The <c>"*"</c> version stamped.</param>
    /// <param name="Tags">The tags, as path segments.</param>
    /// <param name="Versions">Their versions stamped, in the same order.</param>
    /// <param name="PayloadOffset">Where the serialized value starts.</param>
    internal readonly record struct Header(long All, string[] Tags, long[] Versions, int PayloadOffset);
}
