using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TypedCache.Cluster;
using TypedCache.Coordination;
using TypedCache.Testing;
using TypedCache.Tests.Caching;
using TypedCache.ZooKeeper;

namespace TypedCache.Tests.Diagnostics;

/// <summary>
/// Every TypedCache instrument moves on real servers, read with a <c>MeterListener</c>; the logs carry their event ids
/// and never a key or a value. The tests of this class run one after another: the allocation test must not hear the
/// listener of the other.
/// </summary>
public sealed class TelemetryTests(EngineServers servers) : IClassFixture<EngineServers>
{
    private const string Type = "Probe";
    private const string Context = "TelemetryCache";
    private const string TypeTag = "typedcache.type";
    private const string ContextTag = "typedcache.context";

    [Fact]
    public async Task Every_instrument_moves_and_the_logs_hold_no_key_or_value()
    {
        using var recorder = new InstrumentRecorder();
        var logs = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var name = EngineServers.NewName();
        var root = "/typedcache/" + name;
        await using var own = await MemcachedServer.StartAsync();
        CacheContextOptionsBuilder<TelemetryCache> Builder() => new CacheContextOptionsBuilder<TelemetryCache>().UseKeyPrefix(name).UseLoggerFactory(loggers);
        TelemetryCache Shared(TimeProvider? time = null) =>
            new(Builder().UseMemcached(servers.Memcached.Endpoint).UseZooKeeper(servers.ZooKeeper.ConnectString, root).UseTimeProvider(time ?? TimeProvider.System).Options);

        await using var a = Shared();
        await using var b = Shared();

        // A miss everywhere: a wins the lease and loads; then an L1 hit in a and an L2 hit in b.
        await a.Probes.GetOrLoadAsync(424242, static (id, _) => new ValueTask<Probe?>(new Probe(id, "secret-value")));
        await a.Probes.GetOrLoadAsync(424242, static (_, _) => throw new InvalidOperationException("an L1 hit calls no loader"));
        Assert.Equal("secret-value", (await b.Probes.GetAsync(424242))?.Name);
        Assert.Single(await b.Probes.GetManyAsync([424242, 5]));

        // b waits on a's lease while a's loader runs.
        var gate = new TaskCompletionSource<Probe?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = a.Probes.GetOrLoadAsync(7, (_, _) => new ValueTask<Probe?>(gate.Task));
        await EngineServers.PollAsync(() => Task.FromResult(recorder.Count("typedcache.loader.calls", TypeTag, Type) == 2), "a's second loader runs");
        var waiting = b.Probes.GetOrLoadAsync(7, static (id, _) => new ValueTask<Probe?>(new Probe(id, "b loaded")));
        await EngineServers.PollAsync(() => Task.FromResult(recorder.Count("typedcache.lease.waits", TypeTag, Type) == 1), "b waits on a's lease");
        gate.SetResult(new Probe(7, "a loaded"));
        await slow;
        Assert.Equal("a loaded", (await waiting)?.Name);

        // An invalidation goes through ZooKeeper to both contexts; a lock is taken and released.
        await a.Probes.InvalidateAsync(424242);
        await EngineServers.PollAsync(() => Task.FromResult(recorder.Count("typedcache.invalidations.received", TypeTag, Type) >= 2), "both contexts receive the invalidation");
        await using (await a.Probes.LockAsync(424242, TimeSpan.FromSeconds(5)))
        {
        }

        // A value past its TTL whose loader fails is served stale (fail-safe).
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var c = Shared(time);
        await c.Probes.SetAsync(new Probe(9, "secret-old"));
        time.Advance(TimeSpan.FromSeconds(61));
        var stale = await c.Probes.GetOrLoadAsync(9, static (_, _) => throw new InvalidOperationException("secret-value source down"));
        Assert.Equal("secret-old", stale?.Name);

        // A node of a static ring goes down and comes back.
        await using (var d = new TelemetryCache(Builder().UseMemcached(own.Endpoint).Options))
        {
            await d.Probes.GetAsync(1);
            await own.KillAsync();
            var next = 0;
            await EngineServers.PollAsync(async () => await d.Probes.GetAsync(next++) is null && recorder.Count("typedcache.node.down", ContextTag, Context) == 1, "the killed node is marked down");
            await own.StartAsync();
            await EngineServers.PollAsync(() => Task.FromResult(recorder.Count("typedcache.node.up", ContextTag, Context) == 1), "the restarted node answers again");
        }

        // A ring that follows ZooKeeper membership is rebuilt when a node registers.
        await using var zooKeeper = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectString = servers.ZooKeeper.ConnectString });
        var coordination = await CoordinationRoot.OpenAsync(zooKeeper, root + "-ring");
        await using var first = MemcachedRegistrar.Start(coordination, new RingNode(servers.Memcached.Host, servers.Memcached.Port));
        await EngineServers.PollAsync(() => Task.FromResult(first.IsRegistered), "the first node registers");
        await using var e = new TelemetryCache(Builder().UseZooKeeper(servers.ZooKeeper.ConnectString, root + "-ring").Options);
        await e.Probes.GetAsync(1);
        await using var second = MemcachedRegistrar.Start(coordination, new RingNode(own.Host, own.Port));
        await EngineServers.PollAsync(() => Task.FromResult(recorder.Count("typedcache.ring.rebuilds", ContextTag, Context) >= 1), "the ring is rebuilt");

        recorder.Observe();
        Assert.Contains(2, recorder.Values("typedcache.ring.size", ContextTag, Context));
        var state = recorder.Last("typedcache.zookeeper.state", ContextTag, Context);
        Assert.Equal(1, state?.Value);
        Assert.Equal("connected", state?.Tags["typedcache.zookeeper.state"]);

        foreach (var instrument in new[]
        {
            "typedcache.l1.hits", "typedcache.l1.misses", "typedcache.l2.hits", "typedcache.l2.misses", "typedcache.loader.calls",
            "typedcache.loader.duration", "typedcache.lease.wins", "typedcache.lease.waits", "typedcache.stale.served",
            "typedcache.invalidations.sent", "typedcache.invalidations.received", "typedcache.invalidation.lag", "typedcache.lock.wait",
        })
        {
            Assert.True(recorder.Count(instrument, TypeTag, Type) > 0, $"{instrument} did not move for {Type}");
        }

        Assert.Equal(1, recorder.Count("typedcache.stale.served", "typedcache.stale.reason", "fail_safe"));
        Assert.Equal(1, recorder.Count("typedcache.lease.waits", TypeTag, Type));
        Assert.True(recorder.Sum("typedcache.l1.hits", TypeTag, Type) >= 1);
        Assert.True(recorder.Activities("typedcache.load", Type) >= 2, recorder.ActivityNames());
        Assert.True(recorder.Activities("typedcache.l2.get", Type) >= 1, recorder.ActivityNames());
        Assert.True(recorder.Activities("typedcache.l2.get_many", Type) >= 1, recorder.ActivityNames());
        foreach (var eventId in new[] { 5100, 5300, 5301, 5302, 5400, 5403 })
        {
            Assert.True(logs.Has(eventId), $"no log entry with event id {eventId}");
        }

        Assert.DoesNotContain(logs.Entries, entry => entry.Message.Contains("424242", StringComparison.Ordinal) || entry.Message.Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_L1_hit_allocates_nothing()
    {
        await using var cache = new TelemetryCache(new CacheContextOptionsBuilder<TelemetryCache>()
            .UseKeyPrefix(EngineServers.NewName()).UseMemcached(servers.Memcached.Endpoint).Options);
        await cache.Probes.SetAsync(new Probe(1, "one"));
        Func<int, CancellationToken, ValueTask<Probe?>> never = static (_, _) => throw new InvalidOperationException("an L1 hit calls no loader");
        for (var i = 0; i < 10; i++)
        {
            await cache.Probes.GetOrLoadAsync(1, never);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var hit = cache.Probes.GetOrLoadAsync(1, never);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(hit.IsCompletedSuccessfully);
        Assert.Equal("one", (await hit)?.Name);
        Assert.Equal(0, allocated);
    }
}
