using System.Diagnostics;
using TypedCache.Memcached;
using TypedCache.Testing;
using static TypedCache.Tests.Memcached.MemcachedTestSupport;

namespace TypedCache.Tests.Memcached;

/// <summary>Faults on a real server: killed, stalled (SIGSTOP), unreachable. Each test owns its server.</summary>
public class MemcachedFaultTests
{
    private static async Task Signal(int pid, string signal)
    {
        using var kill = Process.Start("/bin/kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>A call while disconnected has failed by the time it returns: it waits for no timeout.</summary>
    internal static async Task FailsAtOnceWhileDisconnectedAsync(MemcachedClient client)
    {
        var call = client.GetAsync("down");
        Assert.True(call.IsCompleted, "a call while disconnected did not fail at once");
        var error = await Assert.ThrowsAsync<MemcachedException>(async () => await call);
        Assert.Equal(MemcachedErrorKind.ConnectionFailed, error.Kind);
    }

    /// <summary>Issues <paramref name="count"/> gets without awaiting them.</summary>
    private static List<Task> Pipeline(MemcachedClient client, int count) =>
        Enumerable.Range(0, count).Select(i => client.GetAsync("k" + i).AsTask()).ToList<Task>();

    [Fact]
    public async Task Killing_the_server_mid_pipeline_fails_every_call_in_flight_and_the_client_recovers()
    {
        await using var server = await MemcachedServer.StartAsync();
        await using var client = await ConnectFastFailingAsync(server.Host, server.Port);
        await client.SetAsync("k1", "v"u8);
        await Signal(server.ProcessId, "-STOP");
        var inFlight = Pipeline(client, 200);
        await server.KillAsync();

        foreach (var call in inFlight)
        {
            var error = await Assert.ThrowsAsync<MemcachedException>(() => call.WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.Contains(server.Endpoint, error.Message);
            Assert.Equal("mg", error.Command);
        }
        await UntilAsync(() => Task.FromResult(!client.IsConnected), TimeSpan.FromSeconds(5), "the client to notice");

        await FailsAtOnceWhileDisconnectedAsync(client);

        await server.StartAsync();
        await UntilAnsweringAsync(client, TimeSpan.FromSeconds(10));
        Assert.Equal(MemcachedStatus.Success, (await client.SetAsync("k1", "again"u8)).Status);
        using var hit = await client.GetAsync("k1");
        Assert.Equal("again", Text(hit.Value));
    }

    [Fact]
    public async Task A_stalled_server_fails_every_call_with_a_timeout_and_the_client_recovers()
    {
        await using var server = await MemcachedServer.StartAsync();
        await using var client = await ConnectFastFailingAsync(server.Host, server.Port);
        await Signal(server.ProcessId, "-STOP");
        try
        {
            var started = Stopwatch.StartNew();
            var inFlight = Pipeline(client, 100);
            foreach (var call in inFlight)
            {
                var error = await Assert.ThrowsAsync<MemcachedException>(() => call.WaitAsync(TimeSpan.FromSeconds(5)));
                Assert.Equal(MemcachedErrorKind.Timeout, error.Kind);
                Assert.IsType<TimeoutException>(error.InnerException);
            }
            // Not before the operation timeout, and without hanging: the margin above it is wide for a busy machine.
            Assert.InRange(started.Elapsed, FastFailing.OperationTimeout, FastFailing.OperationTimeout + TimeSpan.FromSeconds(5));
        }
        finally
        {
            await Signal(server.ProcessId, "-CONT");
        }
        await UntilAnsweringAsync(client, TimeSpan.FromSeconds(10));
        await client.SetAsync("after", "stall"u8);
        using var hit = await client.GetAsync("after");
        Assert.Equal("stall", Text(hit.Value));
    }

    [Fact]
    public async Task Connecting_to_nothing_fails_within_the_connect_timeout()
    {
        await using var server = await MemcachedServer.StartAsync();
        int port = server.Port;
        await server.KillAsync();
        var started = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<MemcachedException>(() => MemcachedClient.ConnectAsync("127.0.0.1", port, FastFailing));
        Assert.Equal(MemcachedErrorKind.ConnectionFailed, error.Kind);
        Assert.NotNull(error.InnerException);
        Assert.InRange(started.Elapsed, TimeSpan.Zero, FastFailing.ConnectTimeout + TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_client_started_before_its_server_connects_once_the_server_is_up()
    {
        await using var server = await MemcachedServer.StartAsync();
        await server.KillAsync();
        await using var client = new MemcachedClient(server.Host, server.Port, FastFailing);
        await Assert.ThrowsAsync<MemcachedException>(async () => await client.GetAsync("x"));
        await server.StartAsync();
        await client.WaitUntilConnectedAsync(TimeSpan.FromSeconds(10));
        await client.NoOpAsync();
    }

    [Fact]
    public async Task Disposing_the_client_fails_calls_in_flight()
    {
        await using var server = await MemcachedServer.StartAsync();
        var client = await ConnectFastFailingAsync(server.Host, server.Port);
        await Signal(server.ProcessId, "-STOP");
        try
        {
            var inFlight = Pipeline(client, 10);
            await client.DisposeAsync();
            foreach (var call in inFlight)
                await Assert.ThrowsAsync<MemcachedException>(() => call.WaitAsync(TimeSpan.FromSeconds(5)));
            await Assert.ThrowsAsync<MemcachedException>(async () => await client.GetAsync("x"));
        }
        finally
        {
            await Signal(server.ProcessId, "-CONT");
        }
    }
}

/// <summary>Faults injected by a <see cref="FaultyRelay"/> in front of a real memcached.</summary>
public class MemcachedRelayFaultTests(MemcachedServerFixture fixture) : IClassFixture<MemcachedServerFixture>
{
    private async Task<(FaultyRelay Relay, MemcachedClient Client)> ConnectThroughRelayAsync()
    {
        var relay = await FaultyRelay.StartAsync(fixture.Server.Host, fixture.Server.Port);
        var client = await ConnectFastFailingAsync("127.0.0.1", relay.Port);
        return (relay, client);
    }

    private static async Task RecoversAsync(MemcachedClient client, string key)
    {
        await UntilAnsweringAsync(client, TimeSpan.FromSeconds(10));
        Assert.Equal(MemcachedStatus.Success, (await client.SetAsync(key, "ok"u8)).Status);
        using var hit = await client.GetAsync(key);
        Assert.Equal("ok", Text(hit.Value));
    }

    /// <summary>
    /// Holds the server's answers, puts 50 gets in flight, applies <paramref name="fault"/>, and checks that every call
    /// fails with <paramref name="kind"/> within its operation timeout (plus a wide margin for a busy machine), none
    /// hangs, and the client then works again. Returns the first call's exception.
    /// </summary>
    private async Task<MemcachedException> InFlightCallsFailAsync(Action<FaultyRelay> fault, MemcachedErrorKind kind)
    {
        var (relay, client) = await ConnectThroughRelayAsync();
        await using var _ = relay;
        await using var __ = client;
        relay.ToClient.Paused = true;
        var inFlight = Enumerable.Range(0, 50).Select(i => client.GetAsync("inflight" + i).AsTask()).ToList();
        await UntilAsync(() => Task.FromResult(relay.ToServer.BytesForwarded > 0), TimeSpan.FromSeconds(5), "requests to reach the relay");
        var started = Stopwatch.StartNew();
        fault(relay);
        var errors = new List<MemcachedException>();
        foreach (var call in inFlight)
        {
            var error = await Assert.ThrowsAsync<MemcachedException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(kind, error.Kind);
            Assert.Equal("mg", error.Command);
            errors.Add(error);
        }
        Assert.InRange(started.Elapsed, TimeSpan.Zero, FastFailing.OperationTimeout + TimeSpan.FromSeconds(5));
        relay.ToClient.Paused = false;
        await RecoversAsync(client, Prefix() + "recovered");
        return errors[0];
    }

    [Fact]
    public Task A_dropped_connection_fails_every_call_in_flight_and_the_client_reconnects() =>
        InFlightCallsFailAsync(relay => relay.DropConnections(), MemcachedErrorKind.ConnectionFailed);

    [Fact]
    public Task Garbage_from_the_server_tears_the_connection_down_and_the_client_reconnects() =>
        InFlightCallsFailAsync(relay => relay.ToClient.Inject("HELLO WORLD\r\n"u8), MemcachedErrorKind.ProtocolError);

    [Fact]
    public async Task A_value_longer_than_the_item_size_limit_is_a_protocol_error_not_a_huge_allocation()
    {
        // Trusting the length would rent a 2 GB buffer for bytes that never come.
        var error = await InFlightCallsFailAsync(relay => relay.ToClient.Inject("VA 2147483000 f1\r\n"u8), MemcachedErrorKind.ProtocolError);
        Assert.Contains("item size limit", error.Message);
        Assert.Contains("VA 2147483000", error.Message);
    }

    [Fact]
    public Task A_stalled_server_fails_every_call_within_its_timeout_and_the_client_reconnects() =>
        InFlightCallsFailAsync(_ => { }, MemcachedErrorKind.Timeout);

    [Fact]
    public async Task An_unsolicited_response_is_a_protocol_error()
    {
        var (relay, client) = await ConnectThroughRelayAsync();
        await using var _ = relay;
        await using var __ = client;
        relay.ToClient.Inject("HD\r\n"u8);
        await UntilAsync(() => Task.FromResult(!client.IsConnected), TimeSpan.FromSeconds(5), "the client to drop the connection");
        await RecoversAsync(client, Prefix() + "unsolicited");
    }

    [Fact]
    public async Task A_response_cut_in_the_middle_of_a_value_fails_the_call_and_the_client_reconnects()
    {
        var (relay, client) = await ConnectThroughRelayAsync();
        await using var _ = relay;
        await using var __ = client;
        var key = Prefix() + "cut";
        await client.SetAsync(key, new byte[10_000]);
        relay.ToClient.TruncateNext(500);
        var error = await Assert.ThrowsAsync<MemcachedException>(async () => await client.GetAsync(key).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(MemcachedErrorKind.ConnectionFailed, error.Kind);
        await RecoversAsync(client, key);
    }

    [Fact]
    public async Task While_the_server_refuses_connections_calls_fail_fast()
    {
        var (relay, client) = await ConnectThroughRelayAsync();
        await using var _ = relay;
        await using var __ = client;
        relay.RefuseConnections = true;
        relay.DropConnections();
        await UntilAsync(() => Task.FromResult(!client.IsConnected), TimeSpan.FromSeconds(5), "the client to notice");
        for (int i = 0; i < 20; i++)
            await MemcachedFaultTests.FailsAtOnceWhileDisconnectedAsync(client);
        relay.RefuseConnections = false;
        await RecoversAsync(client, Prefix() + "refused");
    }
}
