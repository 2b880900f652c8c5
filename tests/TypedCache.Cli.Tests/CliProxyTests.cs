using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TypedCache.Testing;
using Xunit.Abstractions;

namespace TypedCache.Cli.Tests;

public sealed class CliProxyTests(ITestOutputHelper output)
{
    /// <summary>A backend timeout that a stall of a loaded machine never reaches (these tests take nodes down by killing them).</summary>
    private static readonly string[] GenerousTimeout = ["--backend-timeout", "10s"];

    private const int ValueBytes = 512 * 1024;
    private const int Clients = 8;
    private const int Rounds = 16;
    private const int KeysPerClient = 4;

    [Fact]
    public async Task Proxy_over_a_static_list_passes_memccapable_and_stops_on_ctrl_c()
    {
        await using var a = await MemcachedServer.StartAsync();
        await using var b = await MemcachedServer.StartAsync();
        await using var c = await MemcachedServer.StartAsync();
        int port = FreePort();
        await using var proxy = CliProcess.Start(["proxy", "--listen", $"127.0.0.1:{port}", "-m", $"{a.Endpoint},{b.Endpoint},{c.Endpoint}", .. GenerousTimeout]);
        await UntilAsync(() => proxy.Stdout.Contains("proxy listening", StringComparison.Ordinal), proxy, "the proxy to start");
        Assert.Contains($"proxy listening on 127.0.0.1:{port} over 3 nodes", proxy.Stdout, StringComparison.Ordinal);

        var (exitCode, report) = await TestProcess.RunAsync(
            "/usr/bin/memccapable", ["-a", "-h", "127.0.0.1", "-p", port.ToString(), "-t", "10"], TimeSpan.FromSeconds(60));
        output.WriteLine(report);
        Assert.Equal(0, exitCode);
        Assert.Contains("All tests passed", report, StringComparison.Ordinal);

        proxy.Interrupt();
        int proxyExit = await proxy.WaitForExitAsync();
        Assert.True(proxyExit == 0, $"the proxy exited with {proxyExit} on Ctrl+C; stdout: {proxy.Stdout} stderr: {proxy.Stderr}");
        Assert.Contains("proxy stopped", proxy.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Ctrl+C and SIGTERM end the proxy cleanly each time: exit 0, "proxy stopped", nothing on stderr. (A second handler
    /// of the signal once raced the command's teardown and aborted the process with 134 about one stop in four.)
    /// </summary>
    [Fact]
    public async Task Ctrl_c_and_sigterm_stop_the_proxy_with_exit_0_every_time()
    {
        await using var node = await MemcachedServer.StartAsync();
        foreach (bool interrupt in new[] { true, false, true, false, true, false })
        {
            int port = FreePort();
            await using var proxy = CliProcess.Start(["proxy", "--listen", $"127.0.0.1:{port}", "-m", node.Endpoint]);
            await UntilAsync(() => proxy.Stdout.Contains("proxy listening", StringComparison.Ordinal), proxy, "the proxy to start");

            if (interrupt)
                proxy.Interrupt();
            else
                proxy.Terminate();
            int exitCode = await proxy.WaitForExitAsync();

            string signal = interrupt ? "SIGINT" : "SIGTERM";
            Assert.True(exitCode == 0 && proxy.Stderr.Length == 0, $"{signal}: exit {exitCode}; stderr: {proxy.Stderr}");
            Assert.Contains("proxy stopped", proxy.Stdout, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Each client pipelines <c>set</c> then <c>get</c> of 512 KB values without waiting, all to one node, through a
    /// proxy with one I/O thread (every socket completion runs on it): the proxy's sends to memcached fill memcached's
    /// receive window while memcached's replies fill the proxy's, so memcached reads the next requests only when the
    /// proxy reads its replies. A proxy that waited on a send there would stop reading replies and stall until the
    /// backend timeout closed the connection, and the replies would be wrong.
    /// </summary>
    [Fact]
    public async Task Many_clients_pipelining_large_sets_and_gets_through_one_io_thread_get_every_reply_right()
    {
        await using var node = await MemcachedServer.StartAsync(new MemcachedServerOptions { MemoryMegabytes = 128 });
        int port = FreePort();
        await using var proxy = CliProcess.Start(["proxy", "--listen", $"127.0.0.1:{port}", "-m", node.Endpoint, "--io-threads", "1", .. GenerousTimeout]);
        await UntilAsync(() => proxy.Stdout.Contains("proxy listening", StringComparison.Ordinal), proxy, "the proxy to start");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string prefix = "big" + Guid.NewGuid().ToString("N")[..8] + ":";

        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => PipelineLargeValuesAsync(port, prefix + client + ":", client, deadline.Token)));

        Assert.False(proxy.HasExited, proxy.Stderr);
    }

    /// <summary>Sends every request of one client at once while it reads the replies, and checks them byte for byte.</summary>
    private static async Task PipelineLargeValuesAsync(int port, string keyPrefix, int client, CancellationToken cancellationToken)
    {
        var requests = new MemoryStream();
        var expected = new MemoryStream();
        for (int round = 0; round < Rounds; round++)
        {
            string key = keyPrefix + (round % KeysPerClient);
            var value = new byte[ValueBytes];
            Array.Fill(value, (byte)('a' + ((client * Rounds + round) % 26)));
            WriteFramed(requests, $"set {key} 0 0 {ValueBytes}\r\n", value, $"\r\nget {key}\r\n");
            WriteFramed(expected, $"STORED\r\nVALUE {key} 0 {ValueBytes}\r\n", value, "\r\nEND\r\n");
        }

        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        var send = socket.SendAsync(requests.ToArray(), SocketFlags.None, cancellationToken).AsTask();
        var received = new byte[expected.Length];
        int read = 0;
        try
        {
            while (read < received.Length)
            {
                int n = await socket.ReceiveAsync(received.AsMemory(read), SocketFlags.None, cancellationToken);
                if (n == 0)
                    break;
                read += n;
            }
        }
        catch (OperationCanceledException)
        {
        }
        var want = expected.ToArray();
        int same = want.AsSpan(0, read).CommonPrefixLength(received.AsSpan(0, read));
        string at = Encoding.Latin1.GetString(received, same, Math.Min(60, read - same)).ReplaceLineEndings("\\n");
        Assert.True(read == want.Length && same == read, $"client {client}: {read} of {want.Length} reply bytes, first difference at {same}: '{at}'");
        await send;
    }

    private static void WriteFramed(MemoryStream into, string head, byte[] value, string tail)
    {
        into.Write(Encoding.ASCII.GetBytes(head));
        into.Write(value);
        into.Write(Encoding.ASCII.GetBytes(tail));
    }

    [Theory]
    [InlineData("nonsense", "--listen: 'nonsense' is not an address:port")]
    [InlineData("127.0.0.1:0", "--listen: '127.0.0.1:0' is not an address:port")]
    public async Task A_bad_listen_address_is_a_one_line_usage_error(string listen, string message)
    {
        var (code, _, stderr) = await CliProcess.RunAsync(["proxy", "--listen", listen, "-m", "127.0.0.1:11211"]);
        Assert.Equal(2, code);
        Assert.StartsWith("typedcache: " + message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Under_gutter_a_killed_nodes_keys_go_to_the_gutter_server_with_their_ttl_capped()
    {
        await using var node = await MemcachedServer.StartAsync();
        await using var gutter = await MemcachedServer.StartAsync();
        int port = FreePort();
        await using var proxy = CliProcess.Start(["proxy", "--listen", $"127.0.0.1:{port}", "-m", node.Endpoint, "--gutter", gutter.Endpoint, "--gutter-ttl", "7", .. GenerousTimeout]);
        await UntilAsync(() => proxy.Stdout.Contains("proxy listening", StringComparison.Ordinal), proxy, "the proxy to start");
        Assert.Contains("gutter: 1 servers, TTLs capped to 7 s", proxy.Stdout, StringComparison.Ordinal);

        await node.KillAsync();
        // Refused (NOT_STORED) until the proxy sees the node down, then stored on the gutter server.
        await UntilAsync(() => Exchange(port, "set gutter-key 0 0 1\r\nv\r\n") == "STORED\r\n", proxy, "a set to be stored on the gutter server");
        Assert.Matches(@"^HD t[1-7]\r\n$", Exchange(gutter.Port, "mg gutter-key t\r\n"));
        Assert.Equal("VALUE gutter-key 0 1\r\nv\r\nEND\r\n", Exchange(port, "get gutter-key\r\n", "END\r\n"));
    }

    [Theory]
    [InlineData("--node-down gutter", "--node-down gutter needs gutter servers in --gutter")]
    [InlineData("--node-down eject --gutter 127.0.0.1:11212", "--gutter: gutter servers are used only by --node-down gutter, not eject")]
    [InlineData("--gutter 127.0.0.1:notaport", "--gutter: ")]
    [InlineData("--failure-threshold 0", "--failure-threshold: 0 is not a count of timeouts (1 or more)")]
    public async Task Node_down_options_that_do_not_fit_are_one_line_usage_errors(string options, string message)
    {
        var (code, _, stderr) = await CliProcess.RunAsync(["proxy", "--listen", $"127.0.0.1:{FreePort()}", "-m", "127.0.0.1:11211", .. options.Split(' ')]);
        Assert.Equal(2, code);
        Assert.StartsWith("typedcache: " + message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails naming <paramref name="what"/> and the proxy's stderr after 20 s.</summary>
    private static async Task UntilAsync(Func<bool> condition, CliProcess proxy, string what)
    {
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            Assert.False(proxy.HasExited, proxy.Stderr);
            Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(20), $"waiting for {what}: {proxy.Stderr}");
            await Task.Delay(20);
        }
    }

    /// <summary>Sends one request on a fresh loopback connection and reads its reply up to <paramref name="end"/> (each read waits 5 s at most).</summary>
    private static string Exchange(int port, string request, string end = "\r\n")
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 };
        socket.Connect(IPAddress.Loopback, port);
        socket.Send(Encoding.ASCII.GetBytes(request));
        string reply = "";
        var buffer = new byte[4096];
        while (!reply.EndsWith(end, StringComparison.Ordinal))
        {
            int read = socket.Receive(buffer);
            if (read == 0)
                break;
            reply += Encoding.ASCII.GetString(buffer, 0, read);
        }
        return reply;
    }

    private static int FreePort()
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
