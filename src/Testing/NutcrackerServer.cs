using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace TypedCache.Testing;

/// <summary>
/// A real nutcracker (twemproxy 0.5, <c>/usr/sbin/nutcracker</c>, Debian's <c>nutcracker</c> package) listening on
/// 127.0.0.1 in front of memcached servers, for tests that compare TypedCache with it: one ketama pool speaking the
/// memcached text protocol, its configuration in a temporary directory, its stats on a loopback port of its own, its
/// log kept for the message of a start that fails. Stopped by its PID on <see cref="DisposeAsync"/> (or when the
/// test process exits).
/// </summary>
/// <example>
/// <code>
/// await using var memcached = await MemcachedServer.StartAsync();
/// await using var nutcracker = await NutcrackerServer.StartAsync([memcached.Endpoint + ":1"]);
/// // send memcached text commands to nutcracker.Endpoint
/// </code>
/// </example>
public sealed partial class NutcrackerServer : IAsyncDisposable
{
    private const string Executable = "/usr/sbin/nutcracker";
    private const int PortAttempts = 5;

    private static readonly string[] Hashes =
        ["md5", "fnv1a_64", "fnv1_64", "fnv1_32", "fnv1a_32", "one_at_a_time", "crc16", "crc32", "crc32a", "hsieh", "murmur", "jenkins"];

    private readonly ChildProcess _process;
    private readonly string _directory;
    private bool _disposed;

    private NutcrackerServer(ChildProcess process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    /// <summary>The address nutcracker listens on: always <c>127.0.0.1</c>.</summary>
    public string Host => "127.0.0.1";

    /// <summary>The TCP port clients send memcached text commands to.</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string Endpoint => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The PID of the nutcracker process (still known after it was stopped).</summary>
    public int ProcessId => _process.Id;

    /// <summary>True while the nutcracker process is alive.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>
    /// Starts nutcracker with one ketama pool over <paramref name="servers"/> on a free loopback port and returns
    /// once it listens there. A port another process takes before nutcracker binds it is replaced and the start retried.
    /// </summary>
    /// <param name="servers">
    /// The memcached servers in twemproxy's <c>host:port:weight [name]</c> form, e.g. <c>127.0.0.1:11211:1</c> or
    /// <c>127.0.0.1:11212:2 beta</c>; the name, when given, replaces <c>host:port</c> in the ring's point names.
    /// </param>
    /// <param name="options">Hash, server timeout, auto-eject and start timeout; null for the defaults.</param>
    /// <param name="ct">Cancels the start; the process is stopped.</param>
    /// <exception cref="ArgumentException">No servers, a server not in twemproxy's form, an unknown hash or an option out of range.</exception>
    /// <exception cref="FileNotFoundException">nutcracker is not installed (scripts/setup installs it).</exception>
    /// <exception cref="InvalidOperationException">nutcracker exited or did not listen in time; the message has its log.</exception>
    public static Task<NutcrackerServer> StartAsync(IEnumerable<string> servers, NutcrackerServerOptions? options = null, CancellationToken ct = default) =>
        StartAsync(servers, options, FreePorts.Next, ct);

    /// <summary>As the public overload, with the listen and stats ports taken from <paramref name="nextPort"/>.</summary>
    internal static async Task<NutcrackerServer> StartAsync(
        IEnumerable<string> servers, NutcrackerServerOptions? options, Func<int> nextPort, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(servers);
        options ??= new NutcrackerServerOptions();
        string[] pool = [.. servers];
        Validate(pool, options);
        for (var attempt = 1; ; attempt++)
        {
            int port = nextPort(), statsPort = nextPort();
            var directory = ProcessRegistry.CreateDirectory("typedcache-nutcracker-");
            ChildProcess process;
            try
            {
                var config = Path.Combine(directory, "nutcracker.yml");
                await File.WriteAllTextAsync(config, Configuration(pool, options, port), new UTF8Encoding(false), ct).ConfigureAwait(false);
                process = ChildProcess.Start(Executable,
                [
                    "-c", config,
                    "-s", statsPort.ToString(CultureInfo.InvariantCulture), "-a", "127.0.0.1",
                    "-o", "/dev/stderr",
                ]);
            }
            catch
            {
                ProcessRegistry.DeleteDirectory(directory);
                throw;
            }

            var server = new NutcrackerServer(process, directory, port);
            try
            {
                var ready = await Poll.UntilAsync(
                    _ => Task.FromResult(process.HasExited || ListensOn(process.Id, port)),
                    options.StartTimeout,
                    ct).ConfigureAwait(false);
                if (ready && !process.HasExited)
                    return server;
                var why = ready ? "exited during start" : $"did not listen within {options.StartTimeout.TotalSeconds:0.#} s";
                var description = process.Describe();
                // Another process may have taken a port between the check and nutcracker's bind: new ports. Its log may
                // not be read yet when it has exited, so a port that cannot be bound tells as much as the message.
                var portTaken = description.Contains("Address already in use", StringComparison.Ordinal) || Taken(port) || Taken(statsPort);
                if (!ready || attempt == PortAttempts || !portTaken)
                    throw new InvalidOperationException($"nutcracker on 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)} {why}. {description}");
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Whether another process holds <paramref name="port"/> on loopback.</summary>
    private static bool Taken(int port)
    {
        try
        {
            var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return false;
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            return true;
        }
    }

    /// <summary>Kills nutcracker by its PID, waits until it is gone and removes its directory. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await _process.KillAsync().ConfigureAwait(false);
        _process.Dispose();
        ProcessRegistry.DeleteDirectory(_directory);
    }

    private static void Validate(string[] servers, NutcrackerServerOptions options)
    {
        if (servers.Length == 0)
            throw new ArgumentException("nutcracker needs at least one memcached server.", nameof(servers));
        foreach (var server in servers)
        {
            var match = server is null ? null : ServerPattern().Match(server);
            if (match is not { Success: true }
                || !int.TryParse(match.Groups["port"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535
                || !int.TryParse(match.Groups["weight"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var weight) || weight < 1)
                throw new ArgumentException(
                    $"The server '{server}' is not in twemproxy's host:port:weight [name] form with a port from 1 to 65535 and a weight of at least 1.",
                    nameof(servers));
        }

        if (!Hashes.Contains(options.Hash, StringComparer.Ordinal))
            throw new ArgumentException($"Hash must be one of twemproxy's hashes ({string.Join(", ", Hashes)}), not '{options.Hash}'.", nameof(options));
        if (options.Timeout is { } timeout && (timeout < TimeSpan.FromMilliseconds(1) || timeout.Ticks % TimeSpan.TicksPerMillisecond != 0))
            throw new ArgumentException($"Timeout must be a positive whole number of milliseconds, not {timeout}.", nameof(options));
        if (options.StartTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"StartTimeout must be positive, not {options.StartTimeout}.", nameof(options));
    }

    private static string Configuration(string[] servers, NutcrackerServerOptions options, int port)
    {
        var yaml = new StringBuilder();
        yaml.Append(CultureInfo.InvariantCulture, $"""
            pool:
              listen: 127.0.0.1:{port}
              hash: {options.Hash}
              distribution: ketama
              auto_eject_hosts: {(options.AutoEjectHosts ? "true" : "false")}

            """);
        if (options.Timeout is { } timeout)
            yaml.Append(CultureInfo.InvariantCulture, $"  timeout: {(long)timeout.TotalMilliseconds}\n");
        yaml.Append("  servers:\n");
        foreach (var server in servers)
            yaml.Append(CultureInfo.InvariantCulture, $"    - {server}\n");
        return yaml.ToString();
    }

    // Whether the process holds a socket listening on 127.0.0.1:port: a connection alone could reach another
    // process that took the port first while nutcracker is failing to bind it.
    private static bool ListensOn(int processId, int port)
    {
        var local = string.Create(CultureInfo.InvariantCulture, $"{BitConverter.ToUInt32(IPAddress.Loopback.GetAddressBytes()):X8}:{port:X4}");
        try
        {
            var inodes = File.ReadLines($"/proc/{processId}/net/tcp")
                .Skip(1)
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(fields => fields.Length > 9 && fields[1] == local && fields[3] == "0A")
                .Select(fields => $"socket:[{fields[9]}]")
                .ToHashSet(StringComparer.Ordinal);
            return inodes.Count > 0
                && Directory.EnumerateFileSystemEntries($"/proc/{processId}/fd").Any(fd => new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Exited while it was read: the caller sees that next.
            return false;
        }
    }

    [GeneratedRegex(@"^(?<host>[^\s:]+):(?<port>\d{1,5}):(?<weight>\d{1,9})(?: (?<name>\S+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex ServerPattern();
}
