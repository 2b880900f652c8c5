using System.Buffers;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TypedCache.Memcached;
using TypedCache.Tests.Caching;

namespace TypedCache.Tests.MicrosoftCaching;

/// <summary><see cref="IDistributedCache"/> and <see cref="IBufferDistributedCache"/> on a real memcached and ZooKeeper, held to their documented semantics.</summary>
public sealed class DistributedCacheContractTests(EngineServers servers) : IClassFixture<EngineServers>
{
    private static readonly DistributedCacheEntryOptions NoExpiry = new();

    [Fact]
    public async Task One_call_registers_one_cache_as_both_interfaces_and_a_value_round_trips()
    {
        await using var provider = RingCaches.Distributed(servers, EngineServers.NewName());
        var cache = provider.GetRequiredService<IDistributedCache>();
        Assert.Same(cache, provider.GetRequiredService<IBufferDistributedCache>());

        Assert.Null(await cache.GetAsync("k"));
        await cache.SetAsync("k", [1, 2, 3], NoExpiry);
        Assert.Equal([1, 2, 3], await cache.GetAsync("k"));
        cache.Set("k", [4], NoExpiry);
        Assert.Equal([4], cache.Get("k"));
    }

    [Fact]
    public void Registration_without_servers_fails_at_once_naming_the_missing_option()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddTypedCacheDistributedCache(o => o.UseKeyPrefix("x")));
        Assert.Contains("UseMemcached", error.Message);
    }

    [Fact]
    public async Task Arbitrary_string_keys_are_distinct_entries_and_the_prefix_separates_caches()
    {
        var prefix = EngineServers.NewName();
        await using var provider = RingCaches.Distributed(servers, prefix);
        await using var other = RingCaches.Distributed(servers, EngineServers.NewName());
        var cache = provider.GetRequiredService<IDistributedCache>();
        var longHead = new string('x', 400);
        string[] keys = ["", " ", "a b", "a:b", "a%3Ab", "\n", "ключ", "😀", longHead + "1", longHead + "2"];

        for (var i = 0; i < keys.Length; i++)
        {
            await cache.SetAsync(keys[i], [(byte)i], NoExpiry);
        }

        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(new[] { (byte)i }, await cache.GetAsync(keys[i]));
            Assert.Null(await other.GetRequiredService<IDistributedCache>().GetAsync(keys[i]));
        }

        Assert.All(keys, key => Assert.True(Encoding.ASCII.GetByteCount(provider.Cache().KeyOf(key)) <= 250));
        Assert.StartsWith(prefix + ":", provider.Cache().KeyOf("a b"));
    }

    [Fact]
    public async Task Buffer_set_of_a_segmented_sequence_and_buffer_get_round_trip()
    {
        await using var provider = RingCaches.Distributed(servers, EngineServers.NewName());
        var cache = provider.GetRequiredService<IBufferDistributedCache>();
        var bytes = Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray();

        await cache.SetAsync("buffer", await RingCaches.SegmentedAsync(bytes), NoExpiry);
        var destination = new ArrayBufferWriter<byte>();
        Assert.True(await cache.TryGetAsync("buffer", destination));
        Assert.Equal(bytes, destination.WrittenSpan.ToArray());

        cache.Set("sync", new ReadOnlySequence<byte>([9, 8, 7]), NoExpiry);
        var syncDestination = new ArrayBufferWriter<byte>();
        Assert.True(cache.TryGet("sync", syncDestination));
        Assert.Equal([9, 8, 7], syncDestination.WrittenSpan.ToArray());
        Assert.False(await cache.TryGetAsync("missing", new ArrayBufferWriter<byte>()));
    }

    [Fact]
    public async Task Remove_deletes_the_entry()
    {
        await using var provider = RingCaches.Distributed(servers, EngineServers.NewName());
        var cache = provider.GetRequiredService<IDistributedCache>();
        await cache.SetAsync("gone", [1], NoExpiry);
        await cache.SetAsync("gone-sync", [1], NoExpiry);

        await cache.RemoveAsync("gone");
        cache.Remove("gone-sync");

        Assert.Null(await cache.GetAsync("gone"));
        Assert.Null(cache.Get("gone-sync"));
        Assert.False(await RingCaches.PeekAsync(servers, provider.Cache().KeyOf("gone")));
    }

    [Fact]
    public async Task Values_up_to_the_item_size_are_stored_and_a_bigger_one_is_refused_with_a_clear_exception()
    {
        await using var provider = RingCaches.Distributed(servers, EngineServers.NewName());
        var cache = provider.GetRequiredService<IDistributedCache>();
        var big = new byte[1000 * 1000];
        Random.Shared.NextBytes(big);

        await cache.SetAsync("big", big, NoExpiry);
        Assert.Equal(big, await cache.GetAsync("big"));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => cache.SetAsync("too-big", new byte[2 * 1024 * 1024], NoExpiry));
        Assert.Equal("value", error.ParamName);
        Assert.Contains("does not fit in a memcached item", error.Message);
        Assert.Null(await cache.GetAsync("too-big"));
    }

    [Fact]
    public async Task A_corrupt_or_foreign_item_under_the_key_reads_as_a_miss()
    {
        await using var provider = RingCaches.Distributed(servers, EngineServers.NewName());
        var cache = provider.GetRequiredService<IDistributedCache>();
        await using var client = await RingCaches.ClientAsync(servers);

        await client.SetAsync(provider.Cache().KeyOf("foreign"), "not an entry"u8);
        await client.SetAsync(provider.Cache().KeyOf("short"), [1, 2]);

        Assert.Null(await cache.GetAsync("foreign"));
        Assert.Null(await cache.GetAsync("short"));
    }

    [Fact]
    public async Task Absolute_expiration_by_the_injected_clock_ends_the_entry_whatever_the_server_holds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var provider = RingCaches.Distributed(servers, EngineServers.NewName(), time);
        var cache = provider.GetRequiredService<IDistributedCache>();

        await cache.SetAsync("relative", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });
        await cache.SetAsync("absolute", [2], new DistributedCacheEntryOptions { AbsoluteExpiration = time.GetUtcNow().AddMinutes(20) });
        await cache.SetAsync("both", [3], new DistributedCacheEntryOptions
        {
            AbsoluteExpiration = time.GetUtcNow().AddMinutes(30),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5),
        });

        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal([3], await cache.GetAsync("both"));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(await cache.GetAsync("both"));
        Assert.Equal([1], await cache.GetAsync("relative"));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(await cache.GetAsync("relative"));
        Assert.Equal([2], await cache.GetAsync("absolute"));
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Null(await cache.GetAsync("absolute"));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            cache.SetAsync("past", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = time.GetUtcNow().AddSeconds(-1) }));
    }

    [Fact]
    public async Task Sliding_entries_never_outlive_their_absolute_cap_by_the_injected_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var provider = RingCaches.Distributed(servers, EngineServers.NewName(), time);
        var cache = provider.GetRequiredService<IDistributedCache>();
        await cache.SetAsync("capped", [1], new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromHours(1),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(2),
        });

        time.Advance(TimeSpan.FromMinutes(50));
        await cache.RefreshAsync("capped");
        time.Advance(TimeSpan.FromMinutes(50));
        Assert.Equal([1], await cache.GetAsync("capped"));
        time.Advance(TimeSpan.FromMinutes(21));
        Assert.Null(await cache.GetAsync("capped"));
    }

    [Fact]
    public async Task Memcached_expires_an_absolute_entry_on_its_own_clock()
    {
        await using var provider = RingCaches.Distributed(servers, EngineServers.NewName());
        var cache = provider.GetRequiredService<IDistributedCache>();
        var memcachedKey = provider.Cache().KeyOf("short-lived");

        await cache.SetAsync("short-lived", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(1) });

        Assert.True(await RingCaches.PeekAsync(servers, memcachedKey));
        await EngineServers.PollAsync(async () => !await RingCaches.PeekAsync(servers, memcachedKey), "memcached expired the item");
    }

    [Fact]
    public async Task Reads_and_refreshes_keep_a_sliding_entry_alive_past_its_window_then_memcached_expires_it()
    {
        await using var provider = RingCaches.Distributed(servers, EngineServers.NewName());
        var cache = provider.GetRequiredService<IDistributedCache>();
        var window = TimeSpan.FromSeconds(2);
        await cache.SetAsync("sliding", [7], new DistributedCacheEntryOptions { SlidingExpiration = window });
        await cache.SetAsync("fixed", [8], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = window });

        var started = Stopwatch.StartNew();
        var reads = 0;
        while (started.Elapsed < 2 * window)
        {
            if (reads++ % 2 == 0)
            {
                Assert.Equal([7], await cache.GetAsync("sliding"));
            }
            else
            {
                await cache.RefreshAsync("sliding");
            }

            // Pacing the reads, not waiting for a condition: each one must find the entry.
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        Assert.Null(await cache.GetAsync("fixed"));
        var memcachedKey = provider.Cache().KeyOf("sliding");
        Assert.True(await RingCaches.PeekAsync(servers, memcachedKey));
        await EngineServers.PollAsync(async () => !await RingCaches.PeekAsync(servers, memcachedKey), "memcached expired the idle sliding item");
    }

    [Fact]
    public async Task Reads_extend_a_sliding_entry_only_up_to_its_absolute_cap()
    {
        await using var provider = RingCaches.Distributed(servers, EngineServers.NewName());
        var cache = provider.GetRequiredService<IDistributedCache>();
        var started = Stopwatch.StartNew();
        await cache.SetAsync("capped", [1], new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromSeconds(2),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(3),
        });

        await EngineServers.PollAsync(async () => await cache.GetAsync("capped") is null, "the capped entry ended");

        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(2.9), TimeSpan.FromSeconds(30));
        var memcachedKey = provider.Cache().KeyOf("capped");
        await EngineServers.PollAsync(async () => !await RingCaches.PeekAsync(servers, memcachedKey), "memcached expired the capped item");
    }
}
