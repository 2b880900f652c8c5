using TypedCache.Testing;
using TypedCache.TestWorker;

namespace TypedCache.Tests.Caching;

/// <summary>One memcached server and one ZooKeeper member shared by a test class; stopped by PID when the class ends.</summary>
public sealed class EngineServers : IAsyncLifetime
{
    public MemcachedServer Memcached { get; private set; } = null!;

    public ZooKeeperEnsemble ZooKeeper { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Memcached = await MemcachedServer.StartAsync();
        ZooKeeper = await ZooKeeperEnsemble.StartAsync(1);
    }

    public async Task DisposeAsync()
    {
        await Memcached.DisposeAsync();
        await ZooKeeper.DisposeAsync();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, failing after 30 s with <paramref name="what"/>.</summary>
    public static async Task PollAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Yield();
        }
    }

    /// <summary>What memcached holds for <paramref name="key"/>, read by a context of its own (its L1 is empty).</summary>
    public async Task<Item?> ReadL2Async(string prefix, int key)
    {
        await using var reader = Context(prefix);
        return await reader.Items.GetAsync(key);
    }

    /// <summary>A ZooKeeper root and key prefix of their own, so that tests sharing the servers do not see each other.</summary>
    public static string NewName() => "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A context on the shared memcached server (and ZooKeeper when <paramref name="zooKeeper"/>).</summary>
    public EngineCache Context(string prefix, bool zooKeeper = false, TimeProvider? time = null, Action<DistributedCacheOptions>? configure = null)
    {
        var builder = new CacheContextOptionsBuilder<EngineCache>()
            .UseKeyPrefix(prefix)
            .UseMemcached([Memcached.Endpoint], configure);
        if (zooKeeper)
        {
            builder.UseZooKeeper(ZooKeeper.ConnectString, "/typedcache/" + prefix);
        }

        if (time is not null)
        {
            builder.UseTimeProvider(time);
        }

        return new EngineCache(builder.Options);
    }
}
