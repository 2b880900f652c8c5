using TypedCache.Coordination;
using TypedCache.Testing;
using TypedCache.TestWorker;

namespace TypedCache.Tests.Caching;

/// <summary>Two memcached servers and a three-member ZooKeeper ensemble for the failure tests; stopped by PID.</summary>
public sealed class FailureServers : IAsyncLifetime
{
    public MemcachedServer[] Memcached { get; private set; } = [];

    public ZooKeeperEnsemble ZooKeeper { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Memcached = [await MemcachedServer.StartAsync(), await MemcachedServer.StartAsync()];
        ZooKeeper = await ZooKeeperEnsemble.StartAsync(3);
    }

    public async Task DisposeAsync()
    {
        foreach (var server in Memcached)
        {
            await server.DisposeAsync();
        }

        await ZooKeeper.DisposeAsync();
    }

    public EngineCache Context(string prefix, bool zooKeeper = true, Action<DistributedCacheOptions>? configure = null)
    {
        var builder = new CacheContextOptionsBuilder<EngineCache>()
            .UseKeyPrefix(prefix)
            .UseMemcached([.. Memcached.Select(m => m.Endpoint)], configure ?? (o => o.InvalidationSendTimeout = TimeSpan.FromMilliseconds(200)));
        return new(zooKeeper ? builder.UseZooKeeper(ZooKeeper.ConnectString, "/typedcache/" + prefix).Options : builder.Options);
    }
}

/// <summary>What callers see when servers fail: a memcached node, the ZooKeeper leader, the whole ensemble.</summary>
public sealed class FailureTests(FailureServers servers) : IClassFixture<FailureServers>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 90_000)]
    public async Task A_memcached_node_killed_under_load_costs_callers_no_exception()
    {
        var prefix = EngineServers.NewName();
        await using var cache = servers.Context(prefix);
        var victim = servers.Memcached[1];
        var completed = 0;
        var failures = new List<Exception>();
        var killed = new TaskCompletionSource();
        try
        {
            var load = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; i < 600; i++)
                {
                    var id = (worker * 600) + i;
                    try
                    {
                        var item = await cache.Items.GetOrLoadAsync(id % 200, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "db", 1)));
                        Assert.Equal(id % 200, item!.Id);
                    }
                    catch (Exception exception)
                    {
                        lock (failures)
                        {
                            failures.Add(exception);
                        }
                    }

                    if (Interlocked.Increment(ref completed) == 1000)
                    {
                        _ = Task.Run(async () =>
                        {
                            await victim.KillAsync();
                            killed.SetResult();
                        });
                    }
                }
            })).ToArray();
            await Task.WhenAll(load);

            await killed.Task;

            Assert.Empty(failures);
            Assert.Equal(4800, completed);
        }
        finally
        {
            if (!victim.IsRunning)
            {
                await victim.StartAsync();
            }
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task Killing_the_ZooKeeper_leader_loses_no_invalidation()
    {
        var prefix = EngineServers.NewName();
        await using var writer = servers.Context(prefix);
        await using var reader = servers.Context(prefix);
        var ids = Enumerable.Range(1, 20).ToArray();
        foreach (var id in ids)
        {
            await reader.Items.GetOrLoadAsync(id, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "v1", 1)));
        }

        var leader = await servers.ZooKeeper.WaitForLeaderAsync(Deadline);
        await servers.ZooKeeper.KillAsync(leader);
        try
        {
            foreach (var id in ids)
            {
                await writer.Items.InvalidateAsync(id);
            }

            foreach (var id in ids)
            {
                await EngineServers.PollAsync(async () => await reader.Items.GetAsync(id) is null, $"key {id} leaves the reader's L1");
            }
        }
        finally
        {
            await servers.ZooKeeper.StartAsync(leader);
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task With_the_whole_ensemble_stopped_the_cache_serves_and_queued_invalidations_arrive_after_restart()
    {
        var prefix = EngineServers.NewName();
        // The strictest settings: every call would wait for ZooKeeper, the longest, if it were connected.
        await using var writer = servers.Context(prefix, configure: o =>
        {
            o.AwaitInvalidationBroadcast = true;
            o.InvalidationSendTimeout = TimeSpan.FromSeconds(5);
        });
        await using var reader = servers.Context(prefix);
        await reader.Items.GetOrLoadAsync(1, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "v1", 1)));
        await reader.Items.GetOrLoadAsync(2, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "v1", 1)));
        var typeKey = reader.Items.KeyFor(2);
        var members = Enumerable.Range(0, servers.ZooKeeper.Count).ToArray();
        foreach (var member in members)
        {
            await servers.ZooKeeper.StopAsync(member);
        }

        try
        {
            // The writer notices the loss when a request fails: until then a lock attempt times out instead.
            await EngineServers.PollAsync(
                async () =>
                {
                    try
                    {
                        await (await writer.Items.LockAsync(1, TimeSpan.FromMilliseconds(200))).DisposeAsync();
                        return false;
                    }
                    catch (LockTimeoutException)
                    {
                        return false;
                    }
                    catch (InvalidOperationException refused)
                    {
                        Assert.Contains("ZooKeeper", refused.Message);
                        return true;
                    }
                },
                "the writer refuses locks with ZooKeeper away");

            // With ZooKeeper away nothing waits for it: each call returns well inside the 5 s send timeout.
            var returnsAtOnce = TimeSpan.FromSeconds(2);
            await writer.Items.SetAsync(new Item(3, "v2", 2)).AsTask().WaitAsync(returnsAtOnce);
            await writer.Items.InvalidateAsync(1).AsTask().WaitAsync(returnsAtOnce);
            await writer.Items.InvalidateAllAsync().AsTask().WaitAsync(returnsAtOnce);

            Assert.Null(await writer.Items.GetAsync(1));
            Assert.Equal(new Item(1, "v1", 1), await reader.Items.GetAsync(1));
            Assert.Equal(new Item(5, "db", 1), await reader.Items.GetOrLoadAsync(5, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "db", 1))));
            Assert.Equal(new Item(5, "db", 1), await reader.Items.GetAsync(5));
        }
        finally
        {
            // Together: a member waits for a quorum to rejoin.
            await Task.WhenAll(members.Select(member => servers.ZooKeeper.StartAsync(member)));
        }

        await EngineServers.PollAsync(async () => await reader.Items.GetAsync(1) is null, "the queued key invalidation reaches the reader");
        await EngineServers.PollAsync(() => Task.FromResult(reader.Items.KeyFor(2) != typeKey), "the queued type bump reaches the reader");
        Assert.Null(await reader.Items.GetAsync(2));
    }
}
