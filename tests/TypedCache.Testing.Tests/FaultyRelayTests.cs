using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace TypedCache.Testing.Tests;

/// <summary>One memcached server behind the relays of <see cref="FaultyRelayTests"/>; tests use keys of their own.</summary>
public sealed class MemcachedFixture : IAsyncLifetime
{
    private MemcachedServer? _server;

    public MemcachedServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync() => _server = await MemcachedServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is null)
            return;
        var pid = _server.ProcessId;
        await _server.DisposeAsync();
        Assert.True(TextClient.ProcessIsGone(pid));
    }
}

public sealed class FaultyRelayTests(MemcachedFixture fixture) : IClassFixture<MemcachedFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private FaultyRelay _relay = null!;

    private MemcachedServer Server => fixture.Server;

    public async Task InitializeAsync() => _relay = await FaultyRelay.StartAsync(Server.Host, Server.Port);

    public async Task DisposeAsync() => await _relay.DisposeAsync();

    [Fact]
    public async Task Clean_relay_passes_a_large_value_unchanged_both_ways()
    {
        var value = new byte[300_000];
        new Random(42).NextBytes(value);
        var set = Concat(Encoding.ASCII.GetBytes($"set clean 0 0 {value.Length}\r\n"), value, "\r\n"u8.ToArray());
        var get = "get clean\r\n"u8.ToArray();
        using var client = await ConnectAsync();

        await client.Stream.WriteAsync(set);
        Assert.Equal("STORED\r\n", await client.ReadUntilAsync("\r\n"));
        await client.Stream.WriteAsync(get);
        var reply = await client.ReadBytesUntilAsync("END\r\n"u8.ToArray());

        var header = Encoding.ASCII.GetBytes($"VALUE clean 0 {value.Length}\r\n");
        Assert.Equal(Concat(header, value, "\r\nEND\r\n"u8.ToArray()), reply);
        Assert.Equal(set.Length + get.Length, _relay.ToServer.BytesForwarded);
        Assert.Equal("STORED\r\n".Length + reply.Length, _relay.ToClient.BytesForwarded);
        Assert.Equal(1, _relay.ConnectionCount);
        Assert.Equal($"127.0.0.1:{_relay.Port}", _relay.Endpoint);
    }

    [Fact]
    public async Task Delay_holds_each_direction_at_least_as_long_as_set()
    {
        using var client = await ConnectAsync();
        _relay.ToServer.Delay = TimeSpan.FromMilliseconds(150);
        _relay.ToClient.Delay = TimeSpan.FromMilliseconds(150);

        var started = Stopwatch.GetTimestamp();
        await client.SendAsync("version\r\n");
        Assert.StartsWith("VERSION ", await client.ReadUntilAsync("\r\n"));

        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(300), $"round trip took {Stopwatch.GetElapsedTime(started)}");
        Assert.Throws<ArgumentOutOfRangeException>(() => _relay.ToServer.Delay = TimeSpan.FromMilliseconds(-1));
    }

    [Fact]
    public async Task Pause_holds_bytes_until_unpaused()
    {
        using var client = await ConnectAsync();
        const string set = "set paused 0 0 1\r\nv\r\n";
        _relay.ToServer.Paused = true;

        await client.SendAsync(set);
        await Eventually.HoldsAsync(() => _relay.ToServer.BytesReceived == set.Length, "the relay reading the command");
        var reply = client.ReadUntilAsync("\r\n");

        Assert.True(_relay.ToServer.Paused);
        Assert.Equal(0, _relay.ToServer.BytesForwarded);
        Assert.Equal("END\r\n", await TextClient.ExchangeAsync(Server.Port, "get paused\r\n", "END\r\n"));
        Assert.False(reply.IsCompleted);

        _relay.ToServer.Paused = false;

        Assert.Equal("STORED\r\n", await reply);
        Assert.Equal(set.Length, _relay.ToServer.BytesForwarded);
    }

    [Fact]
    public async Task Drop_closes_the_clients_socket_and_new_connections_still_work()
    {
        using var client = await ConnectAsync();
        await client.SendAsync("version\r\n");
        await client.ReadUntilAsync("\r\n");
        Assert.Equal(1, _relay.ConnectionCount);

        _relay.DropConnections();

        Assert.True(await client.IsClosedByPeerAsync());
        await Eventually.HoldsAsync(() => _relay.ConnectionCount == 0, "the relay closing its connection");
        using var next = await ConnectAsync();
        await next.SendAsync("version\r\n");
        Assert.StartsWith("VERSION ", await next.ReadUntilAsync("\r\n"));
    }

    [Fact]
    public async Task Truncate_to_client_forwards_only_the_kept_bytes_then_closes()
    {
        using var client = await ConnectAsync();
        _relay.ToClient.TruncateNext(3);

        await client.SendAsync("version\r\n");

        Assert.Equal("VER", await client.ReadToEndAsync());
        Assert.Equal(3, _relay.ToClient.BytesForwarded);
        await Eventually.HoldsAsync(() => _relay.ConnectionCount == 0, "the relay closing its connection");
    }

    [Fact]
    public async Task Truncate_to_server_cuts_the_command_and_closes()
    {
        using var client = await ConnectAsync();
        _relay.ToServer.TruncateNext(4);

        await client.SendAsync("set cut 0 0 1\r\nv\r\n");

        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal(4, _relay.ToServer.BytesForwarded);
        Assert.Equal("END\r\n", await TextClient.ExchangeAsync(Server.Port, "get cut\r\n", "END\r\n"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _relay.ToServer.TruncateNext(-1));
    }

    [Fact]
    public async Task Inject_delivers_bytes_in_each_direction()
    {
        using var client = await ConnectAsync();
        await client.SendAsync("version\r\n");
        await client.ReadUntilAsync("\r\n");

        _relay.ToClient.Inject("SERVER_ERROR injected\r\n"u8);
        Assert.Equal("SERVER_ERROR injected\r\n", await client.ReadUntilAsync("\r\n"));

        _relay.ToServer.Inject("set injected 0 0 1\r\nv\r\n"u8);
        Assert.Equal("STORED\r\n", await client.ReadUntilAsync("\r\n"));
        Assert.Equal("VALUE injected 0 1\r\nv\r\nEND\r\n", await TextClient.ExchangeAsync(Server.Port, "get injected\r\n", "END\r\n"));
        Assert.Equal("version\r\n".Length, _relay.ToServer.BytesForwarded);
    }

    [Fact]
    public async Task Refuse_closes_new_connections_until_switched_off()
    {
        using var held = await ConnectAsync();
        await held.SendAsync("version\r\n");
        await held.ReadUntilAsync("\r\n");
        _relay.RefuseConnections = true;

        using var refused = await ConnectAsync();
        Assert.True(await refused.IsClosedByPeerAsync());
        await held.SendAsync("version\r\n");
        Assert.StartsWith("VERSION ", await held.ReadUntilAsync("\r\n"));

        _relay.RefuseConnections = false;
        using var accepted = await ConnectAsync();
        await accepted.SendAsync("version\r\n");
        Assert.StartsWith("VERSION ", await accepted.ReadUntilAsync("\r\n"));
    }

    [Fact]
    public async Task A_dead_target_closes_the_client()
    {
        var server = await MemcachedServer.StartAsync();
        await using var relay = await FaultyRelay.StartAsync(server.Host, server.Port);
        await server.DisposeAsync();

        using var client = await Client.ConnectAsync(relay.Port);

        Assert.True(await client.IsClosedByPeerAsync());
        Assert.Equal(0, relay.ConnectionCount);
    }

    private Task<Client> ConnectAsync() => Client.ConnectAsync(_relay.Port);

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private sealed class Client : IDisposable
    {
        private readonly TcpClient _tcp;
        private readonly CancellationTokenSource _timeout = new(Deadline);
        private readonly List<byte> _pending = [];

        private Client(TcpClient tcp) => _tcp = tcp;

        public NetworkStream Stream => _tcp.GetStream();

        public static async Task<Client> ConnectAsync(int port)
        {
            var tcp = new TcpClient { NoDelay = true };
            await tcp.ConnectAsync("127.0.0.1", port);
            return new Client(tcp);
        }

        public Task SendAsync(string text) => Stream.WriteAsync(Encoding.ASCII.GetBytes(text), _timeout.Token).AsTask();

        public async Task<string> ReadUntilAsync(string terminator) =>
            Encoding.ASCII.GetString(await ReadBytesUntilAsync(Encoding.ASCII.GetBytes(terminator)));

        /// <summary>Reads up to and including the first <paramref name="terminator"/>; bytes after it stay for the next read.</summary>
        public async Task<byte[]> ReadBytesUntilAsync(byte[] terminator)
        {
            var buffer = new byte[65536];
            while (true)
            {
                var end = IndexOf(terminator);
                if (end >= 0)
                {
                    var reply = _pending.GetRange(0, end + terminator.Length).ToArray();
                    _pending.RemoveRange(0, reply.Length);
                    return reply;
                }

                var read = await Stream.ReadAsync(buffer, _timeout.Token);
                if (read == 0)
                    throw new EndOfStreamException($"closed after {_pending.Count} bytes");
                _pending.AddRange(buffer.AsSpan(0, read));
            }
        }

        /// <summary>Everything until the relay closes the connection, whether with a FIN or a reset.</summary>
        public async Task<string> ReadToEndAsync()
        {
            var buffer = new byte[4096];
            try
            {
                int read;
                while ((read = await Stream.ReadAsync(buffer, _timeout.Token)) > 0)
                    _pending.AddRange(buffer.AsSpan(0, read));
            }
            catch (IOException e) when (e.InnerException is SocketException)
            {
            }

            return Encoding.ASCII.GetString([.. _pending]);
        }

        public async Task<bool> IsClosedByPeerAsync() => await ReadToEndAsync() == "";

        public void Dispose()
        {
            _tcp.Dispose();
            _timeout.Dispose();
        }

        private int IndexOf(byte[] terminator)
        {
            for (var i = 0; i + terminator.Length <= _pending.Count; i++)
            {
                var match = true;
                for (var j = 0; j < terminator.Length && match; j++)
                    match = _pending[i + j] == terminator[j];
                if (match)
                    return i;
            }

            return -1;
        }
    }
}
