using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TypedCache.Testing;
using TypedCache.Tests.Caching;
using TypedCache.TestWorker;

namespace TypedCache.Tests.Api;

/// <summary>A context registered from configuration on a real memcached server and ZooKeeper member, each behind a relay that counts connections.</summary>
public sealed class DependencyInjectionServerTests(EngineServers servers) : IClassFixture<EngineServers>
{
    [Fact]
    public async Task A_configured_context_shares_memcached_and_its_disposal_closes_every_connection()
    {
        await using var memcached = await FaultyRelay.StartAsync(servers.Memcached.Host, servers.Memcached.Port);
        await using var zooKeeper = await FaultyRelay.StartAsync("127.0.0.1", servers.ZooKeeper.ClientPort(0));
        var name = EngineServers.NewName();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedCache:ZooKeeper:ConnectString"] = zooKeeper.Endpoint,
            ["TypedCache:ZooKeeper:Root"] = "/typedcache/" + name,
            ["TypedCache:Memcached:Nodes:0"] = memcached.Endpoint,
            ["TypedCache:KeyPrefix"] = name,
            ["TypedCache:LocalCache:MaxEntries"] = "100",
        }).Build();
        var first = new ServiceCollection().AddTypedCache<EngineCache>(configuration.GetSection("TypedCache")).BuildServiceProvider();
        await using var second = new ServiceCollection().AddTypedCache<EngineCache>(configuration.GetSection("TypedCache")).BuildServiceProvider();
        var loads = 0;

        var loaded = await first.GetRequiredService<EngineCache>().Items.GetOrLoadAsync(5, (id, _) =>
        {
            loads++;
            return new ValueTask<Item?>(new Item(id, "five", 1));
        });
        var shared = await second.GetRequiredService<EngineCache>().Items.GetAsync(5);

        Assert.Equal(1, loads);
        Assert.Equal(loaded, shared);
        Assert.Equal(2, memcached.ConnectionCount);
        Assert.Equal(2, zooKeeper.ConnectionCount);

        await first.DisposeAsync();

        await EngineServers.PollAsync(() => Task.FromResult(memcached.ConnectionCount == 1 && zooKeeper.ConnectionCount == 1), "the first context's connections close");
    }
}
