using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using TypedCache.Memcached;
using TypedCache.TestWorker;

namespace TypedCache.Tests.Caching;

/// <summary>Soft and hard loader timeouts and eager refresh of the memcached engine, on a real memcached server.</summary>
public sealed class TimeoutTests(EngineServers servers) : IClassFixture<EngineServers>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Advances fake time by <paramref name="step"/> until <paramref name="task"/> completes (the engine's timer may start after the call returns).</summary>
    private static async Task AdvanceUntilDoneAsync(FakeTimeProvider time, Task task, TimeSpan step)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!task.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the loader timeout to fire");
            time.Advance(step);
            await Task.Yield();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Past_the_soft_timeout_the_stale_value_is_served_and_the_load_lands_in_the_background()
    {
        var prefix = EngineServers.NewName();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var cache = servers.Context(prefix, time: time, configure: o => o.SoftTimeout = TimeSpan.FromSeconds(1));
        await WriteThenAgeAsync(cache, time, 6);

        var loader = new GatedLoader<Item?>();
        var get = cache.Items.GetOrLoadAsync(6, (_, _) => loader.Load()).AsTask();

        // Time moves only once the stale value was read, so it cannot pass the fail-safe window before the read.
        await loader.Started.Task.WaitAsync(Deadline);
        await AdvanceUntilDoneAsync(time, get, TimeSpan.FromMilliseconds(500));

        Assert.Equal(new Item(6, "stale", 1), await get);
        Assert.Equal(1, loader.Calls);
        Assert.False(loader.Release.Task.IsCompleted);

        loader.Release.SetResult(new Item(6, "fresh", 2));
        await EngineServers.PollAsync(async () => (await cache.Items.GetAsync(6))?.Name == "fresh", "the background load lands in L1");
        await using var other = servers.Context(prefix);
        Assert.Equal(new Item(6, "fresh", 2), await other.Items.GetAsync(6));
    }

    [Fact(Timeout = 60_000)]
    public async Task Past_the_hard_timeout_without_a_stale_value_the_caller_gets_a_timeout_and_the_load_still_lands()
    {
        var prefix = EngineServers.NewName();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var cache = servers.Context(prefix, time: time, configure: SoftAndHard);
        var release = new TaskCompletionSource<Item?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var get = cache.Items.GetOrLoadAsync(12, (_, _) => new ValueTask<Item?>(release.Task)).AsTask();

        // The soft timeout applies only with a stale value: 1.5 s of fake time must not end the wait.
        time.Advance(TimeSpan.FromMilliseconds(1500));
        await Task.Yield();
        Assert.False(get.IsCompleted);

        await AdvanceUntilDoneAsync(time, get, TimeSpan.FromMilliseconds(250));
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => get);
        Assert.Contains("Item", timeout.Message);
        Assert.Contains("'12'", timeout.Message);
        Assert.Null(await cache.Items.GetAsync(12));

        release.SetResult(new Item(12, "late", 1));
        await EngineServers.PollAsync(async () => await cache.Items.GetAsync(12) is not null, "the late load lands");
        await using var other = servers.Context(prefix);
        Assert.Equal(new Item(12, "late", 1), await other.Items.GetAsync(12));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_hit_past_the_eager_refresh_threshold_returns_the_value_and_refreshes_it_once_in_the_background()
    {
        var prefix = EngineServers.NewName();
        Action<DistributedCacheOptions> eager = o => o.EagerRefreshThreshold = 0.5;
        await using (var writer = servers.Context(prefix, configure: eager))
        {
            await writer.Items.SetAsync(new Item(11, "v1", 1));
        }

        var calls = 0;
        ValueTask<Item?> Refresh(int id, CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            return ValueTask.FromResult<Item?>(new Item(id, "v2", 2));
        }

        // Within the threshold (memcached holds the item for TTL + fail-safe, far above the refresh mark): a plain hit.
        await using (var early = servers.Context(prefix, configure: eager))
        {
            Assert.Equal(new Item(11, "v1", 1), await early.Items.GetOrLoadAsync(11, Refresh));
            Assert.Equal(0, calls);
        }

        await AgePastTheRefreshMarkAsync(prefix, 11);
        await using (var late = servers.Context(prefix, configure: eager))
        {
            Assert.Equal(new Item(11, "v1", 1), await late.Items.GetOrLoadAsync(11, Refresh));
            await EngineServers.PollAsync(async () =>
            {
                await using var reader = servers.Context(prefix);
                return (await reader.Items.GetAsync(11))?.Name == "v2";
            }, "the eager refresh lands in memcached");
        }

        Assert.Equal(1, calls);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_eager_refresh_that_fails_hands_its_win_back_after_the_fail_safe_throttle()
    {
        var prefix = EngineServers.NewName();
        Action<DistributedCacheOptions> eager = o => o.EagerRefreshThreshold = 0.5;
        await using (var writer = servers.Context(prefix, configure: eager))
        {
            await writer.Items.SetAsync(new Item(13, "v1", 1));
        }

        await AgePastTheRefreshMarkAsync(prefix, 13);

        // This client wins the early refresh and its loader fails; the hit still returns the value.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var failures = 0;
        await using var failing = servers.Context(prefix, time: time, configure: eager);
        Assert.Equal(new Item(13, "v1", 1), await failing.Items.GetOrLoadAsync(13, (_, _) =>
        {
            Interlocked.Increment(ref failures);
            throw new InvalidOperationException("database down");
        }));
        await EngineServers.PollAsync(() => Task.FromResult(Volatile.Read(ref failures) == 1), "the eager refresh is tried");

        var refreshes = 0;
        ValueTask<Item?> Refresh(int id, CancellationToken _)
        {
            Interlocked.Increment(ref refreshes);
            return ValueTask.FromResult<Item?>(new Item(id, "v2", 2));
        }

        // Within the throttle the failed refresh keeps the win: another client's hit past the mark does not refresh.
        await using var other = servers.Context(prefix, configure: o =>
        {
            eager(o);
            o.LocalCacheMaxEntries = 0;
        });
        Assert.Equal(new Item(13, "v1", 1), await other.Items.GetOrLoadAsync(13, Refresh));
        Assert.Equal(0, Volatile.Read(ref refreshes));

        // Past the throttle (30 s by default, in the failing client's time) the win is handed back and the next hit refreshes.
        await EngineServers.PollAsync(async () =>
        {
            time.Advance(TimeSpan.FromSeconds(10));
            await other.Items.GetOrLoadAsync(13, Refresh);
            await using var reader = servers.Context(prefix);
            return (await reader.Items.GetAsync(13))?.Name == "v2";
        }, "another client refreshes once the failed refresh handed its win back");
        Assert.Equal(1, Volatile.Read(ref failures));
        Assert.Equal(1, Volatile.Read(ref refreshes));
        Assert.True(time.GetUtcNow() - time.Start >= TimeSpan.FromSeconds(30), "the win came back before the throttle passed");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_eager_refresh_does_not_bring_back_a_value_invalidated_during_the_throttle()
    {
        var prefix = EngineServers.NewName();
        Action<DistributedCacheOptions> eager = o => o.EagerRefreshThreshold = 0.5;
        await using (var writer = servers.Context(prefix, configure: eager))
        {
            await writer.Items.SetAsync(new Item(14, "v1", 1));
        }

        await AgePastTheRefreshMarkAsync(prefix, 14);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var failures = 0;
        await using var failing = servers.Context(prefix, time: time, configure: eager);
        ValueTask<IEnumerable<Item>> Failing(IReadOnlyList<ItemKey> keys, CancellationToken _)
        {
            Interlocked.Increment(ref failures);
            throw new InvalidOperationException("database down");
        }

        var served = await failing.Items.GetOrLoadManyAsync([14], Failing);
        Assert.Equal(new Item(14, "v1", 1), served[new ItemKey(14)]);
        await EngineServers.PollAsync(() => Task.FromResult(Volatile.Read(ref failures) == 1), "the batch's eager refresh is tried");

        await using (var other = servers.Context(prefix))
        {
            await other.Items.InvalidateAsync(14);
        }

        // Past the throttle the write-back is tried (memcached counts it as a CAS mismatch or miss) and refused.
        await using var stats = await MemcachedClient.ConnectAsync(servers.Memcached.Host, servers.Memcached.Port);
        var refusedBefore = await RefusedCasWritesAsync(stats);
        await EngineServers.PollAsync(async () =>
        {
            time.Advance(TimeSpan.FromSeconds(10));
            return await RefusedCasWritesAsync(stats) > refusedBefore;
        }, "the write-back is tried and refused");
        await using var reader = servers.Context(prefix);
        Assert.Null(await reader.Items.GetAsync(14));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_batch_past_the_soft_timeout_serves_its_stale_values_and_the_load_lands_in_the_background()
    {
        var prefix = EngineServers.NewName();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var cache = servers.Context(prefix, time: time, configure: o => o.SoftTimeout = TimeSpan.FromSeconds(1));
        await WriteThenAgeAsync(cache, time, 21, 22);

        var loader = new GatedLoader<IEnumerable<Item>>();
        var get = cache.Items.GetOrLoadManyAsync([21, 22], (_, _) => loader.Load()).AsTask();
        await loader.Started.Task.WaitAsync(Deadline);
        await AdvanceUntilDoneAsync(time, get, TimeSpan.FromMilliseconds(500));

        var served = await get;
        Assert.Equal(["stale", "stale"], served.OrderBy(p => p.Key.Id).Select(p => p.Value.Name));
        Assert.Equal(1, loader.Calls);
        Assert.False(loader.Release.Task.IsCompleted);

        loader.Release.SetResult([new Item(21, "fresh", 2), new Item(22, "fresh", 2)]);
        await using var other = servers.Context(prefix, time: time);
        await PollNamesAsync(other, [21, 22], "fresh", "the background batch load lands in memcached");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_batch_without_stale_values_past_the_hard_timeout_throws_and_the_load_still_lands()
    {
        var prefix = EngineServers.NewName();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var cache = servers.Context(prefix, time: time, configure: SoftAndHard);
        await WriteThenAgeAsync(cache, time, 31); // 31 is stale, 32 has nothing: the batch has no stale value for every key

        var loader = new GatedLoader<IEnumerable<Item>>();
        var get = cache.Items.GetOrLoadManyAsync([31, 32], (_, _) => loader.Load()).AsTask();
        await loader.Started.Task.WaitAsync(Deadline);

        // The soft timeout applies only when every key has a stale value: 1.5 s of fake time must not end the wait.
        time.Advance(TimeSpan.FromMilliseconds(1500));
        await Task.Yield();
        Assert.False(get.IsCompleted);

        await AdvanceUntilDoneAsync(time, get, TimeSpan.FromMilliseconds(250));
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => get);
        Assert.Contains("2 Item keys", timeout.Message);

        loader.Release.SetResult([new Item(31, "late", 2), new Item(32, "late", 1)]);
        await PollNamesAsync(cache, [31, 32], "late", "the late batch load lands");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_batch_loader_that_throws_serves_the_stale_values_and_without_them_the_failure_reaches_the_caller()
    {
        var prefix = EngineServers.NewName();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var cache = servers.Context(prefix, time: time);
        await WriteThenAgeAsync(cache, time, 41, 42);

        var served = await cache.Items.GetOrLoadManyAsync([41, 42], (_, _) => throw new InvalidOperationException("database down"));
        Assert.Equal(["stale", "stale"], served.OrderBy(p => p.Key.Id).Select(p => p.Value.Name));

        // Past the fail-safe window there is nothing stale to serve: the loader's failure reaches the caller.
        time.Advance(TimeSpan.FromMinutes(11));
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await cache.Items.GetOrLoadManyAsync([41, 42], (_, _) => throw new InvalidOperationException("database down")));
        Assert.Equal("database down", failure.Message);
    }

    /// <summary>
    /// Ages the memcached item of <paramref name="id"/> past the eager-refresh mark of 0.5 by writing it back with 600 s to
    /// live, below TTL × (1 − 0.5) + fail-safe = 630 s, so the next lease read wins the early refresh (and the item does
    /// not expire while a test runs).
    /// </summary>
    private async Task AgePastTheRefreshMarkAsync(string prefix, int id)
    {
        await using var raw = await MemcachedClient.ConnectAsync(servers.Memcached.Host, servers.Memcached.Port);
        await using var probe = servers.Context(prefix);
        using var stored = await raw.GetAsync(probe.Items.KeyFor(id));
        Assert.True(stored.Found);
        await raw.SetAsync(probe.Items.KeyFor(id), stored.Value.ToArray(), new MemcachedStoreOptions { Ttl = 600, ClientFlags = stored.ClientFlags });
    }

    /// <summary>CAS-conditional writes memcached refused: the item had another CAS, or was gone.</summary>
    private static async Task<long> RefusedCasWritesAsync(MemcachedClient stats)
    {
        var figures = await stats.GetStatsAsync();
        return long.Parse(figures["cas_badval"], CultureInfo.InvariantCulture) + long.Parse(figures["cas_misses"], CultureInfo.InvariantCulture);
    }

    /// <summary>A soft timeout of 100 ms and a hard one of 2 s.</summary>
    private static void SoftAndHard(DistributedCacheOptions options)
    {
        options.SoftTimeout = TimeSpan.FromMilliseconds(100);
        options.HardTimeout = TimeSpan.FromSeconds(2);
    }

    /// <summary>Writes a "stale" item under each id, then moves time past the TTL (60 s), within the fail-safe window.</summary>
    private static async Task WriteThenAgeAsync(EngineCache cache, FakeTimeProvider time, params int[] ids)
    {
        foreach (var id in ids)
        {
            await cache.Items.SetAsync(new Item(id, "stale", 1));
        }

        time.Advance(TimeSpan.FromSeconds(61));
    }

    /// <summary>Polls until every one of <paramref name="ids"/> reads as an item named <paramref name="name"/>.</summary>
    private static Task PollNamesAsync(EngineCache cache, int[] ids, string name, string what) =>
        EngineServers.PollAsync(
            async () => (await cache.Items.GetManyAsync(ids.Select(id => new ItemKey(id)))).Values.Count(i => i.Name == name) == ids.Length,
            what);

    /// <summary>A loader that says when it is called and returns only when the test releases it.</summary>
    private sealed class GatedLoader<TResult>
    {
        private int _calls;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<TResult> Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Calls => Volatile.Read(ref _calls);

        public ValueTask<TResult> Load()
        {
            Interlocked.Increment(ref _calls);
            Started.TrySetResult();
            return new ValueTask<TResult>(Release.Task);
        }
    }
}
