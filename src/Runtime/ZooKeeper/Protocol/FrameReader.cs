using System.Buffers.Binary;

namespace TypedCache.ZooKeeper.Protocol;

/// <summary>
/// Cuts the received byte stream into frames (4-byte big-endian length, then that many bytes). Bytes arrive in any
/// split: a frame may span many reads and one read may hold many frames. A length outside 0..max is a protocol
/// error, so garbage tears the connection down instead of making the reader wait for bytes that never come.
/// </summary>
internal sealed class FrameReader(int maxFrameBytes)
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>Where the next read should put its bytes; never empty.</summary>
    public Memory<byte> FreeSpace
    {
        get
        {
            if (_end == _buffer.Length)
            {
                Compact(_buffer.Length);
            }

            return _buffer.AsMemory(_end);
        }
    }

    /// <summary>Records that a read put <paramref name="count"/> bytes into <see cref="FreeSpace"/>.</summary>
    public void Advance(int count) => _end += count;

    /// <summary>Takes the next complete frame's payload; it stays valid until the next read.</summary>
    public bool TryTakeFrame(out ReadOnlySpan<byte> frame)
    {
        frame = default;
        int available = _end - _start;
        if (available < 4)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_start));
        if (length < 0 || length > maxFrameBytes)
        {
            throw new ZooKeeperProtocolException($"frame length {length} is outside 0..{maxFrameBytes}");
        }

        if (available - 4 < length)
        {
            if (_start + 4 + length > _buffer.Length)
            {
                Compact(4 + length);
            }

            return false;
        }

        frame = _buffer.AsSpan(_start + 4, length);
        _start += 4 + length;
        if (_start == _end)
        {
            _start = _end = 0;
        }

        return true;
    }

    /// <summary>Moves the unread bytes to the front, growing the buffer so <paramref name="needed"/> bytes fit.</summary>
    private void Compact(int needed)
    {
        int unread = _end - _start;
        byte[] target = _buffer;
        if (needed > _buffer.Length || unread == _buffer.Length)
        {
            target = new byte[Math.Max(needed, _buffer.Length * 2)];
        }

        Buffer.BlockCopy(_buffer, _start, target, 0, unread);
        _buffer = target;
        _start = 0;
        _end = unread;
    }
}
