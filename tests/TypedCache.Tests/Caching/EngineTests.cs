using System.Text;
using Microsoft.Extensions.Time.Testing;
using TypedCache.Caching.Distributed;
using TypedCache.Memcached;
using TypedCache.TestWorker;

namespace TypedCache.Tests.Caching;

/// <summary>The memcached engine through generated repositories, on a real memcached server.</summary>
public sealed class EngineTests(EngineServers servers) : IClassFixture<EngineServers>
{
    private static ValueTask<Item?> Load(int id, ref int calls, string name = "loaded")
    {
        Interlocked.Increment(ref calls);
        return ValueTask.FromResult<Item?>(new Item(id, name, 1));
    }

    [Fact]
    public async Task A_miss_loads_once_and_a_second_process_reads_it_from_memcached()
    {
        var prefix = EngineServers.NewName();
        await using var first = servers.Context(prefix);
        await using var second = servers.Context(prefix);
        var calls = 0;

        var loaded = await first.Items.GetOrLoadAsync(7, (id, _) => Load(id, ref calls));
        var again = await first.Items.GetOrLoadAsync(7, (id, _) => Load(id, ref calls));
        var remote = await second.Items.GetOrLoadAsync(7, (id, _) => Load(id, ref calls, "other"));

        Assert.Equal(new Item(7, "loaded", 1), loaded);
        Assert.Same(loaded, again);
        Assert.Equal(loaded, remote);
        Assert.Equal(1, calls);
        Assert.Equal(loaded, await second.Items.GetAsync(7));
    }

    [Fact]
    public async Task Set_then_invalidate_reaches_memcached()
    {
        var prefix = EngineServers.NewName();
        await using var first = servers.Context(prefix);
        await using var second = servers.Context(prefix);

        await first.Items.SetAsync(new Item(1, "set", 2));
        Assert.Equal(new Item(1, "set", 2), await second.Items.GetAsync(1));

        await first.Items.InvalidateAsync(1);
        await using var third = servers.Context(prefix);
        Assert.Null(await third.Items.GetAsync(1));
        Assert.Null(await first.Items.GetAsync(1));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 2 })]
    [InlineData(new byte[] { 9, 1, 2, 3 })]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5 })]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, 0x7F, 0, 0xC1 })]
    [InlineData(new byte[] { 0xC1, 0xC1, 0xC1 })]
    public async Task Corrupt_bytes_under_the_right_flags_are_a_miss(byte[] bytes)
    {
        var prefix = EngineServers.NewName();
        await using var cache = servers.Context(prefix);
        await using var raw = await MemcachedClient.ConnectAsync(servers.Memcached.Host, servers.Memcached.Port);
        var flags = await StoredFlagsAsync(cache, raw);
        await raw.SetAsync(cache.Items.KeyFor(3), bytes, new MemcachedStoreOptions { Ttl = 60, ClientFlags = flags });
        var calls = 0;

        Assert.Null(await cache.Items.GetAsync(3));
        var loaded = await cache.Items.GetOrLoadAsync(3, (id, _) => Load(id, ref calls));

        Assert.Equal(new Item(3, "loaded", 1), loaded);
        Assert.Equal(1, calls);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(0xFFFF_FF01u)]
    public async Task A_valid_envelope_under_other_flags_is_a_miss(uint otherFlags)
    {
        var prefix = EngineServers.NewName();
        await using var cache = servers.Context(prefix);
        await cache.Items.SetAsync(new Item(4, "old", 1));
        await using var raw = await MemcachedClient.ConnectAsync(servers.Memcached.Host, servers.Memcached.Port);
        byte[] bytes;
        uint flags;
        using (var stored = await raw.GetAsync(cache.Items.KeyFor(4)))
        {
            bytes = stored.Value.ToArray();
            flags = stored.ClientFlags;
        }

        Assert.NotEqual(flags, otherFlags);
        await raw.SetAsync(cache.Items.KeyFor(4), bytes, new MemcachedStoreOptions { Ttl = 60, ClientFlags = otherFlags });
        await using (var fresh = servers.Context(prefix))
        {
            Assert.Null(await fresh.Items.GetAsync(4));
        }

        // The same bytes under the flags the engine wrote are a hit again: only the flags made the difference.
        await raw.SetAsync(cache.Items.KeyFor(4), bytes, new MemcachedStoreOptions { Ttl = 60, ClientFlags = flags });
        await using (var fresh = servers.Context(prefix))
        {
            Assert.Equal(new Item(4, "old", 1), await fresh.Items.GetAsync(4));
        }
    }

    [Fact]
    public async Task An_entry_written_under_another_schema_is_a_miss_for_this_one()
    {
        var prefix = EngineServers.NewName();
        await using var cache = servers.Context(prefix);
        await cache.Items.SetAsync(new Item(5, "old", 1));
        await using var raw = await MemcachedClient.ConnectAsync(servers.Memcached.Host, servers.Memcached.Port);
        using var stored = await raw.GetAsync(cache.Items.KeyFor(5));
        var thisSchema = stored.ClientFlags;
        var otherSchema = thisSchema ^ 0x0001_0000u; // one bit of the folded schema hash moved, the same encoding

        Assert.Equal(CacheEnvelope.MessagePackEncoding, thisSchema & 0xFF);
        Assert.Equal(EnvelopeParseResult.Ok, CacheEnvelope.TryParse(stored.ClientFlags, stored.Value.Span, thisSchema, out _));
        Assert.Equal(EnvelopeParseResult.OtherSchema, CacheEnvelope.TryParse(stored.ClientFlags, stored.Value.Span, otherSchema, out _));

        await raw.SetAsync(cache.Items.KeyFor(5), stored.Value.Span, new MemcachedStoreOptions { Ttl = 60, ClientFlags = otherSchema });
        await using var fresh = servers.Context(prefix);
        var calls = 0;
        Assert.Equal(new Item(5, "loaded", 1), await fresh.Items.GetOrLoadAsync(5, (id, _) => Load(id, ref calls)));
        Assert.Equal(1, calls);
    }

    /// <summary>The client flags the engine stores entries of <see cref="Item"/> under, read from a real entry.</summary>
    private static async Task<uint> StoredFlagsAsync(EngineCache cache, MemcachedClient raw)
    {
        await cache.Items.SetAsync(new Item(int.MaxValue, "probe", 1));
        using var stored = await raw.GetAsync(cache.Items.KeyFor(int.MaxValue));
        return stored.ClientFlags;
    }

    [Fact]
    public async Task A_set_whose_memcached_write_fails_leaves_its_value_out_of_the_local_level()
    {
        var prefix = EngineServers.NewName();
        await using var cache = servers.Context(prefix);
        await cache.Items.SetAsync(new Item(8, "stored", 1));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cache.Items.SetAsync(new Item(8, "never stored", 2), cancelled.Token).AsTask());

        Assert.Equal(new Item(8, "stored", 1), await cache.Items.GetAsync(8));
    }

    [Fact]
    public async Task Type_and_tag_invalidation_are_misses_in_both_levels()
    {
        var prefix = EngineServers.NewName();
        await using var cache = servers.Context(prefix);
        await cache.Items.SetAsync(new Item(5, "a", 1));
        var keyBefore = cache.Items.KeyFor(5);

        await cache.Items.InvalidateAllAsync();
        Assert.Null(await cache.Items.GetAsync(5));
        Assert.NotEqual(keyBefore, cache.Items.KeyFor(5));

        await cache.Items.SetAsync(new Item(5, "b", 1));
        Assert.NotNull(await cache.Items.GetAsync(5));
        await cache.InvalidateTagAsync("catalog");
        Assert.Null(await cache.Items.GetAsync(5));
    }

    [Fact]
    public async Task A_batch_loads_all_misses_in_one_call_and_a_second_process_reads_them_from_memcached()
    {
        var prefix = EngineServers.NewName();
        await using var first = servers.Context(prefix);
        await using var second = servers.Context(prefix);
        await first.Items.SetAsync(new Item(2, "set", 1));
        var calls = new List<int[]>();

        var loaded = await first.Items.GetOrLoadManyAsync([1, 2, 3, 3, 4], (keys, _) =>
        {
            calls.Add([.. keys.Select(k => k.Id)]);
            return ValueTask.FromResult<IEnumerable<Item>>([.. keys.Where(k => k.Id != 4).Select(k => new Item(k.Id, "batch", 1))]);
        });
        var remote = await second.Items.GetManyAsync([1, 2, 3, 4]);

        var call = Assert.Single(calls);
        Assert.Equal([1, 3, 4], call.Order());
        Assert.Equal([1, 2, 3], loaded.Keys.Select(k => k.Id).Order());
        Assert.Equal("set", loaded.Single(p => p.Key.Id == 2).Value.Name);
        Assert.Equal([1, 2, 3], remote.Keys.Select(k => k.Id).Order());
    }

    [Fact]
    public async Task Concurrent_misses_over_four_contexts_call_the_loader_once()
    {
        var prefix = EngineServers.NewName();
        var contexts = Enumerable.Range(0, 4).Select(_ => servers.Context(prefix)).ToArray();
        try
        {
            var calls = 0;
            using var start = new ManualResetEventSlim();
            var tasks = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
            {
                start.Wait();
                return await contexts[i % 4].Items.GetOrLoadAsync(9, async (id, ct) =>
                {
                    Interlocked.Increment(ref calls);
                    await Task.Yield();
                    return new Item(id, "once", 1);
                });
            })).ToArray();
            start.Set();
            var results = await Task.WhenAll(tasks);

            Assert.Equal(1, calls);
            Assert.All(results, r => Assert.Equal(new Item(9, "once", 1), r));
        }
        finally
        {
            foreach (var context in contexts)
            {
                await context.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_throwing_loader_with_a_stale_value_serves_the_stale_value()
    {
        var prefix = EngineServers.NewName();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var cache = servers.Context(prefix, time: time);
        await cache.Items.SetAsync(new Item(6, "stale", 1));

        time.Advance(TimeSpan.FromSeconds(61)); // past the TTL (60 s) and the local TTL, within the fail-safe window
        var served = await cache.Items.GetOrLoadAsync(6, (_, _) => throw new InvalidOperationException("database down"));
        Assert.Equal(new Item(6, "stale", 1), served);

        time.Advance(TimeSpan.FromMinutes(11)); // past the fail-safe window: the loader's failure reaches the caller
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await cache.Items.GetOrLoadAsync(6, (_, _) => throw new InvalidOperationException("database down")));
    }

    [Fact]
    public async Task Without_a_stale_value_the_loader_failure_reaches_every_waiter_and_the_next_call_retries()
    {
        var prefix = EngineServers.NewName();
        await using var cache = servers.Context(prefix);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await cache.Items.GetOrLoadAsync(8, (_, _) => throw new InvalidOperationException("boom")));
        Assert.Equal("boom", failure.Message);

        var calls = 0;
        Assert.Equal(new Item(8, "loaded", 1), await cache.Items.GetOrLoadAsync(8, (id, _) => Load(id, ref calls)));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task A_value_loaded_before_an_invalidation_is_never_written_after_it()
    {
        var prefix = EngineServers.NewName();
        await using var loaderSide = servers.Context(prefix);
        await using var invalidator = servers.Context(prefix);
        var random = new Random(8);
        for (var round = 0; round < 40; round++)
        {
            var id = 1000 + round;
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var load = loaderSide.Items.GetOrLoadAsync(id, async (key, _) =>
            {
                loading.TrySetResult();
                await release.Task;
                return new Item(key, "old", 1);
            }).AsTask();
            await loading.Task;
            var spin = random.Next(0, 2000);
            var invalidate = Task.Run(async () =>
            {
                Thread.SpinWait(spin);
                await invalidator.Items.InvalidateAsync(id);
            });
            Thread.SpinWait(random.Next(0, 2000));
            release.SetResult();
            await Task.WhenAll(load, invalidate);

            await using var reader = servers.Context(prefix);
            var after = await reader.Items.GetAsync(id);
            Assert.True(after is null, $"round {round}: the old value was written after the invalidation");
            Assert.Null(await invalidator.Items.GetAsync(id));
        }
    }
}
