using System.Buffers;
using System.Buffers.Text;

namespace TypedCache.Proxy;

/// <summary>The shape of a backend reply, known from the request that asked for it.</summary>
internal enum ReplyKind : byte
{
    /// <summary>One line: storage, delete, incr/decr, touch, flush_all, and every error.</summary>
    Line,

    /// <summary><c>VALUE</c> blocks ended by <c>END</c> (get, gets, gat, gats), or one error line.</summary>
    Retrieval,

    /// <summary>One meta line, plus a data block when it is <c>VA &lt;len&gt;</c>.</summary>
    Meta,
}

/// <summary>Whether a buffer holds a whole reply.</summary>
internal enum FrameStatus : byte
{
    /// <summary>More bytes are needed.</summary>
    Incomplete,

    /// <summary>A whole reply of the returned length.</summary>
    Complete,

    /// <summary>The bytes cannot be a reply of this kind: the connection's framing is lost.</summary>
    Invalid,
}

/// <summary>
/// Finds where one memcached reply ends in a byte stream, by the kind of request it answers. Data blocks are skipped
/// by their announced length, never scanned for line ends.
/// </summary>
internal static class ReplyFramer
{
    /// <summary>Longest reply line accepted (a <c>VALUE</c> line holds a 250-byte key and three numbers).</summary>
    public const int MaxLineBytes = 4096;

    /// <summary>Finds the end of the reply of <paramref name="kind"/> at the start of <paramref name="buffer"/>.</summary>
    public static FrameStatus TryFrame(ReadOnlySequence<byte> buffer, ReplyKind kind, out long length)
    {
        length = 0;
        var reader = new SequenceReader<byte>(buffer);
        bool first = true;
        while (true)
        {
            var status = ReadLine(ref reader, out var line);
            if (status != FrameStatus.Complete)
                return status;
            if (kind == ReplyKind.Line)
                break;
            if (kind == ReplyKind.Meta)
            {
                if (line.StartsWith("VA "u8))
                {
                    if (!TryParseLength(line[3..], out int dataLength) || !SkipBlock(ref reader, dataLength, out status))
                        return status == FrameStatus.Incomplete ? status : FrameStatus.Invalid;
                }
                break;
            }
            if (line.SequenceEqual("END"u8))
                break;
            if (line.StartsWith("VALUE "u8))
            {
                if (!TryParseValueLength(line, out int dataLength))
                    return FrameStatus.Invalid;
                if (!SkipBlock(ref reader, dataLength, out status))
                    return status;
                first = false;
                continue;
            }
            if (first && IsErrorLine(line))
                break;
            return FrameStatus.Invalid;
        }
        length = reader.Consumed;
        return FrameStatus.Complete;
    }

    /// <summary>Whether a line is <c>ERROR</c>, <c>CLIENT_ERROR …</c> or <c>SERVER_ERROR …</c>.</summary>
    public static bool IsErrorLine(ReadOnlySpan<byte> line) =>
        line.SequenceEqual("ERROR"u8) || line.StartsWith("CLIENT_ERROR"u8) || line.StartsWith("SERVER_ERROR"u8);

    /// <summary>The data length of a <c>VALUE &lt;key&gt; &lt;flags&gt; &lt;bytes&gt; [&lt;cas&gt;]</c> line.</summary>
    public static bool TryParseValueLength(ReadOnlySpan<byte> line, out int length)
    {
        length = 0;
        // Tokens: VALUE, key, flags, bytes[, cas].
        int index = 0;
        for (int token = 0; token < 3; token++)
        {
            int space = line[index..].IndexOf((byte)' ');
            if (space < 0)
                return false;
            index += space + 1;
        }
        var rest = line[index..];
        int end = rest.IndexOf((byte)' ');
        return TryParseLength(end < 0 ? rest : rest[..end], out length);
    }

    /// <summary>Reads one <c>\r\n</c>-terminated line (without the terminator) into <paramref name="line"/>.</summary>
    /// <remarks>A line split across buffer segments is copied; one within a segment is not.</remarks>
    private static FrameStatus ReadLine(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line)
    {
        line = default;
        if (!reader.TryReadTo(out ReadOnlySpan<byte> raw, (byte)'\n'))
            return reader.Remaining > MaxLineBytes ? FrameStatus.Invalid : FrameStatus.Incomplete;
        if (raw.Length > MaxLineBytes || raw.Length == 0 || raw[^1] != (byte)'\r')
            return FrameStatus.Invalid;
        line = raw[..^1];
        return FrameStatus.Complete;
    }

    private static bool SkipBlock(ref SequenceReader<byte> reader, int dataLength, out FrameStatus status)
    {
        if (reader.Remaining < dataLength + 2L)
        {
            status = FrameStatus.Incomplete;
            return false;
        }
        reader.Advance(dataLength);
        if (!reader.IsNext("\r\n"u8, advancePast: true))
        {
            status = FrameStatus.Invalid;
            return false;
        }
        status = FrameStatus.Complete;
        return true;
    }

    /// <summary>Parses the leading decimal length of <paramref name="text"/> (up to a space or its end).</summary>
    private static bool TryParseLength(ReadOnlySpan<byte> text, out int length)
    {
        int end = text.IndexOf((byte)' ');
        var digits = end < 0 ? text : text[..end];
        return Utf8Parser.TryParse(digits, out length, out int consumed) && consumed == digits.Length && length >= 0;
    }
}
