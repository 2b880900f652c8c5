using System.Net;
using System.Net.Sockets;

namespace TypedCache.Testing.Tests;

public sealed class NutcrackerServerTests
{
    [Theory]
    [InlineData("md5", null)]
    [InlineData("fnv1a_64", "beta")]
    public async Task A_key_set_through_nutcracker_is_read_back_and_stored_on_one_server_and_it_is_gone_after_dispose(string hash, string? name)
    {
        await using var first = await MemcachedServer.StartAsync();
        await using var second = await MemcachedServer.StartAsync();
        var nutcracker = await NutcrackerServer.StartAsync(
            [first.Endpoint + ":1", second.Endpoint + ":2" + (name is null ? "" : " " + name)], new NutcrackerServerOptions { Hash = hash });
        try
        {
            Assert.True(nutcracker.IsRunning);
            Assert.Equal($"127.0.0.1:{nutcracker.Port}", nutcracker.Endpoint);
            Assert.DoesNotContain(nutcracker.Port, new[] { first.Port, second.Port });
            Assert.Contains(nutcracker.ProcessId, ProcessRegistry.LiveProcessIds);

            Assert.Equal("STORED\r\n", await TextClient.ExchangeAsync(nutcracker.Port, "set through 0 0 5\r\nhello\r\n", "\r\n"));
            Assert.Equal("VALUE through 0 5\r\nhello\r\nEND\r\n", await TextClient.ExchangeAsync(nutcracker.Port, "get through\r\n", "END\r\n"));

            var held = new List<string>();
            foreach (var server in new[] { first, second })
                held.Add(await TextClient.ExchangeAsync(server.Port, "get through\r\n", "END\r\n"));
            Assert.Single(held, reply => reply == "VALUE through 0 5\r\nhello\r\nEND\r\n");
            Assert.Single(held, reply => reply == "END\r\n");
        }
        finally
        {
            await nutcracker.DisposeAsync();
        }

        Assert.False(nutcracker.IsRunning);
        Assert.True(TextClient.ProcessIsGone(nutcracker.ProcessId), $"nutcracker PID {nutcracker.ProcessId} is still there");
        Assert.DoesNotContain(nutcracker.ProcessId, ProcessRegistry.LiveProcessIds);
        Assert.Contains(nutcracker.ProcessId, ProcessRegistry.StartedProcessIds);
        await Assert.ThrowsAnyAsync<SocketException>(() => TextClient.ExchangeAsync(nutcracker.Port, "version\r\n", "\r\n"));
    }

    [Fact]
    public async Task A_port_another_process_holds_is_replaced_with_a_free_one()
    {
        await using var memcached = await MemcachedServer.StartAsync();
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var taken = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var ports = 0;

        await using var nutcracker = await NutcrackerServer.StartAsync(
            [memcached.Endpoint + ":1"], null, () => ports++ == 0 ? taken : FreePorts.Next(), CancellationToken.None);

        Assert.Equal(4, ports);
        Assert.NotEqual(taken, nutcracker.Port);
        Assert.Equal("STORED\r\n", await TextClient.ExchangeAsync(nutcracker.Port, "set moved 0 0 1\r\nv\r\n", "\r\n"));
    }

    [Fact]
    public async Task With_a_timeout_a_server_that_does_not_answer_becomes_a_server_error()
    {
        await using var memcached = await MemcachedServer.StartAsync();
        await using var relay = await FaultyRelay.StartAsync(memcached.Host, memcached.Port);
        await using var nutcracker = await NutcrackerServer.StartAsync(
            [relay.Endpoint + ":1"], new NutcrackerServerOptions { Timeout = TimeSpan.FromMilliseconds(200) });
        relay.ToClient.Paused = true;

        var reply = await TextClient.ExchangeAsync(nutcracker.Port, "get silent\r\n", "\r\n");

        Assert.StartsWith("SERVER_ERROR", reply, StringComparison.Ordinal);
        Assert.Contains("timed out", reply, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task With_auto_eject_the_keys_of_a_killed_server_go_to_the_live_one()
    {
        await using var live = await MemcachedServer.StartAsync();
        await using var killed = await MemcachedServer.StartAsync();
        await using var nutcracker = await NutcrackerServer.StartAsync(
            [live.Endpoint + ":1", killed.Endpoint + ":1"], new NutcrackerServerOptions { AutoEjectHosts = true });
        string[] keys = [.. Enumerable.Range(0, 20).Select(i => $"key{i}")];
        foreach (var key in keys)
            Assert.Equal("STORED\r\n", await TextClient.ExchangeAsync(nutcracker.Port, $"set {key} 0 0 1\r\nv\r\n", "\r\n"));
        Assert.Contains("VALUE", await TextClient.ExchangeAsync(killed.Port, $"get {string.Join(' ', keys)}\r\n", "END\r\n"), StringComparison.Ordinal);

        await killed.KillAsync();

        await Eventually.HoldsAsync(
            async () =>
            {
                var stored = 0;
                foreach (var key in keys)
                    stored += await TextClient.ExchangeAsync(nutcracker.Port, $"set {key} 0 0 1\r\nw\r\n", "\r\n") == "STORED\r\n" ? 1 : 0;
                return stored == keys.Length;
            },
            "every key stored through nutcracker after the kill");
        var onLive = await TextClient.ExchangeAsync(live.Port, $"get {string.Join(' ', keys)}\r\n", "END\r\n");
        Assert.All(keys, key => Assert.Contains($"VALUE {key} 0 1\r\nw\r\n", onLive, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("127.0.0.1:11211")]
    [InlineData("127.0.0.1:11211:0")]
    [InlineData("127.0.0.1:70000:1")]
    [InlineData("127.0.0.1:11211:1 two names")]
    [InlineData("127.0.0.1:11211:1\n  hash: crc16")]
    public async Task A_server_not_in_twemproxys_form_is_rejected_before_starting(string server)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => NutcrackerServer.StartAsync([server]));

        Assert.Contains(server, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_servers_an_unknown_hash_and_a_fractional_timeout_are_rejected_before_starting()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => NutcrackerServer.StartAsync([]));
        var hash = await Assert.ThrowsAsync<ArgumentException>(
            () => NutcrackerServer.StartAsync(["127.0.0.1:11211:1"], new NutcrackerServerOptions { Hash = "sha1" }));
        Assert.Contains("'sha1'", hash.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(
            () => NutcrackerServer.StartAsync(["127.0.0.1:11211:1"], new NutcrackerServerOptions { Timeout = TimeSpan.FromMicroseconds(1500) }));
    }
}
