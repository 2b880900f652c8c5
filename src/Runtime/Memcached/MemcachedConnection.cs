using System.Net.Sockets;

namespace TypedCache.Memcached;

/// <summary>
/// One TCP connection to one memcached server, for its whole life: requests are written in order by whoever holds
/// the write lock, queued in the same order, and completed by the single read loop. Any fault closes the connection
/// for good and fails everything in flight; <see cref="MemcachedClient"/> then opens a new one.
/// </summary>
internal sealed partial class MemcachedConnection
{
    private readonly Socket _socket;
    private readonly object _sync = new();
    private readonly Queue<PendingRequest> _inFlight = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly int _maxValueLength;
    private readonly Action<MemcachedConnection, MemcachedException> _onFault;
    private readonly long _openedAt;
    private ITimer? _heartbeat;
    private MemcachedException? _fault;
    private string? _faultDetail;

    private MemcachedConnection(Socket socket, string server, MemcachedClientOptions options, Action<MemcachedConnection, MemcachedException> onFault)
    {
        _socket = socket;
        Server = server;
        _time = options.TimeProvider;
        _timeout = options.OperationTimeout;
        _maxValueLength = options.MaxItemSizeBytes;
        _onFault = onFault;
        _openedAt = _time.GetTimestamp();
    }

    /// <summary>The server endpoint, <c>host:port</c>.</summary>
    public string Server { get; }

    /// <summary>How long the connection has been open.</summary>
    public TimeSpan Age => _time.GetElapsedTime(_openedAt);

    /// <summary>Whether the connection has been torn down.</summary>
    public bool IsFaulted => Volatile.Read(ref _fault) is not null;

    /// <summary>Why the connection was torn down; <see langword="null"/> while it is up.</summary>
    public MemcachedException? Failure => Volatile.Read(ref _fault);

    /// <summary>Opens a TCP connection and starts its read loop and timeout heartbeat.</summary>
    public static async Task<MemcachedConnection> OpenAsync(string host, int port, string server, MemcachedClientOptions options,
        Action<MemcachedConnection, MemcachedException> onFault, CancellationToken cancellationToken)
    {
        // The socket stays in blocking mode (a synchronous connect, send and receive): .NET emulates blocking calls on a
        // socket that has seen an async call through its event loop, which costs an extra thread wake per response.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (cancellationToken.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket))
                await Task.Run(() => socket.Connect(host, port), cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new MemcachedConnection(socket, server, options, onFault);
        connection.Start();
        return connection;
    }

    private void Start()
    {
        var period = TimeSpan.FromTicks(Math.Clamp(_timeout.Ticks / 10, TimeSpan.FromMilliseconds(5).Ticks, TimeSpan.FromSeconds(1).Ticks));
        _heartbeat = _time.CreateTimer(static state => ((MemcachedConnection)state!).CheckTimeout(), this, period, period);
        StartReaders();
    }

    /// <summary>Fails the connection when its oldest request has waited longer than the operation timeout.</summary>
    private void CheckTimeout()
    {
        long writtenAt;
        lock (_sync)
        {
            if (_fault is not null || !_inFlight.TryPeek(out var oldest))
                return;
            writtenAt = oldest.WrittenAt;
        }
        if (_time.GetElapsedTime(writtenAt) > _timeout)
            Fault(MemcachedErrorKind.Timeout, $"no response within the operation timeout of {_timeout.TotalMilliseconds:0} ms; the connection was closed",
                new TimeoutException($"memcached {Server} did not answer within {_timeout.TotalMilliseconds:0} ms."));
    }

    /// <summary>
    /// Closes the connection (once): every request in flight fails with a <see cref="MemcachedException"/> of
    /// <paramref name="kind"/>. Any thread may call this; it only records the fault and closes the socket, which ends
    /// the read loop's receive, and the read loop fails the requests. So a request is never failed while the read loop
    /// is inside its <see cref="PendingRequest.OnResponse"/>.
    /// </summary>
    public void Fault(MemcachedErrorKind kind, string detail, Exception? cause)
    {
        MemcachedException fault;
        lock (_sync)
        {
            if (_fault is not null)
                return;
            fault = new MemcachedException(Server, "connection", kind, detail, cause);
            _faultDetail = detail;
            Volatile.Write(ref _fault, fault);
            ReleaseWriteBuffers();
        }
        _heartbeat?.Dispose();
        _socket.Dispose();
        _onFault(this, fault);
    }

    /// <summary>
    /// Read loop only, after a fault: fails every request in flight. No request can join the queue any more
    /// (<see cref="TryBeginWrite"/> refuses once faulted), so this runs once with effect.
    /// </summary>
    private void FailInFlight()
    {
        PendingRequest[] failed;
        lock (_sync)
        {
            failed = _inFlight.ToArray();
            _inFlight.Clear();
        }
        var fault = _fault!;
        foreach (var request in failed)
            request.OnFailure(new MemcachedException(Server, request.Command, fault.Kind, _faultDetail!, fault.InnerException));
    }

    /// <summary>Closes the connection because its client is being disposed; requests in flight fail.</summary>
    public void Close() => Fault(MemcachedErrorKind.ConnectionFailed, "the client was disposed", null);
}
