using System.Buffers.Binary;
using System.Text;

namespace TypedCache.ZooKeeper.Protocol;

/// <summary>
/// A growable byte buffer that request frames are serialized into. The connection's writer swaps two of
/// them, so serialization never waits for the socket.
/// </summary>
internal sealed class FrameBuffer
{
    private byte[] _buffer;

    public FrameBuffer(int capacity = 4096) => _buffer = new byte[capacity];

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, Length);

    public void Clear() => Length = 0;

    /// <summary>Drops everything written after <paramref name="length"/> (a request that was refused).</summary>
    public void Truncate(int length) => Length = length;

    public Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - Length < size)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + size));
        }

        return _buffer.AsSpan(Length);
    }

    public void Advance(int count) => Length += count;

    public Span<byte> Slice(int start, int length) => _buffer.AsSpan(start, length);
}

/// <summary>
/// Writes jute's binary archive (big-endian ints and longs, length-prefixed buffers and strings, -1 = null)
/// into a <see cref="FrameBuffer"/>.
/// </summary>
internal readonly ref struct JuteWriter
{
    private readonly FrameBuffer _buffer;

    public JuteWriter(FrameBuffer buffer) => _buffer = buffer;

    public int Position => _buffer.Length;

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteBool(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteInt(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void WriteLong(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void WriteBuffer(ReadOnlySpan<byte> value)
    {
        WriteInt(value.Length);
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
    }

    public void WriteNullBuffer() => WriteInt(-1);

    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt(-1);
            return;
        }

        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        Span<byte> span = _buffer.GetSpan(4 + max);
        int written = Encoding.UTF8.GetBytes(value, span[4..]);
        BinaryPrimitives.WriteInt32BigEndian(span, written);
        _buffer.Advance(4 + written);
    }

    /// <summary>Writes <paramref name="prefix"/> and <paramref name="value"/> as one string (chroot + path).</summary>
    public void WriteString(string prefix, string value)
    {
        if (prefix.Length == 0)
        {
            WriteString(value);
            return;
        }

        int max = Encoding.UTF8.GetMaxByteCount(prefix.Length + value.Length);
        Span<byte> span = _buffer.GetSpan(4 + max);
        int written = Encoding.UTF8.GetBytes(prefix, span[4..]);
        if (value != "/")
        {
            written += Encoding.UTF8.GetBytes(value, span[(4 + written)..]);
        }

        BinaryPrimitives.WriteInt32BigEndian(span, written);
        _buffer.Advance(4 + written);
    }

    public void WriteStrings(IReadOnlyCollection<string> values, string prefix = "")
    {
        WriteInt(values.Count);
        foreach (string value in values)
        {
            WriteString(prefix, value);
        }
    }

    public void WriteAcls(IReadOnlyList<Acl> acls)
    {
        WriteInt(acls.Count);
        foreach (Acl acl in acls)
        {
            WriteInt((int)acl.Permissions);
            WriteString(acl.Scheme);
            WriteString(acl.Id);
        }
    }

    /// <summary>Reserves the 4-byte frame length and returns where it is.</summary>
    public int BeginFrame()
    {
        int start = _buffer.Length;
        WriteInt(0);
        return start;
    }

    /// <summary>Back-patches the frame length and returns it (excluding the 4 length bytes).</summary>
    public int EndFrame(int start)
    {
        int length = _buffer.Length - start - 4;
        BinaryPrimitives.WriteInt32BigEndian(_buffer.Slice(start, 4), length);
        return length;
    }
}
