using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using TypedCache.Cluster;
using TypedCache.Memcached;

namespace TypedCache.Proxy;

/// <summary>Receives a backend's reply to one forwarded request, on the backend's read loop: it must only copy and signal.</summary>
internal interface IBackendReply
{
    /// <summary>The whole reply to request part <paramref name="part"/>.</summary>
    void OnReply(int part, ReadOnlySequence<byte> frame);

    /// <summary>Request part <paramref name="part"/> got no reply: the node is down, or its connection failed.</summary>
    void OnUnavailable(int part);
}

/// <summary>
/// One shared, pipelined connection from the proxy to one memcached node. Requests from every client connection are
/// appended whole, in order, to one buffer. While no request is at the node, the caller that appends sends the buffer
/// on its own thread (no thread hop); while some are, the buffer is corked and the read loop sends it when replies
/// arrive (before it hands them out) and after, so the requests of many clients leave in one write and the node reads
/// them in one read, as nutcracker's event loop batches them. No thread ever waits on a send: one the node cannot take
/// at once finishes when the socket is writable, and what is appended meanwhile leaves in the next write. One read loop frames replies by the kind each request expects
/// and hands them to a FIFO of waiting requests.
/// A request older than the backend timeout is answered as unavailable (its late reply dropped); after
/// <see cref="ProxyOptions.FailureThreshold"/> of them in a row, or any other fault (connection lost, a reply that does
/// not frame), the connection is closed and everything in flight answered as unavailable; the connection is reopened in the background with
/// backoff. While it is down, requests are refused at once and the node's keys follow the proxy's node-down policy.
/// </summary>
internal sealed class ProxyBackend : ITopologyNode
{
    private static readonly TimeSpan MinRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>The size past which a corked buffer is sent at once.</summary>
    private const int CorkBytes = 16 * 1024;

    private readonly string _host;
    private readonly int _port;
    private readonly ProxyOptions _options;
    private readonly Action<ProxyBackend, bool> _healthChanged;
    private readonly Lock _gate = new();
    private readonly Queue<Pending> _pending = new();
    private readonly Queue<Pending> _timedOut = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly Task _run;
    private PooledBufferWriter _out = new(16 * 1024);
    private PooledBufferWriter _sending = new(16 * 1024);
    private Socket? _socket;
    private bool _sendInProgress;
    private TaskCompletionSource? _sendStopped;
    private int _atNode;
    private int _failures;
    private int _buffered;
    private bool _everConnected;

    public ProxyBackend(string endpoint, string host, int port, ProxyOptions options, Action<ProxyBackend, bool> healthChanged)
    {
        Endpoint = endpoint;
        _host = host;
        _port = port;
        _options = options;
        _healthChanged = healthChanged;
        _run = Task.Run(RunAsync);
    }

    /// <summary><c>host:port</c>.</summary>
    public string Endpoint { get; }

    /// <summary>Whether the connection is open and taking requests.</summary>
    public bool IsUp => Volatile.Read(ref _socket) is not null;

    bool ITopologyNode.IsDown => !IsUp;

    /// <summary>
    /// Appends one request (<paramref name="line"/> then <paramref name="data"/>) for <paramref name="reply"/>; false,
    /// without sending anything, when the node is down.
    /// </summary>
    public bool TrySend(ReplyKind kind, IBackendReply reply, int part, ReadOnlySpan<byte> line, ReadOnlySequence<byte> data)
    {
        Socket? socket;
        lock (_gate)
        {
            socket = _socket;
            if (socket is null)
                return false;
            _out.Write(line);
            foreach (var segment in data)
                _out.Write(segment.Span);
            _pending.Enqueue(new Pending(kind, reply, part, Stopwatch.GetTimestamp()));
            _buffered++;
            if (_sendInProgress || (_atNode > 0 && _out.WrittenCount < CorkBytes))
                return true;
            _sendInProgress = true;
        }
        _ = SendAllAsync(socket);
        return true;
    }

    /// <summary>Sends the corked buffer, unless a send is in progress (which sends it) or it is empty.</summary>
    private void Uncork(Socket socket)
    {
        lock (_gate)
        {
            if (_sendInProgress || _buffered == 0)
                return;
            _sendInProgress = true;
        }
        _ = SendAllAsync(socket);
    }

    /// <summary>
    /// Sends what is buffered, and what is appended while it sends, until the buffer is empty. It runs on the caller's
    /// thread while the node takes the bytes at once; when the node's receive window is full it stands down until the
    /// socket is writable again, so neither a client's read loop nor the backend's read loop ever waits on a send (a
    /// node blocked writing replies the proxy is not reading would otherwise never read the proxy's requests).
    /// </summary>
    private async Task SendAllAsync(Socket socket)
    {
        bool failed = false;
        while (true)
        {
            PooledBufferWriter batch;
            lock (_gate)
            {
                if (failed || _out.WrittenCount == 0 || !ReferenceEquals(_socket, socket))
                {
                    _sendInProgress = false;
                    _sendStopped?.TrySetResult();
                    _sendStopped = null;
                    return;
                }
                batch = _out;
                _out = _sending;
                _sending = batch;
                _atNode += _buffered;
                _buffered = 0;
            }
            try
            {
                var bytes = batch.WrittenMemory;
                while (!bytes.IsEmpty)
                    bytes = bytes[await socket.SendAsync(bytes, SocketFlags.None).ConfigureAwait(false)..];
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The read loop sees the closed socket and answers everything in flight as unavailable.
                socket.Dispose();
                failed = true;
            }
            lock (_gate)
                batch.Clear();
        }
    }

    /// <summary>Closes the connection and answers what is in flight as unavailable.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
            return;
        await _disposed.CancelAsync().ConfigureAwait(false);
        lock (_gate)
            _socket?.Dispose();
        await _run.ConfigureAwait(false);
        lock (_gate)
        {
            _out.Dispose();
            _sending.Dispose();
        }
        _disposed.Dispose();
    }

    private async Task RunAsync()
    {
        var delay = MinRetryDelay;
        while (!_disposed.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await ConnectAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
            {
                if (_disposed.IsCancellationRequested)
                    return;
                try
                {
                    await Task.Delay(delay, _disposed.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
                continue;
            }
            delay = MinRetryDelay;
            await ServeAsync(socket).ConfigureAwait(false);
        }
    }

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
            timeout.CancelAfter(_options.BackendTimeout);
            await socket.ConnectAsync(_host, _port, timeout.Token).ConfigureAwait(false);
            if (_everConnected && _options.FlushOnRestore)
                await FlushAllAsync(socket, timeout.Token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Empties a node coming back: while it was down its writes were dropped, so what it holds may be stale.</summary>
    private static async Task FlushAllAsync(Socket socket, CancellationToken cancellationToken)
    {
        await socket.SendAsync("flush_all\r\n"u8.ToArray(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var reply = new byte[64];
        int read = 0;
        while (read < 4 || reply[read - 1] != (byte)'\n')
        {
            int n = await socket.ReceiveAsync(reply.AsMemory(read), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0 || (read += n) == reply.Length)
                throw new IOException("flush_all got no OK.");
        }
        if (!reply.AsSpan(0, read).SequenceEqual("OK\r\n"u8))
            throw new IOException("flush_all got no OK.");
    }

    private async Task ServeAsync(Socket socket)
    {
        lock (_gate)
        {
            _socket = socket;
            _everConnected = true;
        }
        _healthChanged(this, true);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
        var watchdog = WatchdogAsync(socket, stop.Token);
        try
        {
            await ReadLoopAsync(socket, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidDataException)
        {
        }
        List<Pending> failed;
        Task? sending = null;
        lock (_gate)
        {
            _socket = null;
            socket.Dispose();
            failed = [.. _pending];
            _pending.Clear();
            _timedOut.Clear();
            _failures = 0;
            _out.Clear();
            _atNode = 0;
            _buffered = 0;
            if (_sendInProgress)
                sending = (_sendStopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
        // A send may still be under way on the closed socket: it fails at once and stands down, and its buffer is
        // free before the next connection fills it.
        if (sending is not null)
            await sending.ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await watchdog.ConfigureAwait(false);
        foreach (var pending in failed)
            pending.Reply.OnUnavailable(pending.Part);
        _healthChanged(this, false);
    }

    /// <summary>
    /// Answers as unavailable each request that has waited longer than the backend timeout (its reply, if it comes, is
    /// dropped), and closes the connection after <see cref="ProxyOptions.FailureThreshold"/> such requests with no
    /// reply in between, as the cluster client marks a node down after consecutive failures.
    /// </summary>
    private async Task WatchdogAsync(Socket socket, CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromTicks(Math.Max(_options.BackendTimeout.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks));
        using var timer = new PeriodicTimer(period);
        var late = new List<Pending>();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                bool down;
                lock (_gate)
                {
                    while (_pending.TryPeek(out var oldest) && Stopwatch.GetElapsedTime(oldest.Started) > _options.BackendTimeout)
                    {
                        _timedOut.Enqueue(_pending.Dequeue());
                        late.Add(oldest);
                        _failures++;
                    }
                    down = _failures >= _options.FailureThreshold;
                    if (down)
                        socket.Dispose();
                }
                foreach (var pending in late)
                    pending.Reply.OnUnavailable(pending.Part);
                late.Clear();
                if (down)
                    return;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReadLoopAsync(Socket socket, CancellationToken cancellationToken)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                // The requests corked while these replies were on their way go first: the node works on them while
                // the replies are handed out (each a send to its client).
                Uncork(socket);
                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    Pending head;
                    bool answered;
                    lock (_gate)
                    {
                        answered = _timedOut.TryPeek(out head);
                        if (!answered && !_pending.TryPeek(out head))
                            throw new InvalidDataException($"memcached {Endpoint} sent bytes nothing asked for.");
                    }
                    var status = ReplyFramer.TryFrame(buffer, head.Kind, out long length);
                    if (status == FrameStatus.Invalid)
                        throw new InvalidDataException($"memcached {Endpoint} sent a reply that does not frame.");
                    if (status == FrameStatus.Incomplete)
                        break;
                    lock (_gate)
                    {
                        // The watchdog may have timed the head out while its reply was framed: it moved it to the
                        // timed-out queue (empty when the head was taken from the pending one) and answered it.
                        answered |= _timedOut.TryPeek(out var movedOut) && movedOut == head;
                        if (answered)
                        {
                            _timedOut.Dequeue();
                        }
                        else
                        {
                            _pending.Dequeue();
                            _failures = 0;
                        }
                        _atNode--;
                    }
                    // A request answered as unavailable when it timed out: its late reply is dropped.
                    if (!answered)
                        head.Reply.OnReply(head.Part, buffer.Slice(0, length));
                    buffer = buffer.Slice(length);
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                Uncork(socket);
                if (result.IsCompleted)
                    throw new IOException($"memcached {Endpoint} closed the connection.");
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private readonly record struct Pending(ReplyKind Kind, IBackendReply Reply, int Part, long Started);
}
