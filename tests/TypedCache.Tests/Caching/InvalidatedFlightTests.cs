using TypedCache.Testing;
using TypedCache.TestWorker;

namespace TypedCache.Tests.Caching;

/// <summary>
/// A read that starts after <c>InvalidateAsync</c> returned never gets a value from before it: it does not join a load
/// that started before it, nor, in another service whose invalidation event has not arrived, take the outcome of a
/// read-through whose L2 read was sent before it began unless memcached confirmed that outcome.
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
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var first = cache.Items.GetOrLoadAsync(3, async (key, _) =>
        {
            Interlocked.Increment(ref calls);
            loading.TrySetResult();
            await release.Task;
            return new Item(key, "old", 1);
        }).AsTask();
        await loading.Task;

        await cache.Items.InvalidateAsync(3);
        var second = await cache.Items.GetOrLoadAsync(3, (key, _) =>
        {
            Interlocked.Increment(ref calls);
            return ValueTask.FromResult<Item?>(new Item(key, "new", 2));
        });
        release.SetResult();

        Assert.Equal(new Item(3, "new", 2), second);
        Assert.Equal(new Item(3, "old", 1), await first);
        Assert.Equal(2, calls);
        Assert.Equal(new Item(3, "new", 2), await cache.Items.GetAsync(3));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_after_another_process_set_the_key_loads_afresh()
    {
        var prefix = EngineServers.NewName();
        await using var reader = servers.Context(prefix, zooKeeper: true);
        await using var writer = servers.Context(prefix, zooKeeper: true);
        await reader.Items.GetOrLoadAsync(5, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "marker", 0)));
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = reader.Items.GetOrLoadAsync(4, async (key, _) =>
        {
            loading.TrySetResult();
            await release.Task;
            return new Item(key, "old", 1);
        }).AsTask();
        await loading.Task;

        await writer.Items.SetAsync(new Item(4, "new", 2));
        await writer.Items.InvalidateAsync(5);

        // Events arrive in order: once the marker left the reader's L1, so did key 4's load in flight.
        await EngineServers.PollAsync(async () => await reader.Items.GetAsync(5) is null, "the writer's events reach the reader");
        var second = await reader.Items.GetOrLoadAsync(4, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "loaded", 3)));
        release.SetResult();

        Assert.Equal(new Item(4, "new", 2), second);
        Assert.Equal(new Item(4, "old", 1), await first);
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
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = serviceB.Items.GetOrLoadAsync(6, async (key, _) =>
        {
            loading.TrySetResult();
            await release.Task;
            return new Item(key, "old", 1);
        }).AsTask();
        await loading.Task;

        await serviceA.Items.InvalidateAsync(6);
        var secondLoads = 0;
        var second = serviceB.Items.GetOrLoadAsync(6, (key, _) =>
        {
            Interlocked.Increment(ref secondLoads);
            return ValueTask.FromResult<Item?>(new Item(key, "new", 2));
        }).AsTask();
        Assert.False(second.IsCompleted, "the second read joins the first one's flight");
        release.SetResult();

        Assert.Equal(new Item(6, "old", 1), await first);
        Assert.Equal(new Item(6, "new", 2), await second);
        Assert.Equal(1, secondLoads);
        Assert.Equal(new Item(6, "new", 2), await serviceA.Items.GetAsync(6));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_that_joins_a_load_late_takes_its_value_once_memcached_confirmed_it()
    {
        var prefix = EngineServers.NewName();
        await using var cache = servers.Context(prefix);
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = cache.Items.GetOrLoadAsync(7, async (key, _) =>
        {
            loading.TrySetResult();
            await release.Task;
            return new Item(key, "loaded", 1);
        }).AsTask();
        await loading.Task;

        var secondLoads = 0;
        var second = cache.Items.GetOrLoadAsync(7, (key, _) =>
        {
            Interlocked.Increment(ref secondLoads);
            return ValueTask.FromResult<Item?>(new Item(key, "again", 2));
        }).AsTask();
        var many = cache.Items.GetOrLoadManyAsync([7], (keys, _) =>
        {
            Interlocked.Increment(ref secondLoads);
            return ValueTask.FromResult<IEnumerable<Item>>([new Item(7, "again", 2)]);
        }).AsTask();
        release.SetResult();

        Assert.Equal(new Item(7, "loaded", 1), await first);
        Assert.Equal(new Item(7, "loaded", 1), await second);
        Assert.Equal(new Item(7, "loaded", 1), (await many)[7]);
        Assert.Equal(0, secondLoads);
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
        await using var serviceB = new EngineCache(new CacheContextOptionsBuilder<EngineCache>()
            .UseKeyPrefix(prefix)
            .UseMemcached([relay.Endpoint])
            .Options);
        await serviceA.Items.SetAsync(new Item(8, "old", 1));
        Assert.Null(await serviceB.Items.GetAsync(9));

        relay.ToClient.Paused = true;
        var answered = relay.ToClient.BytesReceived;
        var first = serviceB.Items.GetOrLoadAsync(8, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "first loader", 0))).AsTask();
        await EngineServers.PollAsync(() => Task.FromResult(relay.ToClient.BytesReceived > answered), "memcached answered the first read");

        await serviceA.Items.InvalidateAsync(8);
        var second = batch
            ? serviceB.Items.GetOrLoadManyAsync([8], (keys, _) => ValueTask.FromResult<IEnumerable<Item>>([new Item(8, "new", 2)])).AsTask().ContinueWith(t => (Item?)t.Result[8], TaskScheduler.Default)
            : serviceB.Items.GetOrLoadAsync(8, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "new", 2))).AsTask();
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
        await using var serviceB = new EngineCache(new CacheContextOptionsBuilder<EngineCache>()
            .UseKeyPrefix(prefix)
            .UseMemcached([relay.Endpoint])
            .Options);
        Assert.Null(await serviceB.Items.GetAsync(11));
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = serviceB.Items.GetOrLoadAsync(10, async (key, _) =>
        {
            loading.TrySetResult();
            await release.Task;
            return new Item(key, "old", 1);
        }).AsTask();
        await loading.Task;

        relay.ToClient.Paused = true;
        var answered = relay.ToClient.BytesReceived;
        release.SetResult();
        await EngineServers.PollAsync(() => Task.FromResult(relay.ToClient.BytesReceived > answered), "memcached answered the first load's write");

        await serviceA.Items.InvalidateAsync(10);
        var second = batch
            ? serviceB.Items.GetOrLoadManyAsync([10], (keys, _) => ValueTask.FromResult<IEnumerable<Item>>([new Item(10, "new", 2)])).AsTask().ContinueWith(t => (Item?)t.Result[10], TaskScheduler.Default)
            : serviceB.Items.GetOrLoadAsync(10, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "new", 2))).AsTask();
        Assert.False(second.IsCompleted, "the second read joins the first one's flight");
        relay.ToClient.Paused = false;

        Assert.Equal(new Item(10, "old", 1), await first);
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
        await using var waiter = new EngineCache(new CacheContextOptionsBuilder<EngineCache>()
            .UseKeyPrefix(prefix)
            .UseMemcached([relay.Endpoint], options => options.LeaseWait = TimeSpan.FromSeconds(40))
            .Options);
        Assert.Null(await waiter.Items.GetAsync(13));
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = holder.Items.GetOrLoadAsync(12, async (key, _) =>
        {
            loading.TrySetResult();
            await release.Task;
            return new Item(key, "holder", 1);
        }).AsTask();
        await loading.Task;

        var answered = relay.ToClient.BytesReceived;
        var waited = waiter.Items.GetOrLoadAsync(12, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "waiter", 2))).AsTask();
        await EngineServers.PollAsync(() => Task.FromResult(relay.ToClient.BytesReceived > answered), "the waiter's lease read was answered");
        await invalidator.Items.InvalidateAsync(12);

        Assert.Equal(new Item(12, "waiter", 2), await waited);
        Assert.Equal(new Item(12, "waiter", 2), await invalidator.Items.GetAsync(12));
        release.SetResult();
        Assert.Equal(new Item(12, "holder", 1), await held);
        Assert.Equal(new Item(12, "waiter", 2), await invalidator.Items.GetAsync(12));
    }
}
