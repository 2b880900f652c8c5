using System.Text;

namespace TypedCache.Memcached;

/// <summary>
/// A client for one memcached server over the meta protocol: one long-lived connection shared by every caller,
/// pipelined (requests go out in call order, many per write) and completed in order by one read loop.
/// </summary>
/// <remarks>
/// <para>
/// Keys are validated before anything is written: text keys are 1–250 bytes without whitespace or control bytes
/// (<see cref="ArgumentException"/> otherwise); set a <c>BinaryKey</c> option to send arbitrary bytes base64-encoded.
/// </para>
/// <para>
/// Failures are <see cref="MemcachedException"/>s naming the server, the command and the cause. A parse error, an
/// unexpected response, a socket error or a timeout closes the connection and fails every command in flight; the
/// client reconnects in the background with backoff, and commands issued meanwhile fail at once.
/// <c>CLIENT_ERROR</c> and <c>SERVER_ERROR</c> responses fail only their command.
/// </para>
/// </remarks>
public sealed partial class MemcachedClient : IAsyncDisposable
{
    private readonly string _host;
    private readonly int _port;
    private readonly MemcachedClientOptions _options;
    private readonly CancellationTokenSource _disposed = new();
    private readonly object _gate = new();
    private MemcachedConnection? _connection;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _lastError;
    private TimeSpan _backoff;

    /// <summary>Creates a client for <paramref name="host"/>:<paramref name="port"/> and starts connecting in the background.</summary>
    /// <remarks>Commands fail with <see cref="MemcachedErrorKind.ConnectionFailed"/> until the connection is up; await <see cref="WaitUntilConnectedAsync"/> first, or use <see cref="ConnectAsync"/>.</remarks>
    public MemcachedClient(string host, int port, MemcachedClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        _options = options ?? new MemcachedClientOptions();
        _options.Validate();
        _host = host;
        _port = port;
        Endpoint = $"{host}:{port}";
        _backoff = _options.ReconnectMinDelay;
        _ = ConnectLoopAsync(TimeSpan.Zero);
    }

    /// <summary>Creates a client and waits until its connection is up (at most <see cref="MemcachedClientOptions.ConnectTimeout"/>).</summary>
    /// <exception cref="MemcachedException">The server could not be reached in time.</exception>
    public static async Task<MemcachedClient> ConnectAsync(string host, int port, MemcachedClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        var client = new MemcachedClient(host, port, options);
        try
        {
            await client.WaitUntilConnectedAsync(client._options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The server, <c>host:port</c>.</summary>
    public string Endpoint { get; }

    /// <summary>Whether the connection is up right now.</summary>
    public bool IsConnected => Volatile.Read(ref _connection) is { IsFaulted: false };

    /// <summary>Waits until the connection is up.</summary>
    /// <exception cref="MemcachedException">It is not up within <paramref name="timeout"/>; the last connection error is the inner exception.</exception>
    public async Task WaitUntilConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Task connected;
        lock (_gate)
            connected = _connected.Task;
        try
        {
            await connected.WaitAsync(timeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new MemcachedException(Endpoint, "connect", MemcachedErrorKind.ConnectionFailed,
                $"not connected within {timeout.TotalMilliseconds:0} ms", Volatile.Read(ref _lastError));
        }
    }

    private async Task ConnectLoopAsync(TimeSpan firstDelay)
    {
        var delay = firstDelay;
        while (!_disposed.IsCancellationRequested)
        {
            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, _options.TimeProvider, _disposed.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            MemcachedConnection? connection = null;
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
                attempt.CancelAfter(_options.ConnectTimeout);
                connection = await MemcachedConnection.OpenAsync(_host, _port, Endpoint, _options, OnConnectionFault, attempt.Token).ConfigureAwait(false);
                await Handshake(connection).AsTask().WaitAsync(attempt.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                connection?.Close();
                Volatile.Write(ref _lastError, e);
                delay = NextBackoff();
                continue;
            }
            TaskCompletionSource? connected = null;
            lock (_gate)
            {
                if (_disposed.IsCancellationRequested)
                {
                    connection.Close();
                    return;
                }
                // A connection that faulted before it was stored was ignored by OnConnectionFault (it was not the
                // current one yet), so storing it would leave the client on a dead connection with nothing reconnecting.
                // A fault after this check finds it stored and reconnects.
                if (!connection.IsFaulted)
                {
                    Volatile.Write(ref _connection, connection);
                    connected = _connected;
                }
            }
            if (connected is null)
            {
                Volatile.Write(ref _lastError, connection.Failure);
                delay = NextBackoff();
                continue;
            }
            connected.TrySetResult();
            return;
        }
    }

    /// <summary>An <c>mn</c> round trip: the connection reaches a live memcached, not just a listening socket.</summary>
    private static ValueTask<bool> Handshake(MemcachedConnection connection)
    {
        var request = SimpleRequest.Create("mn", MetaResponseCode.NoOp, CancellationToken.None);
        var task = request.Task;
        if (!connection.TryBeginWrite(out var writer))
        {
            request.OnFailure(new MemcachedException(connection.Server, "mn", MemcachedErrorKind.ConnectionFailed, "the connection closed during the handshake"));
            return task;
        }
        MetaRequestWriter.WriteNoOp(writer);
        connection.EndWrite(request);
        return task;
    }

    private TimeSpan NextBackoff()
    {
        lock (_gate)
        {
            var delay = _backoff;
            _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
            if (_backoff == TimeSpan.Zero)
                _backoff = _options.ReconnectMaxDelay;
            return delay;
        }
    }

    private void OnConnectionFault(MemcachedConnection connection, MemcachedException fault)
    {
        lock (_gate)
        {
            if (_connection != connection)
                return;
            Volatile.Write(ref _connection, null);
            Volatile.Write(ref _lastError, fault);
            _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (connection.Age >= _options.ReconnectMaxDelay)
                _backoff = _options.ReconnectMinDelay;
        }
        if (!_disposed.IsCancellationRequested)
            _ = ConnectLoopAsync(connection.Age >= _options.ReconnectMaxDelay ? TimeSpan.Zero : NextBackoff());
    }

    /// <summary>Closes the connection; commands in flight fail with <see cref="MemcachedErrorKind.ConnectionFailed"/>.</summary>
    public ValueTask DisposeAsync()
    {
        MemcachedConnection? connection;
        lock (_gate)
        {
            if (_disposed.IsCancellationRequested)
                return ValueTask.CompletedTask;
            _disposed.Cancel();
            connection = _connection;
            _connection = null;
        }
        // The token source is not disposed: a reconnection loop may still be reading its token, and it holds no timer.
        connection?.Close();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Writes one request on the current connection; its response completes the task the caller took from it. A
    /// request that cannot be sent (disconnected, cancelled) completes at once with its exception, still without allocating.
    /// </summary>
    private void Write<TWrite>(PendingRequest request, scoped ref TWrite write, CancellationToken cancellationToken)
        where TWrite : IMetaWrite, allows ref struct
    {
        if (cancellationToken.IsCancellationRequested)
        {
            request.OnFailure(new OperationCanceledException(cancellationToken));
            return;
        }
        var connection = Volatile.Read(ref _connection);
        if (connection is null || !connection.TryBeginWrite(out var writer))
        {
            request.OnFailure(new MemcachedException(Endpoint, request.Command, MemcachedErrorKind.ConnectionFailed,
                "not connected; the client is reconnecting in the background", Volatile.Read(ref _lastError)));
            return;
        }
        try
        {
            write.WriteTo(writer);
        }
        catch (Exception e)
        {
            connection.AbortWrite(e);
            request.OnFailure(new MemcachedException(Endpoint, request.Command, MemcachedErrorKind.ProtocolError, "the request could not be written", e));
            return;
        }
        connection.EndWrite(request);
    }

    /// <summary>Sends <paramref name="request"/> and returns its task.</summary>
    private ValueTask<TResult> Send<TResult, TWrite>(PooledRequest<TResult> request, scoped ref TWrite write, CancellationToken cancellationToken)
        where TWrite : IMetaWrite, allows ref struct
    {
        var task = request.Task;
        Write(request, ref write, cancellationToken);
        return task;
    }

    /// <summary>The most bytes a string key can take in UTF-8 once its length passed the 250-character check.</summary>
    private const int MaxUtf8KeyBytes = MemcachedKey.MaxLength * 3;

    /// <summary>Encodes a string key as UTF-8 into <paramref name="scratch"/>.</summary>
    private static ReadOnlySpan<byte> Utf8Key(string key, Span<byte> scratch, string parameterName = "key")
    {
        ArgumentNullException.ThrowIfNull(key, parameterName);
        if (key.Length > MemcachedKey.MaxLength)
            throw new ArgumentException($"A memcached key must be 1 to 250 bytes long; it has {key.Length} characters.", parameterName);
        return scratch[..Encoding.UTF8.GetBytes(key, scratch)];
    }
}

/// <summary>Writes one request into a connection's buffer (a ref struct holding the request's spans).</summary>
internal interface IMetaWrite
{
    void WriteTo(System.Buffers.IBufferWriter<byte> writer);
}
