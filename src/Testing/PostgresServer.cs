using System.Globalization;

namespace TypedCache.Testing;

/// <summary>
/// A throwaway PostgreSQL server (Debian's <c>postgresql</c> package, binaries under <c>/usr/lib/postgresql/*/bin</c>)
/// for tests: a fresh cluster in a temporary directory, listening on 127.0.0.1 and a free port, user <c>postgres</c>
/// with trust authentication, durability switched off for speed. Run as root, it runs as the <c>postgres</c> user
/// (PostgreSQL refuses root), through <c>setpriv</c>, which keeps the PID. Stopped by its PID on
/// <see cref="DisposeAsync"/>, its directory removed.
/// </summary>
/// <example>
/// <code>
/// await using var postgres = await PostgresServer.StartAsync();
/// var connectionString = postgres.ConnectionString("shop");
/// </code>
/// </example>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string ReadyLine = "database system is ready to accept connections";
    private const string Setpriv = "/usr/bin/setpriv";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);
    private const int SignalInterrupt = 2;

    private readonly ChildProcess _process;
    private readonly string _directory;
    private bool _disposed;

    private PostgresServer(ChildProcess process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    /// <summary>The address the server listens on: always <c>127.0.0.1</c>.</summary>
    public string Host => "127.0.0.1";

    /// <summary>The TCP port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The PID of the postmaster.</summary>
    public int ProcessId => _process.Id;

    /// <summary>An Npgsql connection string for <paramref name="database"/> as user <c>postgres</c>, without pooling (so the server can stop at once).</summary>
    /// <param name="database">The database; EF Core's <c>EnsureCreated</c> creates it when missing. Default: <c>postgres</c>.</param>
    /// <returns>The connection string.</returns>
    public string ConnectionString(string database = "postgres") =>
        string.Create(CultureInfo.InvariantCulture, $"Host={Host};Port={Port};Username=postgres;Database={database};Pooling=false");

    /// <summary>Creates a cluster with <c>initdb</c> and starts <c>postgres</c> on it; returns once it accepts connections.</summary>
    /// <param name="ct">Cancels the start; the process is stopped and the directory removed.</param>
    /// <exception cref="FileNotFoundException">PostgreSQL is not installed (scripts/setup installs it).</exception>
    /// <exception cref="InvalidOperationException"><c>initdb</c> or <c>postgres</c> failed; the message has its output.</exception>
    public static async Task<PostgresServer> StartAsync(CancellationToken ct = default)
    {
        var bin = FindBinaries();
        var directory = ProcessRegistry.CreateDirectory("typedcache-postgres-");
        try
        {
            // initdb, run as postgres, creates the data directory itself and so owns it; the sockets go beside it.
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                    | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
            var data = Path.Combine(directory, "data");
            using (var initdb = Start(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]))
            {
                await initdb.WaitForExitAsync(ct).ConfigureAwait(false);
                if (!Directory.Exists(Path.Combine(data, "global")))
                    throw new InvalidOperationException($"initdb failed. {initdb.Describe()}");
            }

            var port = FreePorts.Next();
            var postgres = Start(Path.Combine(bin, "postgres"),
            [
                "-D", data, "-k", directory, "-p", port.ToString(CultureInfo.InvariantCulture),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            ]);
            var server = new PostgresServer(postgres, directory, port);
            try
            {
                var ready = await Poll.UntilAsync(
                    _ => Task.FromResult(postgres.HasExited || postgres.Output.Contains(ReadyLine, StringComparison.Ordinal)),
                    StartTimeout,
                    ct).ConfigureAwait(false);
                if (!ready || postgres.HasExited)
                    throw new InvalidOperationException($"postgres on 127.0.0.1:{port} {(ready ? "exited during start" : "did not get ready in time")}. {postgres.Describe()}");
                return server;
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch
        {
            ProcessRegistry.DeleteDirectory(directory);
            throw;
        }
    }

    /// <summary>Stops the server by its PID (fast shutdown: clients are disconnected), SIGKILL after a grace period; removes its directory. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (!_process.HasExited)
            Native.Kill(_process.Id, SignalInterrupt);
        using (var grace = new CancellationTokenSource(StopGrace))
        {
            try
            {
                await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (grace.IsCancellationRequested)
            {
                // Did not stop in time: killed below.
            }
        }

        await _process.KillAsync().ConfigureAwait(false);
        _process.Dispose();
        ProcessRegistry.DeleteDirectory(_directory);
    }

    private static string FindBinaries()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : 0)
                .FirstOrDefault()
            : null;
        return bin ?? throw new FileNotFoundException(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres); scripts/setup installs the Debian packages TypedCache's tests need.");
    }

    // PostgreSQL refuses to run as root: as root, setpriv switches to the postgres user and execs, so the PID is the server's.
    private static ChildProcess Start(string executable, IReadOnlyList<string> arguments) =>
        Native.GetEffectiveUserId() == 0
            ? ChildProcess.Start(Setpriv, ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", executable, .. arguments])
            : ChildProcess.Start(executable, arguments);
}
