using System.Net;
using System.Net.Sockets;
using TypedCache.Cluster;
using TypedCache.Coordination;

namespace TypedCache.Proxy;

/// <summary>
/// A memcached-protocol proxy: clients in any language speak the text and meta protocols to it, and it routes each
/// key to its node on the ketama ring (a static list, or the live members in ZooKeeper).
/// </summary>
/// <remarks>
/// <para>
/// Requests are forwarded, not translated: a classic command goes to its node as the classic command (its
/// <c>noreply</c> taken off), a meta command as the meta command (its <c>q</c> taken off), over one shared pipelined
/// connection per node. Every forwarded request thus gets exactly one reply, which keeps the shared connection in
/// sync, and every reply reaches the client byte for byte as memcached wrote it; the proxy then drops what
/// <c>noreply</c> or <c>q</c> hide. Nothing malformed is forwarded: the proxy validates each line as memcached does
/// and answers bad ones itself with memcached's own error lines.
/// </para>
/// <para>
/// A multi-key <c>get</c>/<c>gets</c>/<c>gat</c>/<c>gats</c> is split into one request per node and the hits merged
/// in key order. <c>flush_all</c> goes to every node and answers <c>OK</c> once all have answered; <c>version</c>,
/// <c>verbosity</c>, <c>stats</c> (the proxy's own counters), <c>mn</c> and <c>quit</c> are answered by the proxy.
/// A down node's keys follow <see cref="ProxyOptions.NodeDownPolicy"/>: under Miss, reads miss (<c>END</c>,
/// <c>EN</c>) and writes answer <c>NOT_STORED</c>/<c>NOT_FOUND</c> (<c>NS</c>/<c>NF</c>) at once; under Eject they move
/// to the live nodes; under Gutter they go to <see cref="ProxyOptions.GutterNodes"/> with TTLs capped.
/// </para>
/// </remarks>
internal sealed class MemcachedProxy : IAsyncDisposable
{
    private const int OtherFiles = 256;

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _connections = [];
    private readonly Task _accept;

    private MemcachedProxy(ProxyOptions options, ProxyTopology topology, IPEndPoint listen)
    {
        Options = options;
        Topology = topology;
        _listener = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Bind(listen);
            _listener.Listen(1024);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        Endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        _accept = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Where the proxy listens (the port chosen when 0 was asked for).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>The limits in force.</summary>
    public ProxyOptions Options { get; }

    /// <summary>The ring and backends.</summary>
    public ProxyTopology Topology { get; }

    /// <summary>The proxy's counters.</summary>
    public ProxyStats Stats { get; } = new();

    /// <summary>A proxy over a fixed list of memcached nodes.</summary>
    /// <exception cref="InvalidOperationException">The open-file limit cannot fit <see cref="ProxyOptions.MaxConnections"/>.</exception>
    /// <exception cref="SocketException">The listen endpoint cannot be bound.</exception>
    public static MemcachedProxy Start(IPEndPoint listen, IReadOnlyList<RingNode> nodes, ProxyOptions? options = null)
    {
        options ??= new ProxyOptions();
        options.Validate();
        OpenFileLimit.EnsureAtLeast(options.MaxConnections + nodes.Count + OtherFiles);
        return StartOver(listen, options, ProxyTopology.Create(nodes, options));
    }

    /// <summary>A proxy over the members under <paramref name="root"/>, its ring rebuilt as they change.</summary>
    /// <exception cref="InvalidOperationException">The open-file limit cannot fit <see cref="ProxyOptions.MaxConnections"/>.</exception>
    public static async Task<MemcachedProxy> StartAsync(IPEndPoint listen, CoordinationRoot root, ProxyOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ProxyOptions();
        options.Validate();
        OpenFileLimit.EnsureAtLeast(options.MaxConnections + OtherFiles * 2);
        return StartOver(listen, options, await ProxyTopology.StartAsync(root, options, cancellationToken).ConfigureAwait(false));
    }

    private static MemcachedProxy StartOver(IPEndPoint listen, ProxyOptions options, ProxyTopology topology)
    {
        try
        {
            return new MemcachedProxy(options, topology, listen);
        }
        catch
        {
            topology.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Stops accepting, closes every client connection, then every backend connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accept.ConfigureAwait(false);
        Task[] open;
        lock (_gate)
            open = [.. _connections];
        await Task.WhenAll(open).ConfigureAwait(false);
        await Topology.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            if (Stats.CurrentConnections >= Options.MaxConnections)
            {
                Stats.ConnectionRejected();
                _ = RejectAsync(client);
                continue;
            }
            client.NoDelay = true;
            Stats.ConnectionOpened();
            var connection = new ProxyConnection(client, this);
            var task = Task.Run(() => connection.RunAsync(_stop.Token));
            lock (_gate)
                _connections.Add(task);
            _ = task.ContinueWith(Forget, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private void Forget(Task connection)
    {
        Stats.ConnectionClosed();
        lock (_gate)
            _connections.Remove(connection);
    }

    /// <summary>As memcached: one error line, then close.</summary>
    private static async Task RejectAsync(Socket client)
    {
        using (client)
        {
            try
            {
                await client.SendAsync(Replies.TooManyConnections, SocketFlags.None).ConfigureAwait(false);
            }
            catch (SocketException)
            {
            }
        }
    }
}
