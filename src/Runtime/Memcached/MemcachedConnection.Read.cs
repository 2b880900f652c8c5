using System.Buffers;
using System.Net.Sockets;
using System.Text;

namespace TypedCache.Memcached;

internal sealed partial class MemcachedConnection
{
    private const int ReceiveBufferSize = 64 * 1024;

    // The read loop is one logical loop run by two dedicated threads that take turns (leader/followers): the leader
    // receives and parses until some requests are answered, hands the turn to the other thread, and only then wakes
    // those callers, the first one inline. Caller code therefore never runs while this thread holds the read loop, and
    // a caller sending one request at a time is woken without a thread-pool hop (which costs as much as the round trip).
    private readonly SemaphoreSlim _readTurn = new(1, 1);
    private byte[] _readBuffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
    private int _readStart;
    private int _readEnd;
    private int _parkedReaders;

    private void StartReaders()
    {
        for (int i = 0; i < 2; i++)
            new Thread(ReaderThread) { IsBackground = true, Name = $"TypedCache memcached reader {Server}" }.Start();
    }

    private void ReaderThread()
    {
        var answered = new List<PendingRequest>();
        bool leading = false;
        while (true)
        {
            if (!leading)
            {
                Interlocked.Increment(ref _parkedReaders);
                _readTurn.Wait();
                Interlocked.Decrement(ref _parkedReaders);
                if (IsFaulted)
                {
                    StopReading();
                    _readTurn.Release();
                    return;
                }
            }
            bool open = ReadUntilAnswered(answered);
            if (!open)
                StopReading();
            // Hand the read loop over only to a parked partner. If the partner is still busy with a caller's code (which
            // may even block on another request), keep reading here and wake these callers on the thread pool instead.
            leading = open && Volatile.Read(ref _parkedReaders) == 0;
            if (!leading)
                _readTurn.Release();
            for (int i = 0; i < answered.Count; i++)
            {
                answered[i].Signal(inline: i == 0 && !leading);
                // Let go only after Signal: a request its caller already cancelled goes back to its pool once both
                // owners let go, and Signal must never run on an object another caller has taken since.
                answered[i].OnDequeued();
            }
            answered.Clear();
            if (!open)
                return;
        }
    }

    /// <summary>
    /// Holding the read turn, once the connection is faulted: fails every request in flight and returns the receive
    /// buffer. Only the read loop fails requests, so none is failed while its response is being consumed.
    /// </summary>
    private void StopReading()
    {
        FailInFlight();
        ReturnReadBuffer();
    }

    /// <summary>
    /// Receives into the pooled buffer and parses every whole frame until at least one request is answered. A frame
    /// larger than the buffer (a big value) grows it to the frame's announced size. Returns <see langword="false"/>
    /// once the connection is faulted.
    /// </summary>
    private bool ReadUntilAnswered(List<PendingRequest> answered)
    {
        try
        {
            while (true)
            {
                var buffer = _readBuffer;
                int received = _socket.Receive(buffer, _readEnd, buffer.Length - _readEnd, SocketFlags.None);
                if (received == 0)
                {
                    Fault(MemcachedErrorKind.ConnectionFailed, "the server closed the connection", null);
                    return false;
                }
                _readEnd += received;
                int needed = ParseFrames(buffer, answered);
                if (needed < 0)
                    return false;
                if (_readStart == _readEnd)
                {
                    _readStart = _readEnd = 0;
                }
                else if (needed > buffer.Length - _readStart || buffer.Length - _readEnd < 4096)
                {
                    int pending = _readEnd - _readStart;
                    var target = needed > buffer.Length ? ArrayPool<byte>.Shared.Rent(needed) : buffer;
                    buffer.AsSpan(_readStart, pending).CopyTo(target);
                    if (target != buffer)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        _readBuffer = target;
                    }
                    _readStart = 0;
                    _readEnd = pending;
                }
                if (answered.Count > 0)
                    return true;
            }
        }
        catch (Exception e)
        {
            Fault(e is SocketException or ObjectDisposedException ? MemcachedErrorKind.ConnectionFailed : MemcachedErrorKind.ProtocolError,
                "receiving failed: " + e.Message, e);
            return false;
        }
    }

    private void ReturnReadBuffer()
    {
        var buffer = Interlocked.Exchange(ref _readBuffer, []);
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>
    /// Dispatches every whole frame in the buffer, collecting answered requests. Returns the size the next
    /// (incomplete) frame needs, or -1 when the connection was faulted.
    /// </summary>
    private int ParseFrames(byte[] buffer, List<PendingRequest> answered)
    {
        while (_readStart < _readEnd)
        {
            var status = MetaResponseParser.TryParse(buffer.AsSpan(_readStart, _readEnd - _readStart), _maxValueLength, out var response, out int consumed);
            if (status == MetaParseStatus.Incomplete)
                return consumed;
            if (status == MetaParseStatus.Invalid)
            {
                Fault(MemcachedErrorKind.ProtocolError, $"unparseable response (a malformed line, or a value longer than the item size limit of {_maxValueLength} bytes): "
                    + Printable(buffer.AsSpan(_readStart, _readEnd - _readStart)), null);
                return -1;
            }
            if (!Dispatch(response, answered))
                return -1;
            _readStart += consumed;
        }
        return 0;
    }

    private bool Dispatch(in MetaResponse response, List<PendingRequest> answered)
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
        // Only the read loop takes requests off the queue, so the head is still this request. The caller is woken,
        // and the request let go, by the reader thread once it has handed the read loop over.
        answered.Add(head);
        lock (_sync)
            _inFlight.Dequeue();
        return true;
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
