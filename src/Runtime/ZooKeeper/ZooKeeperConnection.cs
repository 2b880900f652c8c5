using System.Collections.Concurrent;
using System.Net.Sockets;
using TypedCache.ZooKeeper.Protocol;

namespace TypedCache.ZooKeeper;

/// <summary>
/// One TCP connection to one server: the handshake, then one writer that never reorders (xids are assigned in the
/// same critical section that serializes the frame, so xid order is wire order), a FIFO of requests in flight, one
/// read loop that routes notifications, pings and auth replies on their own path and matches every other reply to
/// the head of the FIFO, and a heartbeat that pings when idle and declares the server dead when it goes silent.
/// Any fault aborts the connection and fails everything in flight with <see cref="ConnectionLossException"/>.
/// </summary>
internal sealed class ZooKeeperConnection
{
    private readonly Socket _socket;
    private readonly ZooKeeperClient _client;
    private readonly TimeProvider _time;
    private readonly Lock _writeLock = new();
    private readonly ConcurrentQueue<ZooKeeperRequest> _inFlight = new();
    private readonly ConcurrentQueue<TaskCompletionSource<bool>?> _authReplies = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<Exception> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FrameBuffer _filling = new();
    private FrameBuffer _sending = new();
    private bool _flushing;
    private bool _alive = true;
    private int _aborted;
    private int _xid;
    private readonly FrameReader _frames;
    private long _lastReceive;
    private long _lastSend;

    public ZooKeeperConnection(Socket socket, string endpoint, ZooKeeperClient client, ZooKeeperClientOptions options)
    {
        _socket = socket;
        Endpoint = endpoint;
        _client = client;
        _time = options.TimeProvider;
        _frames = new FrameReader(options.MaxReplyBytes);
    }

    public string Endpoint { get; }

    /// <summary>Completes with the reason once the connection is aborted.</summary>
    public Task<Exception> Closed => _closed.Task;

    /// <summary>Sends the ConnectRequest and reads the ConnectResponse; nothing else is written before it arrives.</summary>
    public async Task<ConnectResponse> HandshakeAsync(long lastZxid, int timeoutMs, long sessionId, byte[] password, CancellationToken cancellationToken)
    {
        var request = new FrameBuffer(64);
        Handshake.WriteRequest(request, lastZxid, timeoutMs, sessionId, password, readOnly: false);
        await SendAllAsync(request.Written, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            if (_frames.TryTakeFrame(out ReadOnlySpan<byte> frame))
            {
                return Handshake.ReadResponse(frame);
            }

            await ReceiveAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts the read loop, the writer and the heartbeat for a session with the negotiated timeout.</summary>
    public void Start(int negotiatedTimeoutMs)
    {
        _lastReceive = _lastSend = _time.GetTimestamp();

        // A dedicated thread blocked in Receive is woken by the kernel directly: one thread hop fewer per reply
        // than socket completions dispatched through the thread pool (measured: bench/README.md).
        new Thread(ReadLoop) { IsBackground = true, Name = "TypedCache.ZooKeeper " + Endpoint }.Start();
        _ = Task.Run(() => HeartbeatAsync(negotiatedTimeoutMs));
    }

    /// <summary>
    /// Serializes and queues <paramref name="request"/>; false when the connection is dead. Throws
    /// <see cref="ArgumentException"/> (nothing sent) when the frame exceeds the server's request limit.
    /// </summary>
    public bool TrySend(ZooKeeperRequest request)
    {
        lock (_writeLock)
        {
            if (!_alive)
            {
                return false;
            }

            request.Xid = request.FixedXid != 0 ? request.FixedXid : NextXid();
            if (!TryWriteFrame(request.Xid, request.OpCode, request, out int size))
            {
                throw new ArgumentException(
                    $"The {OpCodeName(request.OpCode)} request{(request.Path is null ? "" : $" for '{request.Path}'")} is {size:N0} bytes; " +
                    $"ZooKeeper accepts at most {OpCode.MaxRequestBytes:N0} bytes per request (jute.maxbuffer) and closes the connection otherwise.");
            }

            bool alone = _inFlight.IsEmpty;
            _inFlight.Enqueue(request);
            if (!TakeFlush())
            {
                return true;
            }

            if (!alone)
            {
                // Others are in flight, so replies are arriving in bursts and their callers are about to send again:
                // flush once they have appended, from this thread's local queue (no thread wake-up), in one write.
                ThreadPool.UnsafeQueueUserWorkItem(static connection => connection.Flush(), this, preferLocal: true);
                return true;
            }
        }

        Flush();
        return true;
    }

    /// <summary>Queues an auth packet (xid -4); its reply completes <paramref name="reply"/>, if given.</summary>
    public bool TrySendAuth(string scheme, byte[] auth, TaskCompletionSource<bool>? reply, Action? whileLocked = null)
    {
        lock (_writeLock)
        {
            if (!_alive)
            {
                return false;
            }

            var writer = new JuteWriter(_filling);
            int start = writer.BeginFrame();
            writer.WriteInt(OpCode.AuthXid);
            writer.WriteInt(OpCode.Auth);
            writer.WriteInt(0);
            writer.WriteString(scheme);
            writer.WriteBuffer(auth);
            writer.EndFrame(start);
            whileLocked?.Invoke();
            _authReplies.Enqueue(reply);
            if (!TakeFlush())
            {
                return true;
            }
        }

        Flush();
        return true;
    }

    /// <summary>True from the first moment <see cref="Abort"/> runs, before <see cref="Closed"/> completes.</summary>
    public bool IsAborted => Volatile.Read(ref _aborted) != 0;

    public void Abort(Exception reason)
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        lock (_writeLock)
        {
            _alive = false;
        }

        _client.OnConnectionClosed(this);
        _stop.Cancel();
        _socket.Dispose();
        string message = $"Connection to ZooKeeper server {Endpoint} lost ({reason.Message}); the request may or may not have been applied.";
        while (_inFlight.TryDequeue(out ZooKeeperRequest? request))
        {
            request.Fail(new ConnectionLossException(request.Path, message));
        }

        while (_authReplies.TryDequeue(out TaskCompletionSource<bool>? reply))
        {
            reply?.TrySetException(new ConnectionLossException(null, message));
        }

        _closed.TrySetResult(reason);
    }

    private int NextXid()
    {
        _xid = _xid == int.MaxValue ? 1 : _xid + 1;
        return _xid;
    }

    private bool TryWriteFrame(int xid, int opCode, ZooKeeperRequest? request, out int size)
    {
        var writer = new JuteWriter(_filling);
        int start = writer.BeginFrame();
        writer.WriteInt(xid);
        writer.WriteInt(opCode);
        request?.WriteBody(writer);
        size = writer.EndFrame(start);
        if (size > OpCode.MaxRequestBytes)
        {
            _filling.Truncate(start);
            return false;
        }

        return true;
    }

    /// <summary>Called under the write lock: true when the caller became the flusher and must call <see cref="Flush"/>.</summary>
    private bool TakeFlush()
    {
        if (_flushing)
        {
            return false;
        }

        _flushing = true;
        return true;
    }

    /// <summary>
    /// Writes queued frames on the calling thread until none are left. Only one thread flushes at a time, so frames
    /// leave in the order they were queued; callers arriving meanwhile only append, and their frames go out in the
    /// flusher's next batch.
    /// </summary>
    private void Flush()
    {
        try
        {
            while (true)
            {
                FrameBuffer batch;
                lock (_writeLock)
                {
                    if (_filling.Length == 0 || !_alive)
                    {
                        _flushing = false;
                        return;
                    }

                    batch = _filling;
                    _filling = _sending;
                    _sending = batch;
                }

                ReadOnlySpan<byte> bytes = batch.Written.Span;
                while (!bytes.IsEmpty)
                {
                    bytes = bytes[_socket.Send(bytes)..];
                }

                Volatile.Write(ref _lastSend, _time.GetTimestamp());
                batch.Clear();
            }
        }
        catch (Exception ex)
        {
            Abort(ex);
        }
    }

    private async Task SendAllAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            int sent = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }

    private void ReadLoop()
    {
        try
        {
            while (true)
            {
                int read = _socket.Receive(_frames.FreeSpace.Span);
                if (read == 0)
                {
                    throw new ZooKeeperProtocolException("the server closed the connection");
                }

                _frames.Advance(read);
                Volatile.Write(ref _lastReceive, _time.GetTimestamp());
                while (_frames.TryTakeFrame(out ReadOnlySpan<byte> frame))
                {
                    HandleFrame(frame);
                }
            }
        }
#pragma warning disable CA1031 // Every fault, whatever its type, ends the connection and fails what is in flight.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Abort(ex);
        }
    }

    private async ValueTask ReceiveAsync(CancellationToken cancellationToken)
    {
        int read = await _socket.ReceiveAsync(_frames.FreeSpace, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            throw new ZooKeeperProtocolException("the server closed the connection");
        }

        _frames.Advance(read);
    }

    private void HandleFrame(ReadOnlySpan<byte> frame)
    {
        var reader = new JuteReader(frame);
        ReplyHeader header = ReplyHeader.Read(ref reader);
        if (header.Zxid > 0)
        {
            _client.ObserveZxid(header.Zxid);
        }

        switch (header.Xid)
        {
            case OpCode.NotificationXid:
                int type = reader.ReadInt();
                reader.ReadInt();
                _client.OnNotification(type, reader.ReadRequiredString());
                return;
            case OpCode.PingXid:
                return;
            case OpCode.AuthXid:
                _authReplies.TryDequeue(out TaskCompletionSource<bool>? reply);
                if (header.Err == 0)
                {
                    reply?.TrySetResult(true);
                }
                else
                {
                    reply?.TrySetException(KeeperException.Create((KeeperErrorCode)header.Err));
                    _client.OnAuthFailed((KeeperErrorCode)header.Err);
                }

                return;
        }

        if (!_inFlight.TryDequeue(out ZooKeeperRequest? request))
        {
            throw new ZooKeeperProtocolException($"reply with xid {header.Xid} while no request is in flight");
        }

        if (header.Xid != request.Xid)
        {
            request.Fail(new ConnectionLossException(request.Path, $"ZooKeeper server {Endpoint} answered out of order."));
            throw new ZooKeeperProtocolException($"xid out of order: expected {request.Xid}, got {header.Xid}");
        }

        try
        {
            request.Complete(header, reader.Rest);
        }
        catch (ZooKeeperProtocolException ex)
        {
            request.Fail(new ConnectionLossException(request.Path, $"Malformed reply from ZooKeeper server {Endpoint}: {ex.Message}"));
            throw;
        }
    }

    private async Task HeartbeatAsync(int timeoutMs)
    {
        TimeSpan readTimeout = TimeSpan.FromMilliseconds(timeoutMs * 2 / 3);
        TimeSpan pingInterval = TimeSpan.FromMilliseconds(Math.Min(timeoutMs / 3, 10_000));
        TimeSpan tick = pingInterval / 4;
        try
        {
            while (true)
            {
                await Task.Delay(tick, _time, _stop.Token).ConfigureAwait(false);
                if (_time.GetElapsedTime(Volatile.Read(ref _lastReceive)) > readTimeout)
                {
                    Abort(new TimeoutException($"nothing received for {readTimeout.TotalMilliseconds:N0} ms"));
                    return;
                }

                if (_time.GetElapsedTime(Volatile.Read(ref _lastSend)) >= pingInterval - tick)
                {
                    bool flush;
                    lock (_writeLock)
                    {
                        flush = _alive && TryWriteFrame(OpCode.PingXid, OpCode.Ping, null, out _) && TakeFlush();
                    }

                    if (flush)
                    {
                        Flush();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string OpCodeName(int opCode) => opCode switch
    {
        OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl => "create",
        OpCode.SetData => "setData",
        OpCode.Multi => "multi",
        OpCode.SetAcl => "setACL",
        _ => $"op {opCode}",
    };
}
