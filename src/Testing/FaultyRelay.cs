using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TypedCache.Testing;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of a real server, for fault tests: clients connect to <see cref="Endpoint"/>
/// instead of the server, and each accepted connection is relayed to the target over a connection of its own.
/// Faults are switched at run time: <see cref="ToServer"/> and <see cref="ToClient"/> delay, pause, truncate
/// and inject bytes in one direction; <see cref="DropConnections"/> and <see cref="RefuseConnections"/> act on
/// whole connections. With no fault set, bytes pass unchanged and in order.
/// </summary>
/// <example>
/// <code>
/// await using var server = await MemcachedServer.StartAsync();
/// await using var relay = await FaultyRelay.StartAsync(server.Host, server.Port);
/// relay.ToClient.Delay = TimeSpan.FromMilliseconds(200);   // connect the client under test to relay.Endpoint
/// </code>
/// </example>
public sealed class FaultyRelay : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<RelayConnection, Task> _connections = new();
    private readonly Task _acceptLoop;
    private volatile bool _refuseConnections;
    private bool _disposed;

    private FaultyRelay(Socket listener, IPEndPoint target)
    {
        _listener = listener;
        _target = target;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>The loopback port clients connect to.</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>: the address clients connect to.</summary>
    public string Endpoint => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Faults applied to the bytes clients send to the server.</summary>
    public RelayDirection ToServer { get; } = new();

    /// <summary>Faults applied to the bytes the server sends to clients.</summary>
    public RelayDirection ToClient { get; } = new();

    /// <summary>The number of connections being relayed now.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>
    /// While true, every new connection is accepted and closed at once, as a server that is up but refuses
    /// work; connections already relayed go on. Default: false.
    /// </summary>
    public bool RefuseConnections
    {
        get => _refuseConnections;
        set => _refuseConnections = value;
    }

    /// <summary>
    /// Starts a relay on a free loopback port in front of <paramref name="targetHost"/>:<paramref name="targetPort"/>.
    /// The target is connected once per accepted client; a client whose target connection fails is closed.
    /// </summary>
    /// <param name="targetHost">The server's address or host name.</param>
    /// <param name="targetPort">The server's port.</param>
    /// <param name="ct">Cancels resolving <paramref name="targetHost"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetPort"/> is not a TCP port.</exception>
    /// <exception cref="ArgumentException"><paramref name="targetHost"/> does not resolve to an address.</exception>
    public static async Task<FaultyRelay> StartAsync(string targetHost, int targetPort, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(targetHost);
        ArgumentOutOfRangeException.ThrowIfLessThan(targetPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(targetPort, 65535);
        var address = IPAddress.TryParse(targetHost, out var parsed)
            ? parsed
            : (await Dns.GetHostAddressesAsync(targetHost, ct).ConfigureAwait(false)).FirstOrDefault()
              ?? throw new ArgumentException($"{targetHost} does not resolve to an address.", nameof(targetHost));

        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(128);
        return new FaultyRelay(listener, new IPEndPoint(address, targetPort));
    }

    /// <summary>Resets every relayed connection now (client and server side); bytes held by a delay or a pause are lost. New connections are still accepted.</summary>
    public void DropConnections()
    {
        foreach (var connection in _connections.Keys)
            connection.Abort();
    }

    /// <summary>Stops accepting, drops every connection and waits until the relay's work has ended. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        DropConnections();
        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // A client that reset before it was accepted: keep accepting.
                continue;
            }

            if (_refuseConnections)
            {
                client.Dispose();
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // Inside the try: setting an option on a client that already reset throws.
            client.NoDelay = true;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(ConnectTimeout);
            await server.ConnectAsync(_target, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            server.Dispose();
            client.Dispose();
            return;
        }

        var connection = new RelayConnection(client, server, ToServer, ToClient);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _connections[connection] = done.Task;
        try
        {
            if (_stopping.IsCancellationRequested)
                connection.Abort();
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            done.SetResult();
        }
    }
}
