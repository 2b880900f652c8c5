using System.Buffers;
using System.Net.Sockets;
using System.Text;

namespace TypedCache.Memcached;

internal sealed partial class MemcachedConnection
{
    private const int ReceiveBufferSize = 64 * 1024;

    /// <summary>
    /// The one reader: receives into a pooled buffer, parses every whole frame in it and hands each to the oldest
    /// request in flight. A frame larger than the buffer (a big value) grows it to the frame's announced size.
    /// </summary>
    private async Task ReadLoopAsync()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                int received = await _socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    Fault(MemcachedErrorKind.ConnectionFailed, "the server closed the connection", null);
                    return;
                }
                end += received;
                int needed = ParseFrames(buffer, ref start, end);
                if (needed < 0)
                    return;
                if (start == end)
                {
                    start = end = 0;
                    continue;
                }
                int pending = end - start;
                if (needed > buffer.Length - start || buffer.Length - end < 4096)
                {
                    var target = needed > buffer.Length ? ArrayPool<byte>.Shared.Rent(needed) : buffer;
                    buffer.AsSpan(start, pending).CopyTo(target);
                    if (target != buffer)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = target;
                    }
                    start = 0;
                    end = pending;
                }
            }
        }
        catch (Exception e)
        {
            Fault(e is SocketException or ObjectDisposedException ? MemcachedErrorKind.ConnectionFailed : MemcachedErrorKind.ProtocolError,
                "receiving failed: " + e.Message, e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Dispatches every whole frame in <c>buffer[start..end]</c>. Returns the size the next (incomplete) frame needs,
    /// or -1 when the connection was faulted.
    /// </summary>
    private int ParseFrames(byte[] buffer, ref int start, int end)
    {
        while (start < end)
        {
            var status = MetaResponseParser.TryParse(buffer.AsSpan(start, end - start), out var response, out int consumed);
            if (status == MetaParseStatus.Incomplete)
                return consumed;
            if (status == MetaParseStatus.Invalid)
            {
                Fault(MemcachedErrorKind.ProtocolError, "unparseable response: " + Printable(buffer.AsSpan(start, end - start)), null);
                return -1;
            }
            if (!Dispatch(response))
                return -1;
            start += consumed;
        }
        return 0;
    }

    private bool Dispatch(in MetaResponse response)
    {
        if (response.Code == MetaResponseCode.Error)
        {
            Fault(MemcachedErrorKind.ProtocolError, "the server answered ERROR (a line it could not read as a command): the stream is out of step", null);
            return false;
        }
        PendingRequest? head;
        lock (_sync)
            _inFlight.TryPeek(out head);
        if (head is null)
        {
            Fault(MemcachedErrorKind.ProtocolError, $"a {response.Code} response arrived with no request waiting", null);
            return false;
        }
        var outcome = head.OnResponse(response, this);
        if (outcome == ResponseOutcome.Unexpected)
        {
            Fault(MemcachedErrorKind.ProtocolError, $"{head.Command} got an unexpected {response.Code} response", null);
            return false;
        }
        if (outcome == ResponseOutcome.More)
            return true;
        bool dequeued = false;
        lock (_sync)
        {
            if (_fault is null && _inFlight.TryPeek(out var current) && current == head)
            {
                _inFlight.Dequeue();
                dequeued = true;
            }
        }
        if (dequeued)
            head.OnDequeued();
        return dequeued;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var shown = bytes[..Math.Min(bytes.Length, 64)];
        var text = new StringBuilder(shown.Length + 8);
        foreach (byte b in shown)
            text.Append(b is >= 0x20 and < 0x7F ? (char)b : $"\\x{b:X2}");
        if (bytes.Length > shown.Length)
            text.Append('…');
        return text.ToString();
    }
}
