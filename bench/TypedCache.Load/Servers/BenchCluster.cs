using System.Diagnostics;
using System.Globalization;
using TypedCache.Cluster;
using TypedCache.Coordination;
using TypedCache.Testing;
using TypedCache.ZooKeeper;

namespace TypedCache.Load.Servers;

/// <summary>
/// The servers of a load run: three memcached servers and a three-member ZooKeeper ensemble started on free loopback
/// ports (or the ones given), one registrar per memcached server keeping its membership znode while it answers, and
/// a membership watch for the scenarios' convergence figures. Everything started is stopped by its PID.
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Room to spare: the run's memcached servers hold every scenario's items one after another, and one full run at the
    /// harness's default 64 MB had memcached answer the last scenario's sets with "out of memory storing object".
    /// memcached takes memory only as items need it.
    /// </summary>
    private static readonly MemcachedServerOptions ServerOptions = new() { MemoryMegabytes = 512 };
    private readonly ProcessLog _log;
    private readonly Dictionary<string, MemcachedRegistrar> _registrars = [];
    private ZooKeeperClient? _client;
    private MembersWatcher? _members;

    private BenchCluster(ProcessLog log, string root)
    {
        _log = log;
        Root = root;
    }

    /// <summary>True when this run started the servers, so it may kill and restart them.</summary>
    public bool Owned { get; private init; }

    public string Root { get; }

    public string ZooKeeperConnect { get; private set; } = "";

    public List<MemcachedServer> Memcached { get; } = [];

    public ZooKeeperEnsemble? Ensemble { get; private set; }

    public CoordinationRoot Coordination { get; private set; } = null!;

    public IReadOnlyList<Member> Members => _members!.Current;

    public static async Task<BenchCluster> StartAsync(ProcessLog log, string root, int memcachedCount, CancellationToken cancellationToken)
    {
        var cluster = new BenchCluster(log, root) { Owned = true };
        try
        {
            var memcached = Enumerable.Range(0, memcachedCount).Select(_ => MemcachedServer.StartAsync(ServerOptions, cancellationToken)).ToList();
            var ensemble = ZooKeeperEnsemble.StartAsync(3, ct: cancellationToken);
            try
            {
                await Task.WhenAll([.. memcached, ensemble]);
            }
            finally
            {
                cluster.Memcached.AddRange(memcached.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
                cluster.Ensemble = ensemble.IsCompletedSuccessfully ? ensemble.Result : null;
            }
            foreach (var server in cluster.Memcached)
                log.Add(server.ProcessId, $"memcached {server.Endpoint}");
            for (int i = 0; i < cluster.Ensemble!.Count; i++)
                log.Add(cluster.Ensemble.ProcessId(i), $"ZooKeeper {cluster.Ensemble.Endpoint(i)}");
            await cluster.Ensemble.WaitForLeaderAsync(Deadline, cancellationToken);
            await cluster.ConnectAsync(cluster.Ensemble.ConnectString, [.. cluster.Memcached.Select(m => m.Endpoint)], cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Uses running servers: registers the given memcached servers under a root of this run's own.</summary>
    public static async Task<BenchCluster> UseAsync(ProcessLog log, string root, string zooKeeper, IReadOnlyList<string> memcached, CancellationToken cancellationToken)
    {
        var cluster = new BenchCluster(log, root);
        try
        {
            await cluster.ConnectAsync(zooKeeper, memcached, cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one more memcached server and its registrar, and returns it once registered.</summary>
    public async Task<MemcachedServer> AddMemcachedAsync(CancellationToken cancellationToken)
    {
        var server = await MemcachedServer.StartAsync(ServerOptions, cancellationToken);
        Memcached.Add(server);
        _log.Add(server.ProcessId, $"memcached {server.Endpoint} (joined)");
        Register(server.Endpoint);
        return server;
    }

    /// <summary>Removes a server added by <see cref="AddMemcachedAsync"/>: its registrar first (the znode goes), then the server.</summary>
    public async Task RemoveMemcachedAsync(MemcachedServer server)
    {
        if (_registrars.Remove(server.Endpoint, out var registrar))
            await registrar.DisposeAsync();
        Memcached.Remove(server);
        await server.DisposeAsync();
    }

    /// <summary>Restarts a killed memcached server on its port; its registrar registers it again when it answers.</summary>
    public async Task RestartMemcachedAsync(MemcachedServer server, CancellationToken cancellationToken)
    {
        await server.StartAsync(cancellationToken);
        _log.Add(server.ProcessId, $"memcached {server.Endpoint} (restarted)");
    }

    /// <summary>Starts a ZooKeeper member again after it was killed or stopped.</summary>
    public async Task RestartZooKeeperAsync(int member, CancellationToken cancellationToken)
    {
        await Ensemble!.StartAsync(member, cancellationToken);
        _log.Add(Ensemble.ProcessId(member), $"ZooKeeper {Ensemble.Endpoint(member)} (restarted)");
    }

    /// <summary>Waits until the membership in ZooKeeper lists exactly <paramref name="count"/> servers; returns how long that took.</summary>
    public async Task<TimeSpan> WaitForMembersAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (Members.Count != count)
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"the membership did not reach {count} servers within {timeout.TotalSeconds} s; it lists {string.Join(", ", Members.Select(m => $"{m.Host}:{m.Port}"))}");
            await Task.Delay(10, cancellationToken);
        }
        return clock.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var registrar in _registrars.Values)
            await registrar.DisposeAsync();
        _registrars.Clear();
        if (_members is not null)
            await _members.DisposeAsync();
        if (_client is not null)
            await _client.DisposeAsync();
        foreach (var server in Memcached)
            await server.DisposeAsync();
        if (Ensemble is not null)
            await Ensemble.DisposeAsync();
    }

    private async Task ConnectAsync(string zooKeeper, IReadOnlyList<string> memcached, CancellationToken cancellationToken)
    {
        ZooKeeperConnect = zooKeeper;
        _client = new ZooKeeperClient(new ZooKeeperClientOptions
        {
            ConnectString = zooKeeper,
            SessionTimeout = TimeSpan.FromSeconds(4),
            RenewSessionOnExpiry = true,
        });
        await _client.WaitForConnectionAsync(cancellationToken);
        Coordination = await CoordinationRoot.OpenAsync(_client, Root, null, cancellationToken);
        _members = await MembersWatcher.StartAsync(Coordination, cancellationToken);
        foreach (var endpoint in memcached)
            Register(endpoint);
        await WaitForMembersAsync(memcached.Count, Deadline, cancellationToken);
    }

    private void Register(string endpoint) =>
        _registrars[endpoint] = MemcachedRegistrar.Start(Coordination, RingNode.Parse(endpoint), new MemcachedRegistrarOptions { CheckInterval = TimeSpan.FromMilliseconds(250) });

    public static string NewRoot() => "/typedcache/load-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture);
}
