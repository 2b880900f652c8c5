using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Buffers;
using System.Buffers.Text;
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

    /// <summary>The characters written as themselves: printable ASCII but the separator, the escape and the long-key marker.</summary>
    private static readonly SearchValues<char> Plain =
        SearchValues.Create("!\"$&'()*+,-./0123456789;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>The most bytes <see cref="Write(Span{byte}, ref int, string)"/> writes for <paramref name="value"/>.</summary>
    /// <param name="value">A non-null part.</param>
    /// <exception cref="ArgumentException"><paramref name="value"/> is null: the key struct was default-initialized.</exception>
    public static int MaxLength(string? value)
    {
        if (value is null)
        {
            ThrowNullPart();
        }

        return value.Length * BytesPerChar;
    }

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
        var pos = position;
        while (!text.IsEmpty)
        {
            var run = text.IndexOfAnyExcept(Plain);
            if (run < 0)
            {
                run = text.Length;
            }

            if (run > 0)
            {
                Ascii.FromUtf16(text[..run], destination[pos..], out var copied);
                pos += copied;
                text = text[run..];
                if (text.IsEmpty)
                {
                    break;
                }
            }

            text = text[WriteEscaped(destination, ref pos, text)..];
        }

        position = pos;
    }

    /// <summary>Escapes the scalar at the start of <paramref name="text"/>; returns how many chars it took.</summary>
    private static int WriteEscaped(Span<byte> destination, ref int position, ReadOnlySpan<char> text)
    {
        var c = text[0];
        if (c < 0x80)
        {
            WriteEscapedByte(destination, ref position, (byte)c);
            return 1;
        }

        if (char.IsHighSurrogate(c) && text.Length > 1 && char.IsLowSurrogate(text[1]))
        {
            WriteEscapedUtf8(destination, ref position, new Rune(c, text[1]));
            return 2;
        }

        if (char.IsSurrogate(c))
        {
            destination[position++] = (byte)'%';
            destination[position++] = (byte)'u';
            WriteHex(destination, ref position, (byte)(c >> 8));
            WriteHex(destination, ref position, (byte)c);
            return 1;
        }

        WriteEscapedUtf8(destination, ref position, new Rune(c));
        return 1;
    }

    private static void WriteEscapedUtf8(Span<byte> destination, ref int position, Rune rune)
    {
        Span<byte> utf8 = stackalloc byte[4];
        var length = rune.EncodeToUtf8(utf8);
        for (var i = 0; i < length; i++)
        {
            WriteEscapedByte(destination, ref position, utf8[i]);
        }
    }

    /// <summary>Writes a signed integer part in invariant decimal digits.</summary>
    /// <param name="destination">The key buffer.</param>
    /// <param name="position">Where to write; advanced past the part.</param>
    /// <param name="value">The part.</param>
    public static void Write(Span<byte> destination, ref int position, long value)
    {
        Utf8Formatter.TryFormat(value, destination[position..], out var written);
        position += written;
    }

    /// <summary>Writes an unsigned integer part in invariant decimal digits.</summary>
    /// <param name="destination">The key buffer.</param>
    /// <param name="position">Where to write; advanced past the part.</param>
    /// <param name="value">The part.</param>
    public static void Write(Span<byte> destination, ref int position, ulong value)
    {
        Utf8Formatter.TryFormat(value, destination[position..], out var written);
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

    [DoesNotReturn]
    private static void ThrowNullPart() =>
        throw new ArgumentException("A string key part is null: a key struct must be created with its constructor, not default.", "value");

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
