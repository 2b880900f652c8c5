using System.Buffers.Binary;
using System.Text;

namespace TypedCache.ZooKeeper.Protocol;

/// <summary>
/// Reads jute's binary archive from a span. Every read checks its bounds and throws
/// <see cref="ZooKeeperProtocolException"/> on a short or malformed record, so corrupt server bytes tear the
/// connection down instead of producing wrong values.
/// </summary>
internal ref struct JuteReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public JuteReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly int Remaining => _data.Length - _position;

    public readonly ReadOnlySpan<byte> Rest => _data[_position..];

    public byte ReadByte()
    {
        Need(1);
        return _data[_position++];
    }

    public bool ReadBool() => ReadByte() != 0;

    public int ReadInt()
    {
        Need(4);
        int value = BinaryPrimitives.ReadInt32BigEndian(_data[_position..]);
        _position += 4;
        return value;
    }

    public long ReadLong()
    {
        Need(8);
        long value = BinaryPrimitives.ReadInt64BigEndian(_data[_position..]);
        _position += 8;
        return value;
    }

    /// <summary>Reads a buffer; null (-1) comes back as an empty array.</summary>
    public byte[] ReadBuffer()
    {
        ReadOnlySpan<byte> span = ReadBufferSpan();
        return span.IsEmpty ? [] : span.ToArray();
    }

    public ReadOnlySpan<byte> ReadBufferSpan()
    {
        int length = ReadLength("buffer");
        return length < 0 ? default : Take(length);
    }

    public string? ReadString()
    {
        int length = ReadLength("string");
        return length < 0 ? null : Encoding.UTF8.GetString(Take(length));
    }

    public string ReadRequiredString() =>
        ReadString() ?? throw new ZooKeeperProtocolException("Unexpected null string.");

    public List<string> ReadStrings()
    {
        int count = ReadCount();
        var list = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            list.Add(ReadRequiredString());
        }

        return list;
    }

    public List<Acl> ReadAcls()
    {
        int count = ReadCount();
        var list = new List<Acl>(count);
        for (int i = 0; i < count; i++)
        {
            var permissions = (Permissions)ReadInt();
            string scheme = ReadRequiredString();
            string id = ReadRequiredString();
            list.Add(new Acl(permissions, scheme, id));
        }

        return list;
    }

    public Stat ReadStat() => new(
        Czxid: ReadLong(),
        Mzxid: ReadLong(),
        Ctime: ReadLong(),
        Mtime: ReadLong(),
        Version: ReadInt(),
        Cversion: ReadInt(),
        Aversion: ReadInt(),
        EphemeralOwner: ReadLong(),
        DataLength: ReadInt(),
        NumChildren: ReadInt(),
        Pzxid: ReadLong());

    /// <summary>Reads a buffer or string length: -1 is null, any other negative value is corrupt.</summary>
    private int ReadLength(string what)
    {
        int length = ReadInt();
        if (length < -1)
        {
            throw new ZooKeeperProtocolException($"Negative {what} length {length}.");
        }

        if (length > 0)
        {
            Need(length);
        }

        return length;
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        ReadOnlySpan<byte> span = _data.Slice(_position, length);
        _position += length;
        return span;
    }

    private int ReadCount()
    {
        int count = ReadInt();
        if (count == -1)
        {
            return 0;
        }

        // Each element takes at least 4 bytes, which bounds a hostile count before anything is allocated.
        if (count < 0 || count > Remaining / 4)
        {
            throw new ZooKeeperProtocolException($"Vector count {count} does not fit the {Remaining} bytes left.");
        }

        return count;
    }

    private readonly void Need(int count)
    {
        if (_data.Length - _position < count)
        {
            throw new ZooKeeperProtocolException(
                $"Record truncated: needed {count} bytes at offset {_position}, {_data.Length - _position} left.");
        }
    }
}
