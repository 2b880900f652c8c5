using System.Net;
using System.Net.Sockets;

namespace TypedCache.Testing.Tests;

public sealed class MemcachedServerTests
{
    [Fact]
    public async Task Three_servers_start_on_distinct_ports_and_answer_version()
    {
        var servers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => MemcachedServer.StartAsync()));
        try
        {
            Assert.Equal(3, servers.Select(s => s.Port).Distinct().Count());
            Assert.Equal(3, servers.Select(s => s.ProcessId).Distinct().Count());
            foreach (var server in servers)
            {
                Assert.True(server.IsRunning);
                Assert.Equal($"127.0.0.1:{server.Port}", server.Endpoint);
                Assert.StartsWith("VERSION ", await TextClient.ExchangeAsync(server.Port, "version\r\n", "\r\n"));
            }
        }
        finally
        {
            foreach (var server in servers)
                await server.DisposeAsync();
        }

        Assert.All(servers, s => Assert.True(TextClient.ProcessIsGone(s.ProcessId), $"memcached PID {s.ProcessId} is still there"));
        Assert.All(servers, s => Assert.DoesNotContain(s.ProcessId, ProcessRegistry.LiveProcessIds));
        Assert.All(servers, s => Assert.Contains(s.ProcessId, ProcessRegistry.StartedProcessIds));
    }

    [Fact]
    public async Task Options_and_extra_arguments_reach_memcached()
    {
        var options = new MemcachedServerOptions { MemoryMegabytes = 16, MaxItemSizeBytes = 2 * 1024 * 1024 };
        options.ExtraArguments.Add("-R");
        options.ExtraArguments.Add("7");
        await using var server = await MemcachedServer.StartAsync(options);

        var settings = await TextClient.ExchangeAsync(server.Port, "stats settings\r\n", "END\r\n");

        Assert.Contains("STAT maxbytes 16777216\r\n", settings);
        Assert.Contains("STAT item_size_max 2097152\r\n", settings);
        Assert.Contains("STAT reqs_per_event 7\r\n", settings);
        Assert.Contains("STAT udpport 0\r\n", settings);
    }

    [Fact]
    public async Task Killed_server_is_gone_and_starts_again_on_the_same_port()
    {
        await using var server = await MemcachedServer.StartAsync();
        var port = server.Port;
        var firstPid = server.ProcessId;
        Assert.Equal("STORED\r\n", await TextClient.ExchangeAsync(port, "set k 0 0 1\r\nv\r\n", "\r\n"));

        await server.KillAsync();

        Assert.False(server.IsRunning);
        Assert.True(TextClient.ProcessIsGone(firstPid));
        await Assert.ThrowsAnyAsync<SocketException>(() => TextClient.ExchangeAsync(port, "version\r\n", "\r\n"));

        await server.StartAsync();

        Assert.True(server.IsRunning);
        Assert.Equal(port, server.Port);
        Assert.NotEqual(firstPid, server.ProcessId);
        Assert.Equal("END\r\n", await TextClient.ExchangeAsync(port, "get k\r\n", "END\r\n"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAsync());
    }

    [Fact]
    public async Task A_taken_fixed_port_fails_with_memcacheds_own_message()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => MemcachedServer.StartAsync(new MemcachedServerOptions { Port = port }));

        Assert.Contains("Address already in use", error.Message);
        Assert.Contains($"127.0.0.1:{port}", error.Message);
    }

    [Fact]
    public async Task A_bad_argument_fails_with_the_servers_stderr()
    {
        var options = new MemcachedServerOptions();
        options.ExtraArguments.Add("--no-such-option");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => MemcachedServer.StartAsync(options));

        Assert.Contains("exited during start", error.Message);
        Assert.Contains("no-such-option", error.Message);
    }

    [Theory]
    [InlineData(0, 1024)]
    [InlineData(64, 1000)]
    [InlineData(2, 2 * 1024 * 1024)]
    public async Task Out_of_range_sizes_are_rejected_before_starting(int megabytes, int itemSize)
    {
        var options = new MemcachedServerOptions { MemoryMegabytes = megabytes, MaxItemSizeBytes = itemSize };

        await Assert.ThrowsAsync<ArgumentException>(() => MemcachedServer.StartAsync(options));
    }
}
