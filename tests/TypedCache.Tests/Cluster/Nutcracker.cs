using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TypedCache.Testing;

namespace TypedCache.Tests.Cluster;

/// <summary>
/// Debian's nutcracker (twemproxy 0.5) on loopback in front of given memcached servers, with its own YAML
/// configuration, log and pid file in a temporary directory; stopped by its PID on dispose.
/// </summary>
internal sealed class Nutcracker : IAsyncDisposable
{
    private const string Executable = "/usr/sbin/nutcracker";
    private const int PortAttempts = 5;

    private readonly ChildProcess _process;
    private readonly string _directory;

    private Nutcracker(ChildProcess process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    /// <summary>The port clients send memcached text commands to.</summary>
    public int Port { get; }

    /// <summary>
    /// Starts a ketama pool with <paramref name="hash"/> (<c>md5</c>, <c>fnv1a_64</c>) over
    /// <paramref name="servers"/>, each in twemproxy's <c>host:port:weight [name]</c> form, and returns once
    /// it accepts connections.
    /// </summary>
    public static async Task<Nutcracker> StartAsync(string hash, IEnumerable<string> servers, CancellationToken ct)
    {
        var serverLines = servers.Select(s => $"    - {s}").ToArray();
        for (int attempt = 1; ; attempt++)
        {
            string directory = Directory.CreateTempSubdirectory("typedcache-nutcracker-").FullName;
            int port = UnusedLoopbackPort();
            int statsPort = UnusedLoopbackPort();
            string config = Path.Combine(directory, "nutcracker.yml");
            await File.WriteAllTextAsync(config, string.Join('\n',
            [
                "pool:",
                $"  listen: 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
                $"  hash: {hash}",
                "  distribution: ketama",
                "  auto_eject_hosts: false",
                "  preconnect: false",
                "  servers:",
                .. serverLines,
                "",
            ]), new UTF8Encoding(false), ct);

            var process = ChildProcess.Start(Executable,
            [
                "-c", config,
                "-s", statsPort.ToString(CultureInfo.InvariantCulture), "-a", "127.0.0.1",
                "-o", Path.Combine(directory, "nutcracker.log"),
                "-p", Path.Combine(directory, "nutcracker.pid"),
            ]);
            var nutcracker = new Nutcracker(process, directory, port);
            try
            {
                if (await nutcracker.AcceptsConnectionsAsync(ct))
                    return nutcracker;
            }
            catch
            {
                await nutcracker.DisposeAsync();
                throw;
            }

            string log = File.Exists(Path.Combine(directory, "nutcracker.log")) ? await File.ReadAllTextAsync(Path.Combine(directory, "nutcracker.log"), ct) : "";
            string report = process.Describe();
            await nutcracker.DisposeAsync();
            // Another process may have taken a port between the check and nutcracker's bind: try new ports.
            if (attempt == PortAttempts || !log.Contains("Address already in use", StringComparison.Ordinal))
                throw new InvalidOperationException($"nutcracker did not start: {report}{Environment.NewLine}log:{Environment.NewLine}{log}");
        }
    }

    /// <summary>Kills nutcracker by its PID and deletes its directory.</summary>
    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }

    private static int UnusedLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private async Task<bool> AcceptsConnectionsAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var interval = TimeSpan.FromMilliseconds(10);
        while (!_process.HasExited && DateTime.UtcNow < deadline)
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync("127.0.0.1", Port, ct);
                return true;
            }
            catch (SocketException)
            {
                // Not listening yet: poll again.
            }

            await Task.Delay(interval, ct);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, TimeSpan.FromMilliseconds(100).Ticks));
        }

        return false;
    }
}
