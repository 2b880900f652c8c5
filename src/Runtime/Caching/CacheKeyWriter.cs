using System.ComponentModel;
using System.Globalization;
using System.Text;

namespace TypedCache.Caching;

/// <summary>
/// Writes key parts for generated key structs: printable ASCII, invariant culture, no allocation. Every byte
/// outside <c>!</c>..<c>~</c>, and <c>:</c> (the separator), <c>%</c> (the escape) and <c>#</c> (the long-key
/// marker), is written as <c>%XX</c> of its UTF-8 byte; an unpaired surrogate as <c>%uXXXX</c>. The encoding
/// is injective, so distinct parts give distinct keys.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class CacheKeyWriter
{
    /// <summary>The separator between key parts.</summary>
    public const byte Separator = (byte)':';

    private const int BytesPerChar = 9;

    /// <summary>The most bytes <see cref="Write(Span{byte}, ref int, string)"/> writes for <paramref name="value"/>.</summary>
    /// <param name="value">A non-null part.</param>
    public static int MaxLength(string value) => value.Length * BytesPerChar;

    /// <summary>The most bytes a 64-bit integer part takes.</summary>
    /// <param name="value">The part; unused, for overload symmetry with generated code.</param>
    public static int MaxLength(long value) => 20;

    /// <summary>The most bytes an unsigned 64-bit integer part takes.</summary>
    /// <param name="value">The part.</param>
    public static int MaxLength(ulong value) => 20;

    /// <summary>The most bytes a Boolean part takes.</summary>
    /// <param name="value">The part.</param>
    public static int MaxLength(bool value) => 5;

    /// <summary>The most bytes a character part takes.</summary>
    /// <param name="value">The part.</param>
    public static int MaxLength(char value) => BytesPerChar;

    /// <summary>The most bytes a GUID part takes.</summary>
    /// <param name="value">The part.</param>
    public static int MaxLength(Guid value) => 32;

    /// <summary>The most bytes a date part takes.</summary>
    /// <param name="value">The part.</param>
    public static int MaxLength(DateTime value) => 20;

    /// <summary>The most bytes a date-and-offset part takes.</summary>
    /// <param name="value">The part.</param>
    public static int MaxLength(DateTimeOffset value) => 20;

    /// <summary>The most bytes a time-span part takes.</summary>
    /// <param name="value">The part.</param>
    public static int MaxLength(TimeSpan value) => 20;

    /// <summary>Writes a string part, escaped.</summary>
    /// <param name="destination">The key buffer.</param>
    /// <param name="position">Where to write; advanced past the part.</param>
    /// <param name="value">A non-null part.</param>
    public static void Write(Span<byte> destination, ref int position, string value) =>
        WriteText(destination, ref position, value);

    private static void WriteText(Span<byte> destination, ref int position, ReadOnlySpan<char> text)
    {
        Span<byte> utf8 = stackalloc byte[4];
        var pos = position;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c > ' ' && c < 0x7F && c is not (':' or '%' or '#'))
            {
                destination[pos++] = (byte)c;
                continue;
            }

            if (c < 0x80)
            {
                WriteEscapedByte(destination, ref pos, (byte)c);
                continue;
            }

            int scalar;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                scalar = char.ConvertToUtf32(c, text[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                destination[pos++] = (byte)'%';
                destination[pos++] = (byte)'u';
                WriteHex(destination, ref pos, (byte)(c >> 8));
                WriteHex(destination, ref pos, (byte)c);
                continue;
            }
            else
            {
                scalar = c;
            }

            var length = new Rune(scalar).EncodeToUtf8(utf8);
            for (var j = 0; j < length; j++)
            {
                WriteEscapedByte(destination, ref pos, utf8[j]);
            }
        }

        position = pos;
    }

    /// <summary>Writes a signed integer part in invariant decimal digits.</summary>
    /// <param name="destination">The key buffer.</param>
    /// <param name="position">Where to write; advanced past the part.</param>
    /// <param name="value">The part.</param>
    public static void Write(Span<byte> destination, ref int position, long value)
    {
        value.TryFormat(destination[position..], out var written, default, CultureInfo.InvariantCulture);
        position += written;
    }

    /// <summary>Writes an unsigned integer part in invariant decimal digits.</summary>
    /// <param name="destination">The key buffer.</param>
    /// <param name="position">Where to write; advanced past the part.</param>
    /// <param name="value">The part.</param>
    public static void Write(Span<byte> destination, ref int position, ulong value)
    {
        value.TryFormat(destination[position..], out var written, default, CultureInfo.InvariantCulture);
        position += written;
    }

    /// <summary>Writes a Boolean part as <c>true</c> or <c>false</c>.</summary>
    /// <param name="destination">The key buffer.</param>
    /// <param name="position">Where to write; advanced past the part.</param>
    /// <param name="value">The part.</param>
    public static void Write(Span<byte> destination, ref int position, bool value)
    {
        var text = value ? "true"u8 : "false"u8;
        text.CopyTo(destination[position..]);
        position += text.Length;
    }

    /// <summary>Writes a character part, escaped like a one-character string.</summary>
    /// <param name="destination">The key buffer.</param>
    /// <param name="position">Where to write; advanced past the part.</param>
    /// <param name="value">The part.</param>
    public static void Write(Span<byte> destination, ref int position, char value)
        => WriteText(destination, ref position, new ReadOnlySpan<char>(in value));

    /// <summary>Writes a GUID part as 32 lowercase hex digits.</summary>
    /// <param name="destination">The key buffer.</param>
    /// <param name="position">Where to write; advanced past the part.</param>
    /// <param name="value">The part.</param>
    public static void Write(Span<byte> destination, ref int position, Guid value)
    {
        value.TryFormat(destination[position..], out var written, "N");
        position += written;
    }

    /// <summary>Writes a date part as its ticks (the same instant under any culture or kind compares equal).</summary>
    /// <param name="destination">The key buffer.</param>
    /// <param name="position">Where to write; advanced past the part.</param>
    /// <param name="value">The part.</param>
    public static void Write(Span<byte> destination, ref int position, DateTime value) =>
        Write(destination, ref position, value.Ticks);

    /// <summary>Writes a date-and-offset part as its UTC ticks, matching its equality.</summary>
    /// <param name="destination">The key buffer.</param>
    /// <param name="position">Where to write; advanced past the part.</param>
    /// <param name="value">The part.</param>
    public static void Write(Span<byte> destination, ref int position, DateTimeOffset value) =>
        Write(destination, ref position, value.UtcTicks);

    /// <summary>Writes a time-span part as its ticks.</summary>
    /// <param name="destination">The key buffer.</param>
    /// <param name="position">Where to write; advanced past the part.</param>
    /// <param name="value">The part.</param>
    public static void Write(Span<byte> destination, ref int position, TimeSpan value) =>
        Write(destination, ref position, value.Ticks);

    private static void WriteEscapedByte(Span<byte> destination, ref int position, byte value)
    {
        destination[position++] = (byte)'%';
        WriteHex(destination, ref position, value);
    }

    internal static void WriteHex(Span<byte> destination, ref int position, byte value)
    {
        destination[position++] = (byte)"0123456789ABCDEF"[value >> 4];
        destination[position++] = (byte)"0123456789ABCDEF"[value & 0xF];
    }
}
