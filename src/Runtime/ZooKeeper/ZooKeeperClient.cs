using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TypedCache.ZooKeeper.Protocol;

namespace TypedCache.ZooKeeper;

/// <summary>
/// A ZooKeeper 3.6+ client: one session over one pipelined connection at a time, moving between the ensemble's
/// members within the session when a server goes away (same session id, auth re-sent, watches re-armed).
/// </summary>
/// <remarks>
/// <para>Calls made while connected are written at once; calls made while (re)connecting wait up to
/// <see cref="ZooKeeperClientOptions.ConnectionWaitTimeout"/>. Requests in flight when the connection drops fail with
/// <see cref="ConnectionLossException"/> (they may or may not have been applied). After the session expires every
/// call fails with <see cref="SessionExpiredException"/> unless <see cref="ZooKeeperClientOptions.RenewSessionOnExpiry"/>
/// is set.</para>
/// <para>Paths are validated before anything is sent (<see cref="ArgumentException"/>), and so is the request
/// size against the server's 1 MB limit. Continuations, watch events and <see cref="StateChanged"/> handlers never
/// run on the connection's read loop.</para>
/// </remarks>
public sealed partial class ZooKeeperClient : IAsyncDisposable
{
    private readonly ZooKeeperClientOptions _options;
    private readonly (string Host, int Port)[] _hosts;
    private readonly string _chroot;
    private readonly ZooKeeperWatches _watches = new();
    private readonly Lock _stateLock = new();
    private readonly List<(string Scheme, byte[] Auth)> _auths = [];
    private readonly CancellationTokenSource _disposing = new();
    private readonly Channel<ConnectionState> _stateEvents = Channel.CreateUnbounded<ConnectionState>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _sessionLoop;
    private ZooKeeperConnection? _current;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private KeeperErrorCode? _terminalCode;
    private KeeperErrorCode? _authFailure;
    private long _sessionId;
    private byte[] _password = new byte[Handshake.PasswordLength];
    private int _negotiatedTimeoutMs;
    private long _lastZxid;
    private long _connections;
    private int _disposed;

    /// <summary>Creates the client and starts connecting in the background; calls wait for the connection.</summary>
    /// <param name="options">The settings; <see cref="ZooKeeperClientOptions.ConnectString"/> is required.</param>
    public ZooKeeperClient(ZooKeeperClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var connect = ZooKeeperConnectString.Parse(options.ConnectString);
        if (options.SessionTimeout <= TimeSpan.Zero || options.SessionTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.SessionTimeout, "The session timeout must be positive.");
        }

        _options = options;
        _chroot = connect.Chroot;
        _hosts = [.. connect.Hosts];
        Random.Shared.Shuffle(_hosts);
        _ = Task.Run(DispatchStateEventsAsync);
        _sessionLoop = Task.Run(RunSessionAsync);
    }

    /// <summary>Raised on every connection-state change, in order, never on the connection's read loop.</summary>
    public event EventHandler<ConnectionState>? StateChanged;

    /// <summary>The current state; <see cref="ConnectionState.Suspended"/> until the first connection is made.</summary>
    public ConnectionState State { get; private set; } = ConnectionState.Suspended;

    /// <summary>The session id (0 before the first connection); servers log it in hex.</summary>
    public long SessionId => Interlocked.Read(ref _sessionId);

    /// <summary>
    /// How many connections this client has established; incremented before a new connection reads anything, so a
    /// watch event handled on the read thread sees the count of the connection that delivered it (or a later one).
    /// Changes made while no connection was up produce no event: a recipe that saw the count change re-reads.
    /// </summary>
    internal long ConnectionCount => Interlocked.Read(ref _connections);

    /// <summary>The session timeout negotiated with the server (zero before the first connection).</summary>
    public TimeSpan SessionTimeout => TimeSpan.FromMilliseconds(Volatile.Read(ref _negotiatedTimeoutMs));

    /// <summary>The <c>host:port</c> of the server the client is connected to, or null while disconnected.</summary>
    public string? ConnectedEndpoint => _current?.Endpoint;

    /// <summary>Creates a client and waits until its session is established.</summary>
    /// <param name="options">The settings.</param>
    /// <param name="cancellationToken">Cancels the wait (the client is disposed).</param>
    /// <returns>The connected client.</returns>
    /// <exception cref="ConnectionLossException">No server answered within <see cref="ZooKeeperClientOptions.ConnectionWaitTimeout"/>.</exception>
    public static async Task<ZooKeeperClient> ConnectAsync(ZooKeeperClientOptions options, CancellationToken cancellationToken = default)
    {
        var client = new ZooKeeperClient(options);
        try
        {
            await client.WaitForConnectionAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits until the client is connected (at most <see cref="ZooKeeperClientOptions.ConnectionWaitTimeout"/>).</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes once connected.</returns>
    /// <exception cref="ConnectionLossException">Not connected within the timeout.</exception>
    /// <exception cref="SessionExpiredException">The session expired.</exception>
    public async Task WaitForConnectionAsync(CancellationToken cancellationToken = default)
    {
        long started = _options.TimeProvider.GetTimestamp();
        while (true)
        {
            Task gate;
            lock (_stateLock)
            {
                ThrowIfTerminal(null);
                if (_current is not null)
                {
                    return;
                }

                gate = _connected.Task;
            }

            await WaitForGateAsync(gate, started, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the session (its ephemeral nodes are deleted at once) and the connection.</summary>
    /// <returns>A task that completes when the client is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        ZooKeeperConnection? connection = _current;
        if (connection is not null && _terminalCode is null)
        {
            var close = new CloseSessionRequest();
            try
            {
                if (connection.TrySend(close))
                {
                    await close.Task.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(_negotiatedTimeoutMs / 3, 100)), _options.TimeProvider).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is KeeperException or TimeoutException)
            {
                // The session then expires on the server after its timeout.
            }
        }

        lock (_stateLock)
        {
            _connected.TrySetException(new ObjectDisposedException(nameof(ZooKeeperClient)));
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        connection?.Abort(new ObjectDisposedException(nameof(ZooKeeperClient)));
        _current?.Abort(new ObjectDisposedException(nameof(ZooKeeperClient)));
        try
        {
            await _sessionLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _watches.FailAll(null);
        SetState(ConnectionState.Closed);
        _stateEvents.Writer.TryComplete();
        _disposing.Dispose();
    }

    internal void ObserveZxid(long zxid)
    {
        if (zxid > Volatile.Read(ref _lastZxid))
        {
            Volatile.Write(ref _lastZxid, zxid);
        }
    }

    internal void OnNotification(int type, string serverPath)
    {
        if (type is >= (int)WatchEventType.NodeCreated and <= (int)WatchEventType.NodeChildrenChanged)
        {
            _watches.Deliver((WatchEventType)type, ZooKeeperConnectString.StripChroot(_chroot, serverPath));
        }
    }

    internal void OnAuthFailed(KeeperErrorCode code) => _authFailure = code;

    /// <summary>
    /// True when the client opens a new session after an expiry (<see cref="ZooKeeperClientOptions.RenewSessionOnExpiry"/>);
    /// false when an expiry ends it for good.
    /// </summary>
    internal bool RenewsSessionOnExpiry => _options.RenewSessionOnExpiry;

    /// <summary>The logger the client was configured with, for the recipes built on it.</summary>
    internal ILogger Logger => _options.Logger;

    internal void OnConnectionClosed(ZooKeeperConnection connection)
    {
        lock (_stateLock)
        {
            if (_current == connection)
            {
                _current = null;
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    internal async ValueTask RemovePersistentWatchAsync(PersistentWatch watch)
    {
        if (_watches.Unregister(watch) && _terminalCode is null && _disposed == 0)
        {
            try
            {
                await Send(new RemoveWatchesRequest(_chroot, watch.Path, WatcherType.Any), default).ConfigureAwait(false);
            }
            catch (KeeperException)
            {
                // NoWatcher, or the connection is gone and with it the server's watch.
            }
        }

        watch.Complete(null);
    }

    private static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);

    private async Task RunSessionAsync()
    {
        CancellationToken stop = _disposing.Token;
        int next = 0;
        int failuresInPass = 0;
        bool connectedBefore = false;
        long? disconnectedAt = null;
        bool lostRaised = false;
        while (!stop.IsCancellationRequested)
        {
            (string host, int port) = _hosts[next];
            next = (next + 1) % _hosts.Length;
            (ZooKeeperConnection Connection, ConnectResponse Response)? attempt = null;
            try
            {
                attempt = await ConnectToAsync(host, port, stop).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Whatever went wrong with this server, the answer is the next one.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                ZooKeeperLog.ConnectFailed(_options.Logger, ex, $"{host}:{port}");

                // Refused, timed out, or closed during the handshake: a server behind our zxid, or a read-only
                // server (the client never accepts read-only mode, so such a server closes the connection).
            }

            if (stop.IsCancellationRequested)
            {
                attempt?.Connection.Abort(new ObjectDisposedException(nameof(ZooKeeperClient)));
                return;
            }

            if (attempt is not { } established)
            {
                if (disconnectedAt is { } since && !lostRaised &&
                    _options.TimeProvider.GetElapsedTime(since) >= SessionTimeout)
                {
                    lostRaised = true;
                    ZooKeeperLog.Lost(_options.Logger, SessionId);
                    SetState(ConnectionState.Lost);
                }

                if (++failuresInPass >= _hosts.Length)
                {
                    failuresInPass = 0;
                    await Task.Delay(TimeSpan.FromMilliseconds(100 + Random.Shared.Next(400)), _options.TimeProvider, stop).ConfigureAwait(false);
                }

                continue;
            }

            failuresInPass = 0;
            (ZooKeeperConnection connection, ConnectResponse response) = established;
            if (response.TimeoutMs <= 0)
            {
                connection.Abort(new SessionExpiredException());
                Expire();
                if (!_options.RenewSessionOnExpiry)
                {
                    return;
                }

                connectedBefore = false;
                disconnectedAt = null;
                lostRaised = false;
                continue;
            }

            Interlocked.Exchange(ref _sessionId, response.SessionId);
            _password = response.Password;
            Volatile.Write(ref _negotiatedTimeoutMs, response.TimeoutMs);
            Interlocked.Increment(ref _connections);
            connection.Start(response.TimeoutMs);

            // Auth first, then the watches, then (once published) the callers' requests: the order the server needs.
            (string Scheme, byte[] Auth)[] auths;
            lock (_stateLock)
            {
                auths = [.. _auths];
            }

            foreach ((string scheme, byte[] auth) in auths)
            {
                connection.TrySendAuth(scheme, auth, null);
            }

            foreach (SetWatchesRequest setWatches in _watches.CreateSetWatches(_chroot, Volatile.Read(ref _lastZxid)))
            {
                connection.TrySend(setWatches);
            }

            lock (_stateLock)
            {
                // Abort sets its flag before it takes this lock to unpublish: either it sees this connection published
                // and clears it, or this check sees the flag. Closed completes only at the end of Abort, too late.
                if (!connection.IsAborted)
                {
                    _current = connection;
                    _connected.TrySetResult();
                }
            }

            ConnectionState connectedState = connectedBefore ? ConnectionState.Reconnected : ConnectionState.Connected;
            ZooKeeperLog.Connected(_options.Logger, response.SessionId, connectedState, connection.Endpoint, response.TimeoutMs);
            SetState(connectedState);
            connectedBefore = true;
            disconnectedAt = null;
            lostRaised = false;

            Exception reason;
            using (stop.Register(() => connection.Abort(new ObjectDisposedException(nameof(ZooKeeperClient)))))
            {
                reason = await connection.Closed.ConfigureAwait(false);
            }

            if (stop.IsCancellationRequested)
            {
                return;
            }

            if (_authFailure is { } authFailure)
            {
                ZooKeeperLog.AuthFailed(_options.Logger, authFailure);
                Terminate(authFailure, ConnectionState.AuthFailed);
                return;
            }

            ZooKeeperLog.Disconnected(_options.Logger, reason, connection.Endpoint, SessionId);
            disconnectedAt = _options.TimeProvider.GetTimestamp();
            SetState(ConnectionState.Suspended);
        }
    }

    private async Task<(ZooKeeperConnection, ConnectResponse)> ConnectToAsync(string host, int port, CancellationToken stop)
    {
        int timeoutMs = _negotiatedTimeoutMs > 0 ? _negotiatedTimeoutMs : (int)_options.SessionTimeout.TotalMilliseconds;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(stop);
        budget.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(timeoutMs / _hosts.Length, 500)));
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new ZooKeeperConnection(socket, $"{host}:{port}", this, _options);
        try
        {
            await socket.ConnectAsync(host, port, budget.Token).ConfigureAwait(false);
            ConnectResponse response = await connection.HandshakeAsync(
                Volatile.Read(ref _lastZxid), (int)_options.SessionTimeout.TotalMilliseconds, SessionId, _password, budget.Token).ConfigureAwait(false);
            return (connection, response);
        }
        catch (Exception ex)
        {
            connection.Abort(ex);
            throw;
        }
    }

    private void Expire()
    {
        ZooKeeperLog.Expired(_options.Logger, SessionId);
        var expired = new SessionExpiredException(null, $"ZooKeeper session 0x{SessionId:x} expired.");
        lock (_stateLock)
        {
            _connected.TrySetException(expired);
            if (_options.RenewSessionOnExpiry)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            else
            {
                _terminalCode = KeeperErrorCode.SessionExpired;
            }
        }

        Interlocked.Exchange(ref _sessionId, 0);
        _password = new byte[Handshake.PasswordLength];
        Volatile.Write(ref _negotiatedTimeoutMs, 0);
        _watches.FailAll(expired);
        SetState(ConnectionState.Expired);
    }

    private void Terminate(KeeperErrorCode code, ConnectionState state)
    {
        var exception = KeeperException.Create(code);
        lock (_stateLock)
        {
            _terminalCode = code;
            _connected.TrySetException(exception);
        }

        _watches.FailAll(exception);
        SetState(state);
    }

    private void SetState(ConnectionState state)
    {
        State = state;
        _stateEvents.Writer.TryWrite(state);
    }

    private async Task DispatchStateEventsAsync()
    {
        await foreach (ConnectionState state in _stateEvents.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                StateChanged?.Invoke(this, state);
            }
#pragma warning disable CA1031 // A subscriber's exception must not stop the delivery of later states.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    private void ThrowIfTerminal(string? path)
    {
        if (TerminalException(path) is { } terminal)
        {
            throw terminal;
        }
    }

    /// <summary>Why no call can succeed any more (disposed, expired, auth failed), or null.</summary>
    private Exception? TerminalException(string? path) =>
        _disposed != 0 ? new ObjectDisposedException(nameof(ZooKeeperClient))
        : _terminalCode is { } code ? KeeperException.Create(code, path)
        : null;

    private async Task WaitForGateAsync(Task gate, long started, string? path, CancellationToken cancellationToken)
    {
        TimeSpan remaining = _options.ConnectionWaitTimeout - _options.TimeProvider.GetElapsedTime(started);
        if (remaining <= TimeSpan.Zero)
        {
            throw new ConnectionLossException(path, $"Not connected to ZooKeeper ({string.Join(",", _hosts.Select(h => $"{h.Host}:{h.Port}"))}) within {_options.ConnectionWaitTimeout.TotalSeconds:0.###} s.");
        }

        try
        {
            await gate.WaitAsync(remaining, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new ConnectionLossException(path, $"Not connected to ZooKeeper ({string.Join(",", _hosts.Select(h => $"{h.Host}:{h.Port}"))}) within {_options.ConnectionWaitTimeout.TotalSeconds:0.###} s.");
        }
    }

    private Task<T> Send<T>(ZooKeeperRequest<T> request, CancellationToken cancellationToken)
    {
        if (TerminalException(request.Path) is { } terminal)
        {
            return Task.FromException<T>(terminal);
        }

        ZooKeeperConnection? connection = _current;
        if (connection is not null && connection.TrySend(request))
        {
            return cancellationToken.CanBeCanceled ? request.Task.WaitAsync(cancellationToken) : request.Task;
        }

        return SendWhenConnectedAsync(request, cancellationToken);
    }

    private async Task<T> SendWhenConnectedAsync<T>(ZooKeeperRequest<T> request, CancellationToken cancellationToken)
    {
        long started = _options.TimeProvider.GetTimestamp();
        while (true)
        {
            ZooKeeperConnection? connection;
            Task gate;
            lock (_stateLock)
            {
                ThrowIfTerminal(request.Path);
                connection = _current;
                gate = _connected.Task;
            }

            if (connection is not null && connection.TrySend(request))
            {
                return await request.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            await WaitForGateAsync(gate, started, request.Path, cancellationToken).ConfigureAwait(false);
        }
    }
}
