using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace TypedCache.Coordination;

/// <summary>One cached entry to drop everywhere: its type's name and its key as text.</summary>
/// <param name="Type">The cached type's name.</param>
/// <param name="Key">The key's parts as the cache engine writes them.</param>
internal sealed record KeyInvalidation(string Type, string Key);

/// <summary>The outcome of <see cref="InvalidationBatch.TryDecode"/>.</summary>
internal enum BatchDecodeResult
{
    Ok,

    /// <summary>The first byte is a format this version does not know (written by a newer TypedCache).</summary>
    UnknownFormat,

    /// <summary>The bytes end early, overrun, or are not UTF-8.</summary>
    Corrupt,
}

/// <summary>
/// The payload of one event-log node: a batch of key invalidations grouped by type, so a type's name is written once.
/// </summary>
/// <remarks>
/// Layout (format 1): <c>0x01</c>, varint group count, then per group: varint byte length + UTF-8 type name, varint
/// key count, and per key: varint byte length + UTF-8 key. Varints are unsigned LEB128 (7 bits per byte, low first),
/// at most 5 bytes. Groups keep the order in which each type first appears; keys keep their order within a type.
/// </remarks>
internal static class InvalidationBatch
{
    private const byte Format1 = 1;

    /// <summary>Encodes <paramref name="keys"/>.</summary>
    public static byte[] Encode(IReadOnlyList<KeyInvalidation> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var groups = new List<(string Type, List<string> Keys)>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (KeyInvalidation key in keys)
        {
            ArgumentNullException.ThrowIfNull(key);
            ArgumentException.ThrowIfNullOrEmpty(key.Type, nameof(keys));
            ArgumentNullException.ThrowIfNull(key.Key, nameof(keys));
            if (!index.TryGetValue(key.Type, out int group))
            {
                index[key.Type] = group = groups.Count;
                groups.Add((key.Type, []));
            }

            groups[group].Keys.Add(key.Key);
        }

        var writer = new ArrayBufferWriter<byte>(16 + (keys.Count * 16));
        writer.Write([Format1]);
        WriteVarint(writer, (uint)groups.Count);
        foreach ((string type, List<string> groupKeys) in groups)
        {
            WriteString(writer, type);
            WriteVarint(writer, (uint)groupKeys.Count);
            foreach (string key in groupKeys)
            {
                WriteString(writer, key);
            }
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a payload; never throws on bad bytes.</summary>
    public static BatchDecodeResult TryDecode(ReadOnlySpan<byte> payload, out List<KeyInvalidation> keys)
    {
        keys = [];
        if (payload.IsEmpty)
        {
            return BatchDecodeResult.Corrupt;
        }

        if (payload[0] != Format1)
        {
            return BatchDecodeResult.UnknownFormat;
        }

        int offset = 1;
        if (!TryReadVarint(payload, ref offset, out uint groups))
        {
            return BatchDecodeResult.Corrupt;
        }

        for (uint g = 0; g < groups; g++)
        {
            if (!TryReadString(payload, ref offset, out string? type) || type.Length == 0 || !TryReadVarint(payload, ref offset, out uint count))
            {
                keys = [];
                return BatchDecodeResult.Corrupt;
            }

            for (uint k = 0; k < count; k++)
            {
                if (!TryReadString(payload, ref offset, out string? key))
                {
                    keys = [];
                    return BatchDecodeResult.Corrupt;
                }

                keys.Add(new KeyInvalidation(type, key));
            }
        }

        if (offset != payload.Length)
        {
            keys = [];
            return BatchDecodeResult.Corrupt;
        }

        return BatchDecodeResult.Ok;
    }

    private static void WriteString(ArrayBufferWriter<byte> writer, string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        WriteVarint(writer, (uint)length);
        Encoding.UTF8.GetBytes(value, writer.GetSpan(length));
        writer.Advance(length);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> writer, uint value)
    {
        Span<byte> span = writer.GetSpan(5);
        int i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        writer.Advance(i);
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> payload, ref int offset, out uint value)
    {
        value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (offset >= payload.Length)
            {
                return false;
            }

            byte b = payload[offset++];
            if (shift == 28 && b > 0x0F)
            {
                return false;
            }

            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryReadString(ReadOnlySpan<byte> payload, ref int offset, [NotNullWhen(true)] out string? value)
    {
        value = null;
        if (!TryReadVarint(payload, ref offset, out uint length) || length > (uint)(payload.Length - offset))
        {
            return false;
        }

        ReadOnlySpan<byte> bytes = payload.Slice(offset, (int)length);
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return false;
        }

        value = Encoding.UTF8.GetString(bytes);
        offset += (int)length;
        return true;
    }
}
