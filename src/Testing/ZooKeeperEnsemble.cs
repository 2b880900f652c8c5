using System.Globalization;
using System.Text;

namespace TypedCache.Testing;

/// <summary>
/// A real ZooKeeper ensemble for tests: 1 member (standalone) or more (a quorum; 3 is the usual choice), each
/// a <c>java</c> process from Debian's <c>zookeeper</c> package on 127.0.0.1 with its own config, data dir,
/// <c>myid</c> and free client, quorum and election ports. Four-letter words are all allowed; the admin
/// server is off. Members can be stopped, killed and restarted one by one for failover tests; a restarted
/// member keeps its data and ports. Every process is stopped by its PID on <see cref="DisposeAsync"/> (or
/// when the test process exits) and the temporary directory is removed.
/// </summary>
/// <example>
/// <code>
/// await using var zk = await ZooKeeperEnsemble.StartAsync(3);
/// var leader = zk.LeaderIndex;
/// await zk.KillAsync(leader);
/// var next = await zk.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
/// </code>
/// </example>
public sealed class ZooKeeperEnsemble : IAsyncDisposable
{
    private const int MaxMembers = 9;
    private const int PortAttempts = 3;
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly ZooKeeperMember[] _members;
    private readonly string _directory;
    private readonly TimeSpan _startTimeout;
    private bool _disposed;

    private ZooKeeperEnsemble(int members, ZooKeeperEnsembleOptions options)
    {
        _startTimeout = options.StartTimeout;
        _directory = ProcessRegistry.CreateDirectory("typedcache-zookeeper-");
        _members = [.. Enumerable.Range(0, members).Select(i => new ZooKeeperMember(i, Path.Combine(_directory, "member" + i.ToString(CultureInfo.InvariantCulture))))];
        var sharedConfig = SharedConfig(options, _members);
        foreach (var member in _members)
            member.WriteFiles(sharedConfig);
    }

    /// <summary>The number of members, running or not.</summary>
    public int Count => _members.Length;

    /// <summary>Every member's client endpoint, comma-separated: <c>127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3</c>.</summary>
    public string ConnectString => string.Join(',', _members.Select(m => m.Endpoint));

    /// <summary>
    /// The index of the member that answers <c>srvr</c> with <c>Mode: leader</c> (or <c>standalone</c>) right
    /// now, or -1 when none does (during an election, or with too few members running). Asks every running
    /// member, so it blocks for up to a couple of seconds.
    /// </summary>
    public int LeaderIndex => FindLeaderAsync(CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>
    /// Starts an ensemble of <paramref name="members"/> and returns once every member answers <c>srvr</c> with
    /// a mode (standalone, leader or follower). Taken ports are replaced with new ones and the start retried.
    /// </summary>
    /// <param name="members">How many members: 1 runs standalone; 3 is a quorum that survives one failure. At most 9.</param>
    /// <param name="options">Tick time, session timeout bounds and start timeout; null for the defaults.</param>
    /// <param name="ct">Cancels the start; the members started so far are stopped.</param>
    /// <exception cref="ArgumentException">A count or option is out of range.</exception>
    /// <exception cref="InvalidOperationException">A member exited or the ensemble did not get ready in time; the message has every member's log tail.</exception>
    public static async Task<ZooKeeperEnsemble> StartAsync(int members = 1, ZooKeeperEnsembleOptions? options = null, CancellationToken ct = default)
    {
        options ??= new ZooKeeperEnsembleOptions();
        Validate(members, options);
        for (var attempt = 1; ; attempt++)
        {
            var ensemble = new ZooKeeperEnsemble(members, options);
            try
            {
                if (await ensemble.LaunchAllAsync(ct).ConfigureAwait(false))
                    return ensemble;
                if (attempt == PortAttempts)
                    throw new InvalidOperationException($"ZooKeeper could not bind its ports in {PortAttempts} attempts.{ensemble.DescribeMembers()}");
            }
            catch
            {
                await ensemble.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            await ensemble.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The client port of member <paramref name="member"/> (0-based).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="member"/> is not a member index.</exception>
    public int ClientPort(int member) => Member(member).ClientPort;

    /// <summary>The client endpoint of member <paramref name="member"/>: <c>127.0.0.1:port</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="member"/> is not a member index.</exception>
    public string Endpoint(int member) => Member(member).Endpoint;

    /// <summary>The PID of member <paramref name="member"/>'s last started process (still set after it stopped).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="member"/> is not a member index.</exception>
    public int ProcessId(int member) => Member(member).ProcessId;

    /// <summary>True while member <paramref name="member"/>'s process is alive.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="member"/> is not a member index.</exception>
    public bool IsRunning(int member) => Member(member).IsRunning;

    /// <summary>
    /// Polls every running member until one is leader (or standalone) and returns its index.
    /// </summary>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="ct">Cancels the wait.</param>
    /// <exception cref="TimeoutException">No leader within <paramref name="timeout"/>; the message has each member's state.</exception>
    public async Task<int> WaitForLeaderAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var leader = -1;
        if (await Poll.UntilAsync(async token => (leader = await FindLeaderAsync(token).ConfigureAwait(false)) >= 0, timeout, ct).ConfigureAwait(false))
            return leader;
        throw new TimeoutException($"No ZooKeeper member became leader within {timeout.TotalSeconds:0.#} s. {await DescribeModesAsync(ct).ConfigureAwait(false)}");
    }

    /// <summary>Stops member <paramref name="member"/>: SIGTERM by PID, SIGKILL if it is still there after 5 seconds; waits until it is gone.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="member"/> is not a member index.</exception>
    public Task StopAsync(int member) => Member(member).StopAsync(StopGrace);

    /// <summary>Kills member <paramref name="member"/> with SIGKILL by PID and waits until it is gone.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="member"/> is not a member index.</exception>
    public Task KillAsync(int member) => Member(member).KillAsync();

    /// <summary>
    /// Starts a stopped member again with its data dir and ports, and returns once it answers <c>srvr</c>
    /// with a mode: it has rejoined the quorum (or, standalone, is serving).
    /// </summary>
    /// <param name="member">The member index.</param>
    /// <param name="ct">Cancels the start; the member is stopped again.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="member"/> is not a member index.</exception>
    /// <exception cref="InvalidOperationException">It is running already, the ensemble was disposed, or it did not rejoin in time (the message has its log tail).</exception>
    public async Task StartAsync(int member, CancellationToken ct = default)
    {
        var target = Member(member);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (target.IsRunning)
            throw new InvalidOperationException($"ZooKeeper member {member} is already running as PID {target.ProcessId}.");
        target.Start();
        try
        {
            var ready = await Poll.UntilAsync(
                async token => target.HasExited || await target.QueryModeAsync(token).ConfigureAwait(false) is not null,
                _startTimeout,
                ct).ConfigureAwait(false);
            if (ready && !target.HasExited)
                return;
            var why = ready ? "exited during start" : $"did not rejoin within {_startTimeout.TotalSeconds:0.#} s";
            await target.KillAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"ZooKeeper member {member} {why}.{Environment.NewLine}{target.Describe()}");
        }
        catch (OperationCanceledException)
        {
            await target.KillAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Kills every member by its PID, waits until they are gone and removes their directories. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await Task.WhenAll(_members.Select(m => m.KillAsync())).ConfigureAwait(false);
        foreach (var member in _members)
            member.Dispose();
        ProcessRegistry.DeleteDirectory(_directory);
    }

    private static void Validate(int members, ZooKeeperEnsembleOptions options)
    {
        if (members is < 1 or > MaxMembers)
            throw new ArgumentOutOfRangeException(nameof(members), members, $"An ensemble has 1 to {MaxMembers} members.");
        if (options.TickTimeMilliseconds < 10)
            throw new ArgumentException($"TickTimeMilliseconds must be at least 10, not {options.TickTimeMilliseconds}.", nameof(options));
        var min = options.MinSessionTimeoutMilliseconds ?? 2 * options.TickTimeMilliseconds;
        var max = options.MaxSessionTimeoutMilliseconds ?? 20 * options.TickTimeMilliseconds;
        if (min <= 0 || max < min)
            throw new ArgumentException($"The session timeout bounds must be positive with min <= max, not {min} and {max} ms.", nameof(options));
        if (options.StartTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"StartTimeout must be positive, not {options.StartTimeout}.", nameof(options));
    }

    private static string SharedConfig(ZooKeeperEnsembleOptions options, ZooKeeperMember[] members)
    {
        var tick = options.TickTimeMilliseconds;
        var config = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        config.AppendLine(invariant, $"tickTime={tick}");
        config.AppendLine(invariant, $"minSessionTimeout={options.MinSessionTimeoutMilliseconds ?? 2 * tick}");
        config.AppendLine(invariant, $"maxSessionTimeout={options.MaxSessionTimeoutMilliseconds ?? 20 * tick}");

        // Limits are in ticks: about 10 s to join the leader and 2 s of lag before a follower is dropped,
        // whatever the tick, so a busy machine does not make the quorum flap.
        config.AppendLine(invariant, $"initLimit={Math.Max(10, 10_000 / tick)}");
        config.AppendLine(invariant, $"syncLimit={Math.Max(5, 2_000 / tick)}");
        config.AppendLine("4lw.commands.whitelist=*");
        config.AppendLine("admin.enableServer=false");
        config.AppendLine("maxClientCnxns=0");
        config.AppendLine("reconfigEnabled=false");

        // Test data need not survive a power cut, only a killed process: no fsync, small log preallocation.
        config.AppendLine("forceSync=no");
        config.AppendLine("preAllocSize=1024");
        if (members.Length > 1)
        {
            foreach (var member in members)
                config.AppendLine(member.ServerLine);
        }

        return config.ToString();
    }

    private ZooKeeperMember Member(int member)
    {
        if (member < 0 || member >= _members.Length)
            throw new ArgumentOutOfRangeException(nameof(member), member, $"The ensemble has members 0 to {_members.Length - 1}.");
        return _members[member];
    }

    /// <summary>True once every member serves; false when a member lost a port to another process (retry with new ports).</summary>
    private async Task<bool> LaunchAllAsync(CancellationToken ct)
    {
        foreach (var member in _members)
            member.Start();

        var ready = await Poll.UntilAsync(
            async token =>
            {
                if (_members.Any(m => m.HasExited))
                    return true;
                var modes = await Task.WhenAll(_members.Select(m => m.QueryModeAsync(token))).ConfigureAwait(false);
                return modes.All(m => m is not null);
            },
            _startTimeout,
            ct).ConfigureAwait(false);

        if (ready && !_members.Any(m => m.HasExited))
        {
            var ours = await Task.WhenAll(_members.Select(m => m.ServesFromHereAsync(ct))).ConfigureAwait(false);
            return ours.All(o => o);
        }

        if (_members.Any(m => m.HasExited && m.PortWasTaken()))
            return false;
        var why = ready ? "a member exited during start" : $"not every member served within {_startTimeout.TotalSeconds:0.#} s";
        throw new InvalidOperationException($"The ZooKeeper ensemble did not start: {why}.{DescribeMembers()}");
    }

    private async Task<int> FindLeaderAsync(CancellationToken ct)
    {
        var modes = await Task.WhenAll(_members.Select(m => m.QueryModeAsync(ct))).ConfigureAwait(false);
        return Array.FindIndex(modes, m => m is "leader" or "standalone");
    }

    private async Task<string> DescribeModesAsync(CancellationToken ct)
    {
        var modes = await Task.WhenAll(_members.Select(m => m.QueryModeAsync(ct))).ConfigureAwait(false);
        return string.Join(
            "; ",
            _members.Select((m, i) => $"member {i} ({m.Endpoint}): {(m.IsRunning ? modes[i] ?? "not serving" : "stopped")}"));
    }

    private string DescribeMembers() =>
        string.Concat(_members.Select(m => Environment.NewLine + m.Describe()));
}
