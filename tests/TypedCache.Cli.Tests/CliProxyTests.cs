using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TypedCache.Testing;
using Xunit.Abstractions;

namespace TypedCache.Cli.Tests;

public sealed class CliProxyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Proxy_over_a_static_list_passes_memccapable_and_stops_on_ctrl_c()
    {
        await using var a = await MemcachedServer.StartAsync();
        await using var b = await MemcachedServer.StartAsync();
        await using var c = await MemcachedServer.StartAsync();
        int port = FreePort();
        await using var proxy = CliProcess.Start(["proxy", "--listen", $"127.0.0.1:{port}", "-m", $"{a.Endpoint},{b.Endpoint},{c.Endpoint}"]);
        var started = Stopwatch.GetTimestamp();
        while (!proxy.Stdout.Contains("proxy listening", StringComparison.Ordinal))
        {
            Assert.False(proxy.HasExited, proxy.Stderr);
            Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(20), "the proxy did not start: " + proxy.Stderr);
            await Task.Delay(20);
        }
        Assert.Contains($"proxy listening on 127.0.0.1:{port} over 3 nodes", proxy.Stdout, StringComparison.Ordinal);

        using var memccapable = Process.Start(new ProcessStartInfo("/usr/bin/memccapable", ["-a", "-h", "127.0.0.1", "-p", port.ToString(), "-t", "10"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var report = memccapable.StandardOutput.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await memccapable.WaitForExitAsync(deadline.Token);
        }
        finally
        {
            if (!memccapable.HasExited)
                memccapable.Kill();
        }
        output.WriteLine(await report);
        Assert.Equal(0, memccapable.ExitCode);
        Assert.Contains("All tests passed", await report, StringComparison.Ordinal);

        proxy.Interrupt();
        Assert.Equal(0, await proxy.WaitForExitAsync());
        Assert.Contains("proxy stopped", proxy.Stdout, StringComparison.Ordinal);
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

    private static int FreePort()
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
