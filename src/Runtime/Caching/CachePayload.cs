using System.Buffers;
using System.ComponentModel;
using System.Buffers.Binary;
using MessagePack;

namespace TypedCache.Caching;

/// <summary>
/// The encodings generated formatters use for values MessagePack has no native type for. Each round-trips its
/// value exactly: a decimal as its 16 bytes, a GUID as its 16 bytes, a date as <see cref="DateTime.ToBinary"/>
/// (ticks and kind), a date with offset as <c>[ticks, offset minutes]</c>, a time span as its ticks.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class CachePayload
{
    /// <summary>Writes a decimal as a 16-byte bin.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void Write(ref MessagePackWriter writer, decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        writer.WriteBinHeader(16);
        var destination = writer.GetSpan(16);
        for (var i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination[(i * 4)..], bits[i]);
        }

        writer.Advance(16);
    }

    /// <summary>Reads a decimal written by <see cref="Write(ref MessagePackWriter, decimal)"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">The bin is not 16 bytes, or not a valid decimal.</exception>
    public static decimal ReadDecimal(ref MessagePackReader reader)
    {
        Span<byte> bytes = stackalloc byte[16];
        ReadFixedBin(ref reader, bytes, "decimal");
        Span<int> bits = stackalloc int[4];
        for (var i = 0; i < 4; i++)
        {
            bits[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * 4)..]);
        }

        try
        {
            return new decimal(bits);
        }
        catch (ArgumentException exception)
        {
            throw new MessagePackSerializationException("The payload holds an invalid decimal.", exception);
        }
    }

    /// <summary>Writes a GUID as a 16-byte bin.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void Write(ref MessagePackWriter writer, Guid value)
    {
        writer.WriteBinHeader(16);
        value.TryWriteBytes(writer.GetSpan(16));
        writer.Advance(16);
    }

    /// <summary>Reads a GUID written by <see cref="Write(ref MessagePackWriter, Guid)"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static Guid ReadGuid(ref MessagePackReader reader)
    {
        Span<byte> bytes = stackalloc byte[16];
        ReadFixedBin(ref reader, bytes, "Guid");
        return new Guid(bytes);
    }

    /// <summary>Writes a date as <see cref="DateTime.ToBinary"/>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void Write(ref MessagePackWriter writer, DateTime value) => writer.Write(value.ToBinary());

    /// <summary>Reads a date written by <see cref="Write(ref MessagePackWriter, DateTime)"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static DateTime ReadDateTime(ref MessagePackReader reader)
    {
        try
        {
            return DateTime.FromBinary(reader.ReadInt64());
        }
        catch (ArgumentException exception)
        {
            throw new MessagePackSerializationException("The payload holds an invalid DateTime.", exception);
        }
    }

    /// <summary>Writes a date with offset as <c>[ticks, offset minutes]</c>.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void Write(ref MessagePackWriter writer, DateTimeOffset value)
    {
        writer.WriteArrayHeader(2);
        writer.Write(value.Ticks);
        writer.Write((short)value.TotalOffsetMinutes);
    }

    /// <summary>Reads a date with offset written by <see cref="Write(ref MessagePackWriter, DateTimeOffset)"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static DateTimeOffset ReadDateTimeOffset(ref MessagePackReader reader)
    {
        if (reader.ReadArrayHeader() != 2)
        {
            throw new MessagePackSerializationException("The payload holds an invalid DateTimeOffset: expected an array of 2.");
        }

        var ticks = reader.ReadInt64();
        var offset = reader.ReadInt16();
        try
        {
            return new DateTimeOffset(ticks, TimeSpan.FromMinutes(offset));
        }
        catch (ArgumentException exception)
        {
            throw new MessagePackSerializationException("The payload holds an invalid DateTimeOffset.", exception);
        }
    }

    /// <summary>Writes a time span as its ticks.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void Write(ref MessagePackWriter writer, TimeSpan value) => writer.Write(value.Ticks);

    /// <summary>Reads a time span written by <see cref="Write(ref MessagePackWriter, TimeSpan)"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static TimeSpan ReadTimeSpan(ref MessagePackReader reader) => new(reader.ReadInt64());

    /// <summary>Reads a bin (or nil) as a byte array.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The bytes, or <see langword="null"/> for nil.</returns>
    public static byte[]? ReadBytes(ref MessagePackReader reader) => reader.ReadBytes() is { } bytes ? bytes.ToArray() : null;

    private static void ReadFixedBin(ref MessagePackReader reader, scoped Span<byte> destination, string typeName)
    {
        var bytes = reader.ReadBytes();
        if (bytes is not { } sequence || sequence.Length != destination.Length)
        {
            throw new MessagePackSerializationException($"The payload holds an invalid {typeName}: expected a bin of {destination.Length} bytes.");
        }

        sequence.CopyTo(destination);
    }
}
