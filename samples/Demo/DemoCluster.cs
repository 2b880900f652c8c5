using TypedCache.Testing;

namespace Demo;

/// <summary>The servers of the demo: three memcached servers, a three-member ZooKeeper ensemble, a registrar per memcached.</summary>
internal sealed class DemoCluster : IAsyncDisposable
{
    public const string Root = "/typedcache/demo";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public List<MemcachedServer> Memcached { get; } = [];

    public ZooKeeperEnsemble? ZooKeeper { get; private set; }

    public List<Registrar> Registrars { get; } = [];

    public TypedCacheTool Tool => new(ZooKeeper!.ConnectString, Root);

    /// <summary>Every PID started, for the summary and the final check.</summary>
    public List<int> ProcessIds { get; } = [];

    public async Task StartServersAsync(CancellationToken cancellationToken)
    {
        var memcached = Enumerable.Range(0, 3).Select(_ => MemcachedServer.StartAsync(ct: cancellationToken)).ToList();
        var zooKeeper = ZooKeeperEnsemble.StartAsync(3, ct: cancellationToken);
        try
        {
            await Task.WhenAll([.. memcached, zooKeeper]);
        }
        finally
        {
            // What did start is stopped by DisposeAsync, also when another server failed or Ctrl+C came.
            Memcached.AddRange(memcached.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            ZooKeeper = zooKeeper.IsCompletedSuccessfully ? zooKeeper.Result : null;
        }

        ProcessIds.AddRange(Memcached.Select(m => m.ProcessId));
        var ensemble = ZooKeeper!;
        ProcessIds.AddRange(Enumerable.Range(0, ensemble.Count).Select(ensemble.ProcessId));
        await ensemble.WaitForLeaderAsync(Deadline, cancellationToken);
    }

    public async Task StartRegistrarsAsync(CancellationToken cancellationToken)
    {
        foreach (var server in Memcached)
        {
            var registrar = Tool.StartRegistrar(server.Endpoint);
            Registrars.Add(registrar);
            ProcessIds.Add(registrar.ProcessId);
        }

        foreach (var registrar in Registrars)
            await registrar.WaitForLineAsync("registered ", 1, Deadline, cancellationToken);
    }

    /// <summary>Stops every process by its PID: registrars first (they remove their znodes), then memcached, then ZooKeeper.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var registrar in Registrars)
            await registrar.DisposeAsync();
        foreach (var server in Memcached)
            await server.DisposeAsync();
        if (ZooKeeper is not null)
            await ZooKeeper.DisposeAsync();
    }
}
