using System.Buffers.Text;

namespace TypedCache.Load.Proxies;

/// <summary>What a memcached text-protocol reply to a one-key <c>get</c> or a <c>set</c> was.</summary>
internal enum TextReplyKind
{
    /// <summary><c>VALUE key flags bytes</c>, the data block, then <c>END</c>: a hit.</summary>
    Value,

    /// <summary><c>END</c> alone: a miss.</summary>
    End,

    /// <summary><c>STORED</c>.</summary>
    Stored,

    /// <summary><c>NOT_STORED</c>.</summary>
    NotStored,

    /// <summary><c>ERROR</c>, <c>CLIENT_ERROR …</c> or <c>SERVER_ERROR …</c>; the connection stays in step.</summary>
    Error,
}

/// <summary>One parsed reply; the ranges are offsets into the buffer that was parsed.</summary>
internal readonly record struct TextReply(TextReplyKind Kind, Range Key, Range Data, Range Line);

/// <summary>
/// Parses the reply to a one-key <c>get</c> or to a <c>set</c> from the start of a buffer. Data blocks are taken by
/// their announced length, never scanned for line ends.
/// </summary>
internal static class TextReplyParser
{
    /// <summary>Longest reply line accepted (a <c>VALUE</c> line holds a 250-byte key and three numbers).</summary>
    public const int MaxLineBytes = 4096;

    /// <summary>Largest data block accepted: memcached's default item size.</summary>
    public const int MaxDataBytes = 1024 * 1024;

    /// <summary>
    /// True with the reply and its length when <paramref name="buffer"/> starts with a whole reply; false when more
    /// bytes are needed.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes cannot be a reply to the request: the connection's framing is lost.</exception>
    public static bool TryParse(ReadOnlySpan<byte> buffer, bool retrieval, out TextReply reply, out int consumed)
    {
        reply = default;
        consumed = 0;
        if (!TryLine(buffer, 0, out int lineEnd))
            return false;
        var line = buffer[..lineEnd];
        int next = lineEnd + 2;
        if (IsError(line))
        {
            reply = new TextReply(TextReplyKind.Error, default, default, ..lineEnd);
            consumed = next;
            return true;
        }
        if (!retrieval)
        {
            var kind = line.SequenceEqual("STORED"u8) ? TextReplyKind.Stored
                : line.SequenceEqual("NOT_STORED"u8) ? TextReplyKind.NotStored
                : throw Invalid("a set", line);
            reply = new TextReply(kind, default, default, ..lineEnd);
            consumed = next;
            return true;
        }
        if (line.SequenceEqual("END"u8))
        {
            reply = new TextReply(TextReplyKind.End, default, default, ..lineEnd);
            consumed = next;
            return true;
        }
        var (key, length) = ValueLine(line);
        int dataEnd = next + length;
        if (buffer.Length < dataEnd + 2 + "END\r\n".Length)
            return false;
        if (!buffer.Slice(dataEnd, 2).SequenceEqual("\r\n"u8) || !buffer.Slice(dataEnd + 2, 5).SequenceEqual("END\r\n"u8))
            throw new InvalidDataException("a VALUE block is not followed by \\r\\nEND\\r\\n: a get of one key has one value");
        reply = new TextReply(TextReplyKind.Value, key, next..dataEnd, ..lineEnd);
        consumed = dataEnd + 7;
        return true;
    }

    private static bool TryLine(ReadOnlySpan<byte> buffer, int from, out int end)
    {
        int newline = buffer[from..].IndexOf("\r\n"u8);
        if (newline < 0)
        {
            if (buffer.Length - from > MaxLineBytes)
                throw new InvalidDataException($"no reply line end within {MaxLineBytes} bytes");
            end = 0;
            return false;
        }
        end = from + newline;
        return true;
    }

    private static bool IsError(ReadOnlySpan<byte> line) =>
        line.SequenceEqual("ERROR"u8) || line.StartsWith("CLIENT_ERROR "u8) || line.StartsWith("SERVER_ERROR "u8);

    /// <summary>The key's range and the data length of <c>VALUE key flags bytes [cas]</c>.</summary>
    private static (Range Key, int Length) ValueLine(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith("VALUE "u8))
            throw Invalid("a get", line);
        int keyStart = 6;
        int keyLength = line[keyStart..].IndexOf((byte)' ');
        if (keyLength <= 0)
            throw Invalid("a get", line);
        var rest = line[(keyStart + keyLength + 1)..];
        int space = rest.IndexOf((byte)' ');
        if (space <= 0 || !Utf8Parser.TryParse(rest[..space], out uint _, out int flagBytes) || flagBytes != space)
            throw Invalid("a get", line);
        rest = rest[(space + 1)..];
        int end = rest.IndexOf((byte)' ');
        var number = end < 0 ? rest : rest[..end];
        if (!Utf8Parser.TryParse(number, out int length, out int lengthBytes) || lengthBytes != number.Length || length is < 0 or > MaxDataBytes)
            throw Invalid("a get", line);
        return (keyStart..(keyStart + keyLength), length);
    }

    private static InvalidDataException Invalid(string request, ReadOnlySpan<byte> line) =>
        new($"'{System.Text.Encoding.ASCII.GetString(line[..Math.Min(line.Length, 120)])}' is not a reply to {request}");
}
