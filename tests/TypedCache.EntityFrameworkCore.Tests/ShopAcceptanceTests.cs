using System.Diagnostics;
using Shop;
using TypedCache.Testing;

namespace TypedCache.EntityFrameworkCore.Tests;

/// <summary>
/// Across processes on a real cluster (memcached + ZooKeeper) and a real SQLite database: the Shop sample's admin
/// process saves through EF Core, its service process caches; the interceptor's invalidation reaches the service.
/// </summary>
public sealed class ShopAcceptanceTests(ShopCluster shop) : IClassFixture<ShopCluster>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_price_saved_by_the_admin_is_not_served_stale_by_the_service_once_the_save_returned()
    {
        Assert.True((await shop.Service.SendAsync("product 42")).Flag("database"));
        var cached = await shop.Service.SendAsync("product 42");
        Assert.False(cached.Flag("database"));
        Assert.Equal("4.50", cached["price"]);

        await shop.Admin.SendAsync("price 42 5.25");

        Assert.True(await PollAsync(async () => (await shop.Service.SendAsync("product 42"))["price"] == "5.25"), "the service kept serving the old price of product 42");
    }

    [Fact]
    public async Task A_rolled_back_save_invalidates_nothing()
    {
        await shop.Service.SendAsync("product 7");
        await shop.Service.SendAsync("product 8");

        await shop.Admin.SendAsync("price-rollback 7 9.99");
        // Invalidations reach the service in order: once a later one has arrived, one for product 7 would have too.
        await shop.Admin.SendAsync("price 8 6.00");
        Assert.True(await PollAsync(async () => !(await shop.Service.SendAsync("peek 8")).Found), "the committed change of product 8 never reached the service");

        var seven = await shop.Service.SendAsync("peek 7");
        Assert.True(seven.Found, "product 7 was invalidated by a rolled-back save");
        Assert.Equal("4.50", seven["price"]);
        var read = await shop.Service.SendAsync("product 7");
        Assert.Equal("4.50", read["price"]);
        Assert.False(read.Flag("database"));
    }

    private static async Task<bool> PollAsync(Func<Task<bool>> condition)
    {
        var time = Stopwatch.StartNew();
        while (time.Elapsed < Deadline)
        {
            if (await condition())
                return true;
            await Task.Delay(5);
        }

        return false;
    }
}

/// <summary>A memcached server, a ZooKeeper server, a shop database, a shop service and a shop admin, for one test class.</summary>
public sealed class ShopCluster : IAsyncLifetime
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("typedcache-shop-");
    private MemcachedServer? _memcached;
    private ZooKeeperEnsemble? _zooKeeper;
    private ShopProcess? _service;
    private ShopProcess? _admin;

    public ShopProcess Service => _service!;

    public ShopProcess Admin => _admin!;

    public async Task InitializeAsync()
    {
        _memcached = await MemcachedServer.StartAsync();
        _zooKeeper = await ZooKeeperEnsemble.StartAsync();
        var database = Path.Combine(_directory.FullName, "shop.db");
        await ShopProcess.CreateDatabaseAsync(database, default);
        _service = await ShopProcess.StartAsync("service", "service", database, _zooKeeper.ConnectString, "/typedcache/shop-test", _memcached.Endpoint, default);
        _admin = await ShopProcess.StartAsync("admin", "admin", database, _zooKeeper.ConnectString, "/typedcache/shop-test", _memcached.Endpoint, default);
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
            await _service.DisposeAsync();
        if (_admin is not null)
            await _admin.DisposeAsync();
        if (_zooKeeper is not null)
            await _zooKeeper.DisposeAsync();
        if (_memcached is not null)
            await _memcached.DisposeAsync();
        _directory.Delete(recursive: true);
    }
}
