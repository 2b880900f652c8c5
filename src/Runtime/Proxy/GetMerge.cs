using System.Buffers;

namespace TypedCache.Proxy;

/// <summary>
/// Merges the replies of a retrieval (<c>get</c>, <c>gets</c>, <c>gat</c>, <c>gats</c>) split into one request per
/// node back into the reply one memcached would give: the hits in the order of the requested keys (duplicates
/// included), then <c>END</c>. A node that failed or answered an error contributes no hits.
/// </summary>
internal sealed class GetMerge
{
    private readonly byte[] _keys;
    private readonly (int Start, int Length, int Part)[] _order;
    private readonly (byte[]? Buffer, int Length)[] _parts;

    /// <param name="keys">The requested keys, as <paramref name="order"/> ranges into it.</param>
    /// <param name="order">Each requested key, in request order, and the part (node request) it went to.</param>
    /// <param name="partCount">How many node requests were sent.</param>
    public GetMerge(byte[] keys, (int Start, int Length, int Part)[] order, int partCount)
    {
        _keys = keys;
        _order = order;
        _parts = new (byte[]?, int)[partCount];
    }

    /// <summary>How many node requests the merge waits for.</summary>
    public int PartCount => _parts.Length;

    /// <summary>Keeps a copy of part <paramref name="part"/>'s reply (called once per part).</summary>
    public void SetPart(int part, ReadOnlySequence<byte> frame)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)frame.Length);
        frame.CopyTo(buffer);
        _parts[part] = (buffer, (int)frame.Length);
    }

    /// <summary>Writes the merged reply and returns the part buffers.</summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        Span<int> cursors = _parts.Length <= 64 ? stackalloc int[_parts.Length] : new int[_parts.Length];
        cursors.Clear();
        foreach (var (start, length, part) in _order)
        {
            var (buffer, total) = _parts[part];
            if (buffer is null)
                continue;
            var rest = buffer.AsSpan(cursors[part], total - cursors[part]);
            if (!TryNextHit(rest, out var key, out int hitLength) || !key.SequenceEqual(_keys.AsSpan(start, length)))
                continue;
            output.Write(rest[..hitLength]);
            cursors[part] += hitLength;
        }
        output.Write("END\r\n"u8);
        foreach (var (buffer, _) in _parts)
        {
            if (buffer is not null)
                ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The next <c>VALUE</c> block at the start of <paramref name="reply"/>: its key and its whole length.</summary>
    private static bool TryNextHit(ReadOnlySpan<byte> reply, out ReadOnlySpan<byte> key, out int length)
    {
        key = default;
        length = 0;
        if (!reply.StartsWith("VALUE "u8))
            return false;
        int lineEnd = reply.IndexOf("\r\n"u8);
        var line = reply[..lineEnd];
        key = line[6..];
        key = key[..key.IndexOf((byte)' ')];
        // The reply framed on arrival, so the line parses and its data block is complete.
        ReplyFramer.TryParseValueLength(line, out int dataLength);
        length = lineEnd + 2 + dataLength + 2;
        return true;
    }
}
