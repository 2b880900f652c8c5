using System.Diagnostics;
using System.Net;
using System.Text;
using TypedCache.Cluster;
using TypedCache.Proxy;
using TypedCache.Testing;
using TypedCache.Tests.Cluster;
using Xunit.Abstractions;

namespace TypedCache.Tests.Proxy;

/// <summary>Bad clients, limits and failing backends: the proxy answers as memcached would and never hangs or desyncs.</summary>
public sealed class ProxyRobustnessTests(ITestOutputHelper output)
{
    /// <summary>Sets and reads back one key per node through a fresh connection: the proxy and every backend connection are in sync.</summary>
    private static async Task AssertWorksOnEveryNodeAsync(ProxyRig rig)
    {
        await using var check = await rig.ConnectAsync();
        foreach (string key in ClusterTestSupport.OneKeyPerNode(rig.Proxy.Topology.Current.Ring, ClusterTestSupport.Prefix()))
            Assert.Equal($"STORED\r\nVALUE {key} 0 2\r\nok\r\nEND\r\n", await check.ExchangeAsync($"set {key} 0 0 2\r\nok\r\nget {key}\r\n"));
    }

    [Fact]
    public async Task Garbage_gets_memcached_errors_and_leaves_the_proxy_and_backends_in_sync()
    {
        await using var rig = await ProxyRig.StartAsync(options: new ProxyOptions { BackendTimeout = ProxyRig.GenerousBackendTimeout, MaxLineBytes = 1024 });
        var random = new Random(1234);
        for (int round = 0; round < 20; round++)
        {
            await using var bad = await rig.ConnectAsync();
            var garbage = new byte[random.Next(1, 800)];
            random.NextBytes(garbage);
            // Lines of random bytes, some starting like real commands, then a fence: every line gets an answer.
            string prefix = (round % 4) switch { 0 => "get ", 1 => "set ", 2 => "mg ", _ => "" };
            await bad.SendAsync(Encoding.Latin1.GetBytes(prefix).Concat(garbage.Select(b => b == (byte)'\n' ? (byte)' ' : b)).Concat("\r\n"u8.ToArray()).ToArray());
            await bad.SendAsync("mn\r\n");
            string replies = await bad.ReadUntilAsync("MN\r\n");
            Assert.DoesNotContain("MN", replies[..^4]);
        }

        await using var flood = await rig.ConnectAsync();
        var noNewline = new byte[1100];
        random.NextBytes(noNewline);
        await flood.SendAsync(noNewline.Select(b => b == (byte)'\n' ? (byte)'x' : b).ToArray());
        Assert.True(await flood.ClosedByPeerAsync(TimeSpan.FromSeconds(10)), "a line past MaxLineBytes closes the connection");
        Assert.Equal("CLIENT_ERROR line too long\r\n", flood.Pending);

        await AssertWorksOnEveryNodeAsync(rig);
    }

    [Fact]
    public async Task An_oversize_value_is_swallowed_and_refused_as_memcached_refuses_it()
    {
        await using var rig = await ProxyRig.StartAsync(options: new ProxyOptions { BackendTimeout = ProxyRig.GenerousBackendTimeout, MaxValueBytes = 1000 });
        await using var client = await rig.ConnectAsync();
        string key = ClusterTestSupport.Prefix() + "big";
        string big = new('v', 5000);
        Assert.Equal("STORED\r\n", await client.ExchangeAsync($"set {key} 0 0 3\r\nold\r\n"));
        Assert.Equal("SERVER_ERROR object too large for cache\r\nVALUE " + key + " 0 3\r\nold\r\nEND\r\nSERVER_ERROR object too large for cache\r\n",
            await client.ExchangeAsync($"set {key} 0 0 5000\r\n{big}\r\nget {key}\r\nms {key} 5000 T0\r\n{big}\r\n"));
        Assert.Equal("", await client.ExchangeAsync($"set {key} 0 0 5000 noreply\r\n{big}\r\n"));
        await AssertWorksOnEveryNodeAsync(rig);
    }

    /// <summary>
    /// Opens <c>count</c> connections to the port, sends one <c>get</c> on the first (the oldest), prints its reply, then
    /// holds them all idle until killed. Runs as its own process so that each side of the 10,000 connections has a
    /// process's open-file limit to itself.
    /// </summary>
    private const string HoldConnections = """
        import resource, signal, socket, sys
        port, count = int(sys.argv[1]), int(sys.argv[2])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, count + 64)), hard))
        held = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]
        print("connected", len(held), flush=True)
        held[0].sendall(b"get nothing-here\r\n")
        reply = b""
        while not reply.endswith(b"\r\n"):
            reply += held[0].recv(64)
        print("oldest answers", reply.decode().strip(), flush=True)
        signal.pause()
        """;

    private const int Idle = 10_000;

    [NeedsOpenFilesFact(Idle + 512)]
    public async Task Ten_thousand_idle_connections_are_held_and_the_limit_refuses_one_more()
    {
        await using var rig = await ProxyRig.StartAsync(options: new ProxyOptions { BackendTimeout = ProxyRig.GenerousBackendTimeout, MaxConnections = Idle + 1 });
        var started = Stopwatch.GetTimestamp();
        using (var holder = ChildProcess.Start("/usr/bin/python3", ["-c", HoldConnections, rig.Port.ToString(), Idle.ToString()]))
        {
            await ClusterTestSupport.UntilAsync(
                () => (rig.Proxy.Stats.CurrentConnections == Idle && holder.Output.Contains("oldest answers END")) || holder.HasExited,
                "every idle connection to be accepted and the oldest to answer", TimeSpan.FromSeconds(60));
            Assert.False(holder.HasExited, holder.Describe());
            output.WriteLine($"{Idle} idle connections accepted in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms");

            // With 10,000 idle connections held, a new client is served on every node.
            await AssertWorksOnEveryNodeAsync(rig);
            await ClusterTestSupport.UntilAsync(() => rig.Proxy.Stats.CurrentConnections == Idle, "the check connection to be released");
            await using var extra = await rig.ConnectAsync();
            await ClusterTestSupport.UntilAsync(() => rig.Proxy.Stats.CurrentConnections == Idle + 1, "the last allowed connection to be accepted");
            await using var refused = await rig.ConnectAsync();
            Assert.True(await refused.ClosedByPeerAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal("ERROR Too many open connections\r\n", refused.Pending);
            Assert.Contains($"STAT curr_connections {Idle + 1}\r\n", await extra.ExchangeAsync("stats\r\n"));
        }

        // The holder is killed: its connections are released and the proxy still serves.
        await ClusterTestSupport.UntilAsync(() => rig.Proxy.Stats.CurrentConnections == 0, "every connection to be released", TimeSpan.FromSeconds(60));
        await AssertWorksOnEveryNodeAsync(rig);
    }

    [Fact]
    public async Task An_idle_connection_is_closed_after_the_idle_timeout_and_a_busy_one_is_not()
    {
        await using var rig = await ProxyRig.StartAsync(1, new ProxyOptions { BackendTimeout = ProxyRig.GenerousBackendTimeout, IdleTimeout = TimeSpan.FromSeconds(2) });
        await using var idle = await rig.ConnectAsync();
        await using var busy = await rig.ConnectAsync();
        var started = Stopwatch.GetTimestamp();
        var closed = idle.ClosedByPeerAsync(TimeSpan.FromSeconds(10));
        while (!closed.IsCompleted)
            Assert.Equal("END\r\n", await busy.ExchangeAsync("get k\r\n"));
        Assert.True(await closed);
        output.WriteLine($"idle connection closed after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms (timeout 2 s)");
        Assert.Equal("END\r\n", await busy.ExchangeAsync("get k\r\n"));
    }

    [Fact]
    public async Task A_client_that_does_not_read_holds_up_only_itself()
    {
        await using var rig = await ProxyRig.StartAsync(options: new ProxyOptions { BackendTimeout = ProxyRig.GenerousBackendTimeout, MaxPipelineDepth = 64 });
        string key = ClusterTestSupport.Prefix() + "large";
        string value = new('x', 64 * 1024);
        await using var slow = await rig.ConnectAsync();
        Assert.Equal("STORED\r\n", await slow.ExchangeAsync($"set {key} 0 0 {value.Length}\r\n{value}\r\n"));

        const int gets = 400;  // 25 MiB of replies the client does not read for now
        var send = slow.SendAsync(string.Concat(Enumerable.Repeat($"get {key}\r\n", gets)) + "mn\r\n");
        for (int i = 0; i < 20; i++)
            await AssertWorksOnEveryNodeAsync(rig);

        await send;
        string all = await slow.ReadUntilAsync("MN\r\n", TimeSpan.FromSeconds(30));
        Assert.Equal(gets, all.Split("\r\nEND\r\n").Length - 1);
        Assert.Equal(gets * (value.Length + 2 + $"VALUE {key} 0 {value.Length}\r\nEND\r\n".Length) + 4, all.Length);
    }

    [Fact]
    public async Task A_backend_killed_under_load_gives_misses_not_hangs_and_comes_back()
    {
        await using var rig = await ProxyRig.StartAsync();
        string prefix = ClusterTestSupport.Prefix();
        var keys = Enumerable.Range(0, 60).Select(i => prefix + i).ToArray();
        var onKilled = keys.Where(k => rig.NodeOf(k) == 0).ToHashSet();
        Assert.NotEmpty(onKilled);

        using var stop = new CancellationTokenSource();
        int killedMisses = 0, otherMisses = 0, replies = 0;
        bool killed = false;
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            await using var client = await rig.ConnectAsync();
            for (int i = w; !stop.IsCancellationRequested; i++)
            {
                string key = keys[i % keys.Length];
                // Every exchange must be answered within the deadline: a dead node gives a miss, never a hang.
                string reply = await client.ExchangeAsync($"set {key} 0 0 1 noreply\r\nv\r\nget {key}\r\n").WaitAsync(TimeSpan.FromSeconds(5));
                Interlocked.Increment(ref replies);
                if (reply == "END\r\n")
                    Interlocked.Increment(ref onKilled.Contains(key) ? ref killedMisses : ref otherMisses);
                else
                    Assert.Equal($"VALUE {key} 0 1\r\nv\r\nEND\r\n", reply);
            }
        })).ToArray();

        await ClusterTestSupport.UntilAsync(() => Volatile.Read(ref replies) > 200, "load to run");
        await rig.Servers[0].KillAsync();
        killed = true;
        await ClusterTestSupport.UntilAsync(() => Volatile.Read(ref killedMisses) > 20, "the killed node's keys to miss");
        int before = Volatile.Read(ref replies);
        await ClusterTestSupport.UntilAsync(() => Volatile.Read(ref replies) > before + 200, "load to keep running with the node down");
        Assert.Equal(0, Volatile.Read(ref otherMisses));

        await rig.Servers[0].StartAsync();
        await ClusterTestSupport.UntilAsync(() => rig.Proxy.Topology.Current.Nodes[0].IsUp, "the restarted node to reconnect");
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        Assert.True(killed);
        output.WriteLine($"{replies} exchanges, {killedMisses} misses on the killed node's keys, {otherMisses} on the others");
        await AssertWorksOnEveryNodeAsync(rig);
    }

    [Fact]
    public async Task Under_eject_a_killed_nodes_keys_move_to_the_live_nodes_and_come_back_with_it()
    {
        await using var rig = await ProxyRig.StartAsync(options: ProxyRig.Fast(NodeDownPolicy.Eject));
        string key = ClusterTestSupport.OneKeyPerNode(rig.Proxy.Topology.Current.Ring, ClusterTestSupport.Prefix())[0];
        await using var client = await rig.ConnectAsync();
        Assert.Equal("STORED\r\n", await client.ExchangeAsync($"set {key} 0 0 3\r\none\r\n"));

        await rig.Servers[0].KillAsync();
        await ClusterTestSupport.UntilAsync(() => rig.Proxy.Topology.Current.Ring.LiveCount == 2, "the killed node to be ejected");
        Assert.Equal($"STORED\r\nVALUE {key} 0 3\r\ntwo\r\nEND\r\n", await client.ExchangeAsync($"set {key} 0 0 3\r\ntwo\r\nget {key}\r\n"));

        await rig.Servers[0].StartAsync();
        await ClusterTestSupport.UntilAsync(() => rig.Proxy.Topology.Current.Ring.LiveCount == 3, "the restarted node to be restored");
        Assert.Equal(0, rig.NodeOf(key));
        Assert.Equal("END\r\n", await client.ExchangeAsync($"get {key}\r\n"));
    }

    /// <summary>
    /// A node that stops answering (its replies held by a relay): one request past the backend timeout misses alone,
    /// the connection stays and its late reply is dropped; only FailureThreshold timeouts in a row take the node
    /// down, and it comes back (flushed) once it answers again.
    /// </summary>
    [Fact]
    public async Task A_timed_out_request_misses_alone_and_consecutive_timeouts_take_the_node_down_until_it_answers()
    {
        await using var server = await MemcachedServer.StartAsync();
        await using var relay = await FaultyRelay.StartAsync(server.Host, server.Port);
        var options = new ProxyOptions { BackendTimeout = TimeSpan.FromSeconds(2), FailureThreshold = 3 };
        await using var proxy = MemcachedProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), [new RingNode("127.0.0.1", relay.Port)], options);
        var backend = proxy.Topology.Current.Nodes[0];
        await ClusterTestSupport.UntilAsync(() => backend.IsUp, "the backend to connect");
        await using var client = await RawConnection.ConnectAsync(proxy.Endpoint.Port);
        string key = ClusterTestSupport.Prefix() + "stall";
        Assert.Equal("STORED\r\n", await client.ExchangeAsync($"set {key} 0 0 3\r\none\r\n"));

        relay.ToClient.Paused = true;
        Assert.Equal("END\r\n", await client.ExchangeAsync($"get {key}\r\n"));
        Assert.True(backend.IsUp, "one timed-out request does not take the node down");
        relay.ToClient.Paused = false;
        Assert.Equal($"VALUE {key} 0 3\r\none\r\nEND\r\n", await client.ExchangeAsync($"get {key}\r\n"));
        Assert.Equal(1, relay.ConnectionCount);

        relay.ToClient.Paused = true;
        Assert.Equal("END\r\nEND\r\nEND\r\n", await client.ExchangeAsync($"get {key}\r\nget {key}\r\nget {key}\r\n"));
        await ClusterTestSupport.UntilAsync(() => !backend.IsUp, "three timeouts in a row to take the node down");
        Assert.Equal("NOT_STORED\r\n", await client.ExchangeAsync($"set {key} 0 0 3\r\ntwo\r\n"));

        relay.ToClient.Paused = false;
        await ClusterTestSupport.UntilAsync(() => backend.IsUp, "the node to come back once it answers");
        Assert.Equal($"END\r\nSTORED\r\nVALUE {key} 0 5\r\nthree\r\nEND\r\n",
            await client.ExchangeAsync($"get {key}\r\nset {key} 0 0 5\r\nthree\r\nget {key}\r\n"));
    }
}
