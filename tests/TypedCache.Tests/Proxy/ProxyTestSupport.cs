using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using TypedCache.Cluster;
using TypedCache.Proxy;
using TypedCache.Tests.Cluster;

namespace TypedCache.Tests.Proxy;

/// <summary>A proxy in this process over real memcached servers, and raw protocol access to both.</summary>
internal sealed class ProxyRig : IAsyncDisposable
{
    private ProxyRig(ServerSet servers, MemcachedProxy proxy)
    {
        Servers = servers;
        Proxy = proxy;
    }

    public ServerSet Servers { get; }

    public MemcachedProxy Proxy { get; }

    public int Port => Proxy.Endpoint.Port;

    public static async Task<ProxyRig> StartAsync(int nodes = 3, ProxyOptions? options = null)
    {
        var servers = await ServerSet.StartAsync(nodes);
        try
        {
            var proxy = MemcachedProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), servers.Nodes, options ?? Fast());
            var rig = new ProxyRig(servers, proxy);
            await ClusterTestSupport.UntilAsync(() => proxy.Topology.Current.Nodes.All(b => b.IsUp), "every backend to connect");
            return rig;
        }
        catch
        {
            await servers.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A backend timeout long enough that a stall of a loaded machine never passes for a node that stopped answering
    /// (the tests take nodes down by killing them, which closes the connection at once).
    /// </summary>
    public static readonly TimeSpan GenerousBackendTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The options of most tests: <see cref="GenerousBackendTimeout"/> and <paramref name="policy"/>.</summary>
    public static ProxyOptions Fast(NodeDownPolicy policy = NodeDownPolicy.Miss) => new()
    {
        BackendTimeout = GenerousBackendTimeout,
        NodeDownPolicy = policy,
    };

    public Task<RawConnection> ConnectAsync() => RawConnection.ConnectAsync(Port);

    /// <summary>The server our ring places <paramref name="key"/> on.</summary>
    public int NodeOf(string key) => Proxy.Topology.Current.Ring.GetNodeIndex(key);

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Servers.DisposeAsync();
    }
}

/// <summary>One loopback connection speaking raw bytes, read until an expected end or a deadline.</summary>
internal sealed class RawConnection : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly Socket _socket;
    private readonly List<byte> _received = [];

    private RawConnection(Socket socket) => _socket = socket;

    public static async Task<RawConnection> ConnectAsync(int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return new RawConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    public async Task SendAsync(string text) => await SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes, SocketFlags.None);

    /// <summary>Everything received up to and including the first <paramref name="end"/>; fails after the deadline.</summary>
    public async Task<string> ReadUntilAsync(string end, TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? Deadline);
        var marker = Encoding.Latin1.GetBytes(end);
        var buffer = new byte[64 * 1024];
        int searched = 0;
        while (true)
        {
            int at = CollectionsMarshal.AsSpan(_received)[searched..].IndexOf(marker);
            if (at >= 0)
            {
                int length = searched + at + marker.Length;
                string text = Latin1(CollectionsMarshal.AsSpan(_received)[..length]);
                _received.RemoveRange(0, length);
                return text;
            }
            searched = Math.Max(0, _received.Count - marker.Length + 1);
            int read;
            try
            {
                read = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No '{end.ReplaceLineEndings("\\n")}' within the deadline; got {_received.Count} bytes: {Abbreviated()}");
            }
            if (read == 0)
                throw new IOException($"Closed before '{end.ReplaceLineEndings("\\n")}'; got: {Abbreviated()}");
            _received.AddRange(buffer.AsSpan(0, read));
        }
    }

    private string Abbreviated() => _received.Count <= 300 ? Pending : Latin1(CollectionsMarshal.AsSpan(_received)[..300]) + "...";

    /// <summary>Sends <paramref name="script"/> then <c>mn</c>, and returns every reply before the <c>MN</c> fence.</summary>
    public async Task<string> ExchangeAsync(string script)
    {
        await SendAsync(script + "mn\r\n");
        string replies = await ReadUntilAsync("MN\r\n");
        return replies[..^4];
    }

    /// <summary>True once the peer has closed the connection (reads return 0), false at the deadline.</summary>
    public async Task<bool> ClosedByPeerAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                int read = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0)
                    return true;
                _received.AddRange(buffer.AsSpan(0, read));
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    public string Pending => Latin1([.. _received]);

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A fact that needs <paramref name="files"/> open descriptors in this process and as many in a child process: skipped,
/// naming both numbers, when the hard open-file limit is lower (the soft limit is raised by the proxy and the child).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class NeedsOpenFilesFactAttribute : FactAttribute
{
    public NeedsOpenFilesFactAttribute(int files)
    {
        ulong hard = OpenFileLimit.Hard;
        if (hard < (ulong)files)
            Skip = $"needs {files} open files per process, but the hard open-file limit is {hard} ('ulimit -Hn')";
    }
}

