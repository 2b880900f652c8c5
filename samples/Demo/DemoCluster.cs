using Shop;
using TypedCache.Testing;

namespace Demo;

/// <summary>
/// The processes of the demo: three memcached servers, a three-member ZooKeeper ensemble, a registrar per memcached, and
/// the shop (its database in a temporary directory, two services and an admin).
/// </summary>
internal sealed class DemoCluster : IAsyncDisposable
{
    public const string Root = "/typedcache/demo";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("typedcache-demo-");

    public List<MemcachedServer> Memcached { get; } = [];

    public ZooKeeperEnsemble? ZooKeeper { get; private set; }

    public List<Registrar> Registrars { get; } = [];

    public List<ShopProcess> Shop { get; } = [];

    /// <summary>The shop's SQLite database, in a directory removed at the end.</summary>
    public string Database => Path.Combine(_directory.FullName, "shop.db");

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

    /// <summary>Starts the shop's services A and B and its admin, at once, and waits until all three are connected.</summary>
    public async Task<(ShopProcess A, ShopProcess B, ShopProcess Admin)> StartShopAsync(CancellationToken cancellationToken)
    {
        var starting = new[] { ("service", "A"), ("service", "B"), ("admin", "admin") }
            .Select(p => ShopProcess.StartAsync(p.Item1, p.Item2, Database, ZooKeeper!.ConnectString, Root, null, cancellationToken))
            .ToList();
        try
        {
            await Task.WhenAll(starting);
        }
        finally
        {
            // What did start is stopped by DisposeAsync, also when another failed or Ctrl+C came.
            Shop.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            ProcessIds.AddRange(Shop.Select(s => s.ProcessId));
        }

        return (Shop[0], Shop[1], Shop[2]);
    }

    /// <summary>
    /// Stops every process by its PID: the shop first, then the registrars (they remove their znodes), then memcached,
    /// then ZooKeeper; removes the shop's database.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var shop in Shop)
            await shop.DisposeAsync();
        foreach (var registrar in Registrars)
            await registrar.DisposeAsync();
        foreach (var server in Memcached)
            await server.DisposeAsync();
        if (ZooKeeper is not null)
            await ZooKeeper.DisposeAsync();
        _directory.Delete(recursive: true);
    }
}
