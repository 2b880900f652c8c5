using System.Globalization;

namespace TypedCache.Testing;

/// <summary>
/// A real memcached process (<c>/usr/bin/memcached</c>, Debian's <c>memcached</c> package) listening on
/// 127.0.0.1, for tests. Started by <see cref="StartAsync(MemcachedServerOptions?, CancellationToken)"/>,
/// stopped by its PID on <see cref="DisposeAsync"/> (or when the test process exits).
/// </summary>
/// <example>
/// <code>
/// await using var server = await MemcachedServer.StartAsync();
/// // connect a client to server.Endpoint
/// </code>
/// </example>
public sealed class MemcachedServer : IAsyncDisposable
{
    private const string Executable = "/usr/bin/memcached";
    private const int PortAttempts = 5;

    private readonly IReadOnlyList<string> _arguments;
    private readonly TimeSpan _startTimeout;
    private ChildProcess? _process;
    private bool _disposed;

    private MemcachedServer(int port, IReadOnlyList<string> arguments, TimeSpan startTimeout)
    {
        Port = port;
        _arguments = arguments;
        _startTimeout = startTimeout;
    }

    private enum LaunchResult
    {
        Ready,
        PortTaken,
    }

    /// <summary>The address the server listens on: always <c>127.0.0.1</c>.</summary>
    public string Host => "127.0.0.1";

    /// <summary>The TCP port the server listens on; the same across <see cref="KillAsync"/> and <see cref="StartAsync(CancellationToken)"/>.</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string Endpoint => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The PID of the memcached process last started (still set after it was killed).</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("The memcached server was never started.");

    /// <summary>True while the memcached process is alive.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>
    /// Starts memcached on a free loopback port (or <see cref="MemcachedServerOptions.Port"/>) and returns once
    /// it answers <c>version</c>.
    /// </summary>
    /// <param name="options">Memory, item size, port and extra arguments; null for the defaults.</param>
    /// <param name="ct">Cancels the start; the process is stopped.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">memcached exited or did not get ready in time; the message has its output.</exception>
    public static async Task<MemcachedServer> StartAsync(MemcachedServerOptions? options = null, CancellationToken ct = default)
    {
        options ??= new MemcachedServerOptions();
        Validate(options);
        for (var attempt = 1; ; attempt++)
        {
            var port = options.Port ?? FreePorts.Next();
            var server = new MemcachedServer(port, BuildArguments(options, port), options.StartTimeout);
            if (await server.LaunchAsync(ct).ConfigureAwait(false) == LaunchResult.Ready)
                return server;
            if (options.Port is not null || attempt == PortAttempts)
                throw new InvalidOperationException($"memcached could not listen on 127.0.0.1:{port}: the port is taken. {server._process!.Describe()}");
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Kills memcached with SIGKILL by its PID and waits until it is gone; nothing happens if it is not running.</summary>
    public async Task KillAsync()
    {
        if (_process is not null)
            await _process.KillAsync().ConfigureAwait(false);
    }

    /// <summary>Starts memcached again on the same port, with an empty cache, after <see cref="KillAsync"/>.</summary>
    /// <param name="ct">Cancels the start; the process is stopped.</param>
    /// <exception cref="InvalidOperationException">It is still running, was disposed, or did not get ready (the message has its output).</exception>
    public async Task StartAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsRunning)
            throw new InvalidOperationException($"memcached on {Endpoint} is already running as PID {ProcessId}.");
        if (await LaunchAsync(ct).ConfigureAwait(false) == LaunchResult.PortTaken)
            throw new InvalidOperationException($"memcached could not listen on {Endpoint} again: the port is taken. {_process!.Describe()}");
    }

    /// <summary>Kills memcached by its PID and waits until it is gone. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await KillAsync().ConfigureAwait(false);
        _process?.Dispose();
    }

    private static void Validate(MemcachedServerOptions options)
    {
        if (options.MemoryMegabytes < 1)
            throw new ArgumentException($"MemoryMegabytes must be at least 1, not {options.MemoryMegabytes}.", nameof(options));
        if (options.MaxItemSizeBytes < 1024 || options.MaxItemSizeBytes > options.MemoryMegabytes * 1024L * 1024 / 2)
            throw new ArgumentException(
                $"MaxItemSizeBytes must be between 1024 and half of MemoryMegabytes ({options.MemoryMegabytes} MiB), not {options.MaxItemSizeBytes}.",
                nameof(options));
        if (options.Port is < 1 or > 65535)
            throw new ArgumentException($"Port must be between 1 and 65535, not {options.Port}.", nameof(options));
        if (options.StartTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"StartTimeout must be positive, not {options.StartTimeout}.", nameof(options));
    }

    private static string[] BuildArguments(MemcachedServerOptions options, int port)
    {
        var arguments = new List<string>
        {
            "-l", "127.0.0.1",
            "-p", port.ToString(CultureInfo.InvariantCulture),
            "-U", "0",
            "-m", options.MemoryMegabytes.ToString(CultureInfo.InvariantCulture),
            "-I", options.MaxItemSizeBytes.ToString(CultureInfo.InvariantCulture),
        };
        if (Native.GetEffectiveUserId() == 0)
            arguments.AddRange(["-u", "root"]);
        arguments.AddRange(options.ExtraArguments);
        return [.. arguments];
    }

    private async Task<LaunchResult> LaunchAsync(CancellationToken ct)
    {
        _process?.Dispose();
        var process = ChildProcess.Start(Executable, _arguments);
        _process = process;
        try
        {
            var answered = false;
            var ready = await Poll.UntilAsync(
                async token =>
                {
                    if (process.HasExited)
                        return true;
                    // A squatter on the port may accept and never answer; memcached's exit ends the wait then.
                    var probe = LoopbackClient.TryExchangeAsync(Port, "version\r\n", r => r.EndsWith("\r\n", StringComparison.Ordinal), token);
                    using var stopProbe = CancellationTokenSource.CreateLinkedTokenSource(token);
                    if (await Task.WhenAny(probe, process.WaitForExitAsync(stopProbe.Token)).ConfigureAwait(false) != probe)
                        return true;
                    await stopProbe.CancelAsync().ConfigureAwait(false);
                    answered = (await probe.ConfigureAwait(false))?.StartsWith("VERSION ", StringComparison.Ordinal) == true;
                    return answered;
                },
                _startTimeout,
                ct).ConfigureAwait(false);

            if (ready && answered && await ServesFromThisProcessAsync(process.Id, ct).ConfigureAwait(false))
                return LaunchResult.Ready;

            await process.KillAsync().ConfigureAwait(false);
            if (process.Output.Contains("Address already in use", StringComparison.Ordinal) || answered)
                return LaunchResult.PortTaken;
            var why = ready ? "exited during start" : $"did not answer `version` within {_startTimeout.TotalSeconds:0.#} s";
            throw new InvalidOperationException($"memcached on {Endpoint} {why}. {process.Describe()}");
        }
        catch (OperationCanceledException)
        {
            await process.KillAsync().ConfigureAwait(false);
            throw;
        }
    }

    // Another process may have bound the port first; its answer must not pass for ours.
    private async Task<bool> ServesFromThisProcessAsync(int processId, CancellationToken ct)
    {
        var stats = await LoopbackClient.TryExchangeAsync(Port, "stats\r\n", r => r.EndsWith("END\r\n", StringComparison.Ordinal), ct)
            .ConfigureAwait(false);
        return stats?.Contains($"STAT pid {processId.ToString(CultureInfo.InvariantCulture)}\r\n", StringComparison.Ordinal) == true;
    }
}
