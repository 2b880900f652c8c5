using TypedCache.Memcached;
using TypedCache.Testing;
using TypedCache.TestWorker;

namespace TypedCache.Tests.Caching;

/// <summary>
/// A read that starts after <c>InvalidateAsync</c> returned never gets a value from before it: it does not join a load
/// that started before it, nor, in another service whose invalidation event has not arrived, take the outcome of a
/// read-through whose L2 read was sent before it began unless memcached confirmed that outcome after it joined.
/// </summary>
public sealed class InvalidatedFlightTests(EngineServers servers) : IClassFixture<EngineServers>
{
    public static TheoryData<bool> Engines => new() { true, false };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Engines))]
    public async Task A_read_after_an_invalidation_loads_afresh_while_the_earlier_caller_gets_the_old_value(bool distributed)
    {
        await using var cache = distributed
            ? servers.Context(EngineServers.NewName(), zooKeeper: true)
            : new EngineCache(new CacheContextOptionsBuilder<EngineCache>().UseInMemory().Options);
        var first = new GatedLoad(cache, new Item(3, "old", 1));
        await first.Loading;

        await cache.Items.InvalidateAsync(3);
        var second = new CountedLoads();
        var read = await second.ReadAsync(cache, new Item(3, "new", 2), batch: false);
        first.Release();

        Assert.Equal(new Item(3, "new", 2), read);
        Assert.Equal(new Item(3, "old", 1), await first.Result);
        Assert.Equal(1, second.Calls);
        Assert.Equal(new Item(3, "new", 2), await cache.Items.GetAsync(3));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_after_another_process_set_the_key_loads_afresh()
    {
        var prefix = EngineServers.NewName();
        await using var reader = servers.Context(prefix, zooKeeper: true);
        await using var writer = servers.Context(prefix, zooKeeper: true);
        await reader.Items.GetOrLoadAsync(5, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "marker", 0)));
        var first = new GatedLoad(reader, new Item(4, "old", 1));
        await first.Loading;

        await writer.Items.SetAsync(new Item(4, "new", 2));
        await writer.Items.InvalidateAsync(5);

        // Events arrive in order: once the marker left the reader's L1, so did key 4's load in flight.
        await EngineServers.PollAsync(async () => await reader.Items.GetAsync(5) is null, "the writer's events reach the reader");
        var second = await new CountedLoads().ReadAsync(reader, new Item(4, "loaded", 3), batch: false);
        first.Release();

        Assert.Equal(new Item(4, "new", 2), second);
        Assert.Equal(new Item(4, "old", 1), await first.Result);
        Assert.Equal(new Item(4, "new", 2), await reader.Items.GetAsync(4));
    }

    /// <summary>
    /// Service B has no ZooKeeper, so A's invalidation never reaches it as an event: only memcached's CAS can tell
    /// B's load in flight that it lost.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task A_read_that_joins_another_services_superseded_load_late_loads_again()
    {
        var prefix = EngineServers.NewName();
        await using var serviceA = servers.Context(prefix);
        await using var serviceB = servers.Context(prefix);
        var first = new GatedLoad(serviceB, new Item(6, "old", 1));
        await first.Loading;

        await serviceA.Items.InvalidateAsync(6);
        var loads = new CountedLoads();
        var second = loads.ReadAsync(serviceB, new Item(6, "new", 2), batch: false);
        Assert.False(second.IsCompleted, "the second read joins the first one's flight");
        first.Release();

        Assert.Equal(new Item(6, "old", 1), await first.Result);
        Assert.Equal(new Item(6, "new", 2), await second);
        Assert.Equal(1, loads.Calls);
        Assert.Equal(new Item(6, "new", 2), await serviceA.Items.GetAsync(6));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_that_joins_a_load_late_takes_its_value_once_memcached_confirmed_it()
    {
        await using var cache = servers.Context(EngineServers.NewName());
        await using var stats = await MemcachedClient.ConnectAsync(servers.Memcached.Host, servers.Memcached.Port);
        var first = new GatedLoad(cache, new Item(7, "loaded", 1));
        await first.Loading;

        var loads = new CountedLoads();
        var second = loads.ReadAsync(cache, new Item(7, "again", 2), batch: false);
        var many = loads.ReadAsync(cache, new Item(7, "again", 2), batch: true);
        var reads = await GetsAsync(stats);
        first.Release();

        Assert.Equal(new Item(7, "loaded", 1), await first.Result);
        Assert.Equal(new Item(7, "loaded", 1), await second);
        Assert.Equal(new Item(7, "loaded", 1), await many);
        Assert.Equal(0, loads.Calls);
        Assert.Equal(reads, await GetsAsync(stats));
    }

    /// <summary>
    /// B's first read is answered by memcached with the old value, and the answer is held on the way back while A
    /// invalidates; a read that B begins after that joins the first one late and must read again.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_read_that_joins_a_hit_answered_before_another_services_invalidation_reads_again(bool batch)
    {
        var prefix = EngineServers.NewName();
        await using var relay = await FaultyRelay.StartAsync(servers.Memcached.Host, servers.Memcached.Port);
        await using var serviceA = servers.Context(prefix);
        await using var serviceB = await RelayedService.OpenAsync(prefix, relay);
        await serviceA.Items.SetAsync(new Item(8, "old", 1));

        var answered = RelayedService.HoldAnswers(relay);
        var first = serviceB.Items.GetOrLoadAsync(8, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "first loader", 0))).AsTask();
        await RelayedService.AnsweredAsync(relay, answered, "memcached answered the first read");

        await serviceA.Items.InvalidateAsync(8);
        var second = new CountedLoads().ReadAsync(serviceB, new Item(8, "new", 2), batch);
        Assert.False(second.IsCompleted, "the second read joins the first one's flight");
        relay.ToClient.Paused = false;

        Assert.Equal(new Item(8, "old", 1), await first);
        Assert.Equal(new Item(8, "new", 2), await second);
    }

    /// <summary>
    /// B's load is written to memcached, which accepts it, and the answer is held on the way back while A invalidates;
    /// a read that B begins after that joins the load after its confirming write was sent, so the confirmation predates
    /// the invalidation and the read must not take the loaded value.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_read_that_joins_a_load_after_its_write_was_sent_reads_again(bool batch)
    {
        var prefix = EngineServers.NewName();
        await using var relay = await FaultyRelay.StartAsync(servers.Memcached.Host, servers.Memcached.Port);
        await using var serviceA = servers.Context(prefix);
        await using var serviceB = await RelayedService.OpenAsync(prefix, relay);
        var first = new GatedLoad(serviceB, new Item(10, "old", 1));
        await first.Loading;

        var answered = RelayedService.HoldAnswers(relay);
        first.Release();
        await RelayedService.AnsweredAsync(relay, answered, "memcached answered the first load's write");

        await serviceA.Items.InvalidateAsync(10);
        var second = new CountedLoads().ReadAsync(serviceB, new Item(10, "new", 2), batch);
        Assert.False(second.IsCompleted, "the second read joins the first one's flight");
        relay.ToClient.Paused = false;

        Assert.Equal(new Item(10, "old", 1), await first.Result);
        Assert.Equal(new Item(10, "new", 2), await second);
    }

    /// <summary>
    /// B waits for A's lease while C invalidates the key: A's write will fail, so B's next poll wins the lease anew,
    /// loads and writes, instead of waiting out <see cref="DistributedCacheOptions.LeaseWait"/> and loading without writing.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task A_lease_waiter_wins_the_lease_the_holder_lost_to_an_invalidation_and_writes_its_load()
    {
        var prefix = EngineServers.NewName();
        await using var relay = await FaultyRelay.StartAsync(servers.Memcached.Host, servers.Memcached.Port);
        await using var holder = servers.Context(prefix);
        await using var invalidator = servers.Context(prefix);
        await using var waiter = await RelayedService.OpenAsync(prefix, relay, options => options.LeaseWait = TimeSpan.FromSeconds(40));
        var held = new GatedLoad(holder, new Item(12, "holder", 1));
        await held.Loading;

        var answered = relay.ToClient.BytesReceived;
        var waited = new CountedLoads().ReadAsync(waiter, new Item(12, "waiter", 2), batch: false);
        await RelayedService.AnsweredAsync(relay, answered, "the waiter's lease read was answered");
        await invalidator.Items.InvalidateAsync(12);

        Assert.Equal(new Item(12, "waiter", 2), await waited);
        Assert.Equal(new Item(12, "waiter", 2), await servers.ReadL2Async(prefix, 12));
        held.Release();
        Assert.Equal(new Item(12, "holder", 1), await held.Result);
        Assert.Equal(new Item(12, "waiter", 2), await servers.ReadL2Async(prefix, 12));
    }

    /// <summary>
    /// A plain read of an invalidated item is given its lease by memcached, and a loader can fail: either way the lease
    /// is handed back, so the next read-through, in another service, wins it and writes its load instead of waiting
    /// out <see cref="DistributedCacheOptions.LeaseWait"/> and loading without writing.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_lease_won_by_a_plain_read_or_a_failed_loader_is_handed_back(bool failedLoader)
    {
        var prefix = EngineServers.NewName();
        await using var serviceA = servers.Context(prefix);
        await using var serviceB = servers.Context(prefix, configure: options => options.LeaseWait = TimeSpan.FromSeconds(40));
        await serviceA.Items.SetAsync(new Item(14, "old", 1));
        await serviceA.Items.InvalidateAsync(14);

        if (failedLoader)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(async () =>
                await serviceA.Items.GetOrLoadAsync(14, (_, _) => throw new InvalidOperationException("the database is away")));
        }
        else
        {
            Assert.Null(await serviceA.Items.GetAsync(14));
        }

        Assert.Equal(new Item(14, "new", 2), await new CountedLoads().ReadAsync(serviceB, new Item(14, "new", 2), batch: false));
        Assert.Equal(new Item(14, "new", 2), await servers.ReadL2Async(prefix, 14));
    }

    private static async Task<long> GetsAsync(MemcachedClient stats) => long.Parse((await stats.GetStatsAsync())["cmd_get"], System.Globalization.CultureInfo.InvariantCulture);
}
