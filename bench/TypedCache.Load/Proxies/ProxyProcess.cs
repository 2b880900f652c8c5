using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using TypedCache.Cluster;
using TypedCache.Coordination;
using TypedCache.Proxy;
using TypedCache.Testing;
using TypedCache.ZooKeeper;

namespace TypedCache.Load.Proxies;

/// <summary>
/// A memcached-protocol proxy running as its own process on a loopback port: TypedCache's proxy (this tool in its
/// proxy mode) or nutcracker. Started through <see cref="TestProcess"/> or <see cref="NutcrackerServer"/>, so it is
/// stopped by its PID when disposed (and when this process exits, if it never is).
/// </summary>
internal sealed partial class ProxyProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private const string ListeningLine = "proxy listening on ";

    private readonly IAsyncDisposable _process;

    private ProxyProcess(string name, int processId, int port, IAsyncDisposable process)
    {
        Name = name;
        ProcessId = processId;
        Port = port;
        _process = process;
    }

    public string Name { get; }

    public int Port { get; }

    public int ProcessId { get; }

    /// <summary>CPU time the process has used (user + system), from /proc.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            string stat = File.ReadAllText($"/proc/{ProcessId}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime and stime (fields 14 and 15 of proc(5); 12 and 13 after the name), in USER_HZ ticks: 100 per second on Linux.
            long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromMilliseconds(ticks * 10);
        }
    }

    /// <summary>
    /// TypedCache's proxy over the members under <paramref name="root"/> (their ketama ring placed as twemproxy places
    /// it), in a process of its own like <c>typedcache proxy</c>; returns once it listens.
    /// </summary>
    public static async Task<ProxyProcess> StartTypedCacheAsync(string zooKeeper, string root, CancellationToken cancellationToken)
    {
        var process = TestProcess.Start(DotNet(), [typeof(ProxyProcess).Assembly.Location, "proxy", zooKeeper, root]);
        try
        {
            int port = 0;
            await UntilAsync(() => ListeningPort(process.Output) is { } p && (port = p) > 0, process, "TypedCache's proxy to listen", cancellationToken);
            return new ProxyProcess("TypedCache proxy", process.ProcessId, port, process);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>nutcracker (twemproxy 0.5) with a ketama pool (md5, weight 1 each, timeout 1000 ms) over <paramref name="memcached"/>; returns once it listens.</summary>
    public static async Task<ProxyProcess> StartNutcrackerAsync(IReadOnlyList<string> memcached, CancellationToken cancellationToken)
    {
        var nutcracker = await NutcrackerServer.StartAsync(
            memcached.Select(endpoint => endpoint + ":1"),
            new NutcrackerServerOptions { Timeout = TimeSpan.FromMilliseconds(1000), StartTimeout = StartTimeout },
            cancellationToken);
        return new ProxyProcess("nutcracker 0.5", nutcracker.ProcessId, nutcracker.Port, nutcracker);
    }

    /// <summary>The proxy mode of this tool (<c>TypedCache.Load proxy {zookeeper} {root}</c>): serves until killed.</summary>
    public static async Task<int> RunTypedCacheAsync(string zooKeeper, string root)
    {
        // As `typedcache proxy` with its default --io-threads: socket completions run on the epoll threads, a quarter of
        // the cores of them. Both are read when the first socket is made, so they are set before ZooKeeper opens one.
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", Math.Max(1, Environment.ProcessorCount / 4).ToString(CultureInfo.InvariantCulture));
        await using var client = new ZooKeeperClient(new ZooKeeperClientOptions { ConnectString = zooKeeper, SessionTimeout = TimeSpan.FromSeconds(10), RenewSessionOnExpiry = true });
        await client.WaitForConnectionAsync();
        var coordination = await CoordinationRoot.OpenAsync(client, root, null);
        await using var proxy = await MemcachedProxy.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), coordination, new ProxyOptions { Compatibility = RingCompatibility.TwemproxyMd5 });
        proxy.Topology.RingChanged += (_, ring) => Console.Out.WriteLine($"ring: {ring.LiveCount} of {ring.Nodes.Length} nodes live");
        Console.Out.WriteLine($"{ListeningLine}{proxy.Endpoint} over {proxy.Topology.Current.Nodes.Length} nodes");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static int? ListeningPort(string output) =>
        ListeningPattern().Match(output) is { Success: true } match ? int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"proxy listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningPattern();

    private static async Task UntilAsync(Func<bool> condition, TestProcess process, string what, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StartTimeout);
        while (!condition())
        {
            if (process.HasExited)
                throw new InvalidOperationException($"waiting for {what}: process {process.ProcessId} exited; its output: {process.Output}");
            try
            {
                await Task.Delay(20, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"waiting for {what}: nothing within {StartTimeout.TotalSeconds} s; its output: {process.Output}");
            }
        }
    }

    /// <summary>The dotnet host: this process's when it is one, else the one of the runtime this process runs on.</summary>
    private static string DotNet() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? path
            : Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
}
