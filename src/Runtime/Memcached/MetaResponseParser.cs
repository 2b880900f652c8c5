using System.Buffers.Text;

namespace TypedCache.Memcached;

/// <summary>The kind of one response frame (protocols.md §23; classic lines for <c>version</c>, <c>stats</c>, <c>flush_all</c>).</summary>
internal enum MetaResponseCode : byte
{
    /// <summary><c>VA &lt;len&gt; flags</c> plus a data block.</summary>
    Value,
    /// <summary><c>HD</c>: success or hit without value.</summary>
    Header,
    /// <summary><c>EN</c>: miss.</summary>
    Miss,
    /// <summary><c>NF</c>: not found.</summary>
    NotFound,
    /// <summary><c>NS</c>: not stored.</summary>
    NotStored,
    /// <summary><c>EX</c>: CAS mismatch.</summary>
    Exists,
    /// <summary><c>MN</c>: the end marker of <c>mn</c>.</summary>
    NoOp,
    /// <summary><c>ME key k=v…</c>: debug dump.</summary>
    Debug,
    /// <summary><c>CLIENT_ERROR text</c>.</summary>
    ClientError,
    /// <summary><c>SERVER_ERROR text</c>.</summary>
    ServerError,
    /// <summary><c>ERROR</c>: unknown command; the stream can no longer be trusted.</summary>
    Error,
    /// <summary><c>VERSION text</c>.</summary>
    Version,
    /// <summary><c>STAT name value</c>.</summary>
    Stat,
    /// <summary><c>END</c>.</summary>
    End,
    /// <summary><c>OK</c>.</summary>
    Ok,
}

/// <summary>What <see cref="MetaResponseParser.TryParse"/> found at the start of its input.</summary>
internal enum MetaParseStatus : byte
{
    /// <summary>A whole frame was parsed.</summary>
    Complete,
    /// <summary>The input holds only the start of a frame; read more.</summary>
    Incomplete,
    /// <summary>The input is not a valid frame: the stream is out of step and must be closed.</summary>
    Invalid,
}

/// <summary>One parsed response frame. Its spans point into the parser's input.</summary>
internal readonly ref struct MetaResponse
{
    public MetaResponse(MetaResponseCode code, ReadOnlySpan<byte> text, ReadOnlySpan<byte> value)
    {
        Code = code;
        Text = text;
        Value = value;
    }

    /// <summary>The response code.</summary>
    public MetaResponseCode Code { get; }

    /// <summary>The rest of the line after the code (and after the length of <c>VA</c>): flags, or the error/stat text.</summary>
    public ReadOnlySpan<byte> Text { get; }

    /// <summary>The data block of <c>VA</c>, without its trailing CRLF.</summary>
    public ReadOnlySpan<byte> Value { get; }
}

/// <summary>Reads response frames from raw bytes (protocols.md §33): lines end in CRLF, a <c>VA</c> data block is read by length.</summary>
internal static class MetaResponseParser
{
    /// <summary>The longest response line accepted; a longer run of bytes without CRLF is garbage.</summary>
    public const int MaxLineLength = 8192;

    /// <summary>
    /// Parses one frame from the start of <paramref name="input"/>. On <see cref="MetaParseStatus.Complete"/>,
    /// <paramref name="consumed"/> is the frame's length; on <see cref="MetaParseStatus.Incomplete"/>, it is the least
    /// total number of bytes the frame needs (so a caller can grow its buffer before a large value arrives). A
    /// <c>VA</c> announcing more than <paramref name="maxValueLength"/> bytes (the server's item size limit) is
    /// <see cref="MetaParseStatus.Invalid"/>: no real server sends it, and trusting it would allocate up to 2 GB.
    /// </summary>
    public static MetaParseStatus TryParse(ReadOnlySpan<byte> input, int maxValueLength, out MetaResponse response, out int consumed)
    {
        response = default;
        int lf = input.Length > MaxLineLength ? input[..MaxLineLength].IndexOf((byte)'\n') : input.IndexOf((byte)'\n');
        if (lf < 0)
        {
            consumed = input.Length + 1;
            return input.Length >= MaxLineLength || !PrefixIsPlausible(input) ? MetaParseStatus.Invalid : MetaParseStatus.Incomplete;
        }
        if (lf == 0 || input[lf - 1] != (byte)'\r')
        {
            consumed = 0;
            return MetaParseStatus.Invalid;
        }
        var line = input[..(lf - 1)];
        int lineEnd = lf + 1;
        consumed = 0;

        if (line.Length >= 2 && (line.Length == 2 || line[2] == (byte)' '))
        {
            var rest = line.Length > 3 ? line[3..] : [];
            MetaResponseCode code;
            switch ((line[0] << 8) | line[1])
            {
                case ('V' << 8) | 'A':
                    return ParseValue(input, rest, lineEnd, maxValueLength, out response, out consumed);
                case ('H' << 8) | 'D': code = MetaResponseCode.Header; break;
                case ('E' << 8) | 'N': code = MetaResponseCode.Miss; break;
                case ('N' << 8) | 'F': code = MetaResponseCode.NotFound; break;
                case ('N' << 8) | 'S': code = MetaResponseCode.NotStored; break;
                case ('E' << 8) | 'X': code = MetaResponseCode.Exists; break;
                case ('M' << 8) | 'N': code = MetaResponseCode.NoOp; break;
                case ('M' << 8) | 'E': code = MetaResponseCode.Debug; break;
                case ('O' << 8) | 'K': code = MetaResponseCode.Ok; break;
                default: return MetaParseStatus.Invalid;
            }
            response = new MetaResponse(code, rest, default);
            consumed = lineEnd;
            return MetaParseStatus.Complete;
        }

        if (TryMatchWord(line, "CLIENT_ERROR"u8, out var text))
            response = new MetaResponse(MetaResponseCode.ClientError, text, default);
        else if (TryMatchWord(line, "SERVER_ERROR"u8, out text))
            response = new MetaResponse(MetaResponseCode.ServerError, text, default);
        else if (TryMatchWord(line, "ERROR"u8, out text))
            response = new MetaResponse(MetaResponseCode.Error, text, default);
        else if (TryMatchWord(line, "VERSION"u8, out text))
            response = new MetaResponse(MetaResponseCode.Version, text, default);
        else if (TryMatchWord(line, "STAT"u8, out text))
            response = new MetaResponse(MetaResponseCode.Stat, text, default);
        else if (TryMatchWord(line, "END"u8, out text) && text.IsEmpty)
            response = new MetaResponse(MetaResponseCode.End, text, default);
        else
            return MetaParseStatus.Invalid;
        consumed = lineEnd;
        return MetaParseStatus.Complete;
    }

    private static MetaParseStatus ParseValue(ReadOnlySpan<byte> input, ReadOnlySpan<byte> rest, int lineEnd, int maxValueLength,
        out MetaResponse response, out int consumed)
    {
        response = default;
        consumed = 0;
        int space = rest.IndexOf((byte)' ');
        var lengthText = space < 0 ? rest : rest[..space];
        if (lengthText.IsEmpty || lengthText[0] == (byte)'-'
            || !Utf8Parser.TryParse(lengthText, out int length, out int used) || used != lengthText.Length
            || length > maxValueLength)
            return MetaParseStatus.Invalid;
        long frameEnd = (long)lineEnd + length + 2;
        if (frameEnd > int.MaxValue)
            return MetaParseStatus.Invalid;
        if (input.Length < frameEnd)
        {
            consumed = (int)frameEnd;
            if (input.Length > lineEnd + length && input[lineEnd + length] != (byte)'\r')
                return MetaParseStatus.Invalid;
            return MetaParseStatus.Incomplete;
        }
        if (input[lineEnd + length] != (byte)'\r' || input[lineEnd + length + 1] != (byte)'\n')
            return MetaParseStatus.Invalid;
        response = new MetaResponse(MetaResponseCode.Value, space < 0 ? [] : rest[(space + 1)..], input.Slice(lineEnd, length));
        consumed = (int)frameEnd;
        return MetaParseStatus.Complete;
    }

    private static bool TryMatchWord(ReadOnlySpan<byte> line, ReadOnlySpan<byte> word, out ReadOnlySpan<byte> text)
    {
        text = default;
        if (!line.StartsWith(word))
            return false;
        if (line.Length == word.Length)
            return true;
        if (line[word.Length] != (byte)' ')
            return false;
        text = line[(word.Length + 1)..];
        return true;
    }

    /// <summary>
    /// Whether an unterminated line can still become a valid frame: its first bytes must start a known code. This
    /// rejects most garbage at once instead of waiting for <see cref="MaxLineLength"/> bytes that may never come.
    /// </summary>
    private static readonly byte[][] s_codes =
    [
        "VA"u8.ToArray(), "HD"u8.ToArray(), "EN"u8.ToArray(), "NF"u8.ToArray(), "NS"u8.ToArray(), "EX"u8.ToArray(),
        "MN"u8.ToArray(), "ME"u8.ToArray(), "OK"u8.ToArray(), "CLIENT_ERROR"u8.ToArray(), "SERVER_ERROR"u8.ToArray(),
        "ERROR"u8.ToArray(), "VERSION"u8.ToArray(), "STAT"u8.ToArray(), "END"u8.ToArray(),
    ];

    private static bool PrefixIsPlausible(ReadOnlySpan<byte> partial)
    {
        foreach (var code in s_codes)
        {
            if (partial.Length <= code.Length ? code.AsSpan().StartsWith(partial) : partial.StartsWith(code) && partial[code.Length] is (byte)' ' or (byte)'\r')
                return true;
        }
        return false;
    }
}
