using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TypedCache.Caching.MicrosoftCaching;
using TypedCache.Tests.Caching;

namespace TypedCache.Tests.MicrosoftCaching;

/// <summary><see cref="HybridCache"/> on a real memcached and ZooKeeper, held to its documented semantics.</summary>
public sealed class HybridCacheContractTests(EngineServers servers) : IClassFixture<EngineServers>
{
    private static readonly HybridCacheEntryOptions LocalOnly = new() { Flags = HybridCacheEntryFlags.DisableDistributedCache };

    public sealed record Product(int Id, string Name);

    /// <summary>A factory that counts its calls and returns <c>{name}-{call}</c>.</summary>
    private sealed class Source(string name)
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public ValueTask<string> Next(CancellationToken cancellationToken) =>
            ValueTask.FromResult($"{name}-{Interlocked.Increment(ref _calls)}");
    }

    private async Task DeleteFromMemcachedAsync(string prefix, string key)
    {
        await using var client = await RingCaches.ClientAsync(servers);
        await client.DeleteAsync(TextCacheKey.MemcachedKey(TextCacheKey.Head(prefix), key));
    }

    /// <summary>The item memcached holds for a key: the distributed entry, the hybrid entry, then the serialized value.</summary>
    private async Task<byte[]> RawAsync(string prefix, string key)
    {
        await using var client = await RingCaches.ClientAsync(servers);
        using var result = await client.GetAsync(TextCacheKey.MemcachedKey(TextCacheKey.Head(prefix), key));
        Assert.True(result.Found, $"memcached holds '{key}'");
        return result.Value.ToArray();
    }

    [Fact]
    public async Task A_miss_calls_the_factory_once_then_this_process_reads_its_local_level_and_another_reads_memcached()
    {
        var prefix = EngineServers.NewName();
        await using var first = RingCaches.Hybrid(servers, prefix);
        await using var second = RingCaches.Hybrid(servers, prefix);
        var cache = first.GetRequiredService<HybridCache>();
        var source = new Source("v");

        Assert.Equal("v-1", await cache.GetOrCreateAsync("k", source.Next));
        await DeleteFromMemcachedAsync(prefix, "k");
        Assert.Equal("v-1", await cache.GetOrCreateAsync("k", source.Next));
        Assert.Equal(1, source.Calls);

        await cache.SetAsync("shared", "set");
        Assert.Equal("set", await second.GetRequiredService<HybridCache>().GetOrCreateAsync("shared", source.Next));
        Assert.Equal(1, source.Calls);
    }

    [Fact]
    public async Task Concurrent_callers_of_one_key_share_one_factory_call()
    {
        await using var provider = RingCaches.Hybrid(servers, EngineServers.NewName());
        var cache = provider.GetRequiredService<HybridCache>();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        async ValueTask<Product> Factory(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref calls);
            entered.TrySetResult();
            await release.Task;
            return new Product(1, "one");
        }

        var first = cache.GetOrCreateAsync("p:1", Factory).AsTask();
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var others = Enumerable.Range(0, 31).Select(_ => cache.GetOrCreateAsync("p:1", Factory).AsTask()).ToList();
        release.SetResult();
        var results = await Task.WhenAll(others.Append(first));

        Assert.Equal(1, calls);
        Assert.All(results, product => Assert.Equal(new Product(1, "one"), product));
    }

    [Fact]
    public async Task The_factory_is_cancelled_only_when_every_waiting_caller_has_cancelled()
    {
        await using var provider = RingCaches.Hybrid(servers, EngineServers.NewName());
        var cache = provider.GetRequiredService<HybridCache>();
        var factoryToken = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async ValueTask<string> Factory(CancellationToken cancellationToken)
        {
            factoryToken.TrySetResult(cancellationToken);
            await release.Task.WaitAsync(cancellationToken);
            return "done";
        }

        using var firstCancel = new CancellationTokenSource();
        using var secondCancel = new CancellationTokenSource();
        var first = cache.GetOrCreateAsync("c", Factory, cancellationToken: firstCancel.Token).AsTask();
        var token = await factoryToken.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var second = cache.GetOrCreateAsync("c", Factory, cancellationToken: secondCancel.Token).AsTask();

        await firstCancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.False(token.IsCancellationRequested);

        await secondCancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        Assert.True(token.IsCancellationRequested);
    }

    [Fact]
    public async Task Remove_in_one_instance_evicts_the_local_level_of_another()
    {
        var prefix = EngineServers.NewName();
        await using var first = RingCaches.Hybrid(servers, prefix);
        await using var second = RingCaches.Hybrid(servers, prefix);
        var writer = first.GetRequiredService<HybridCache>();
        var reader = second.GetRequiredService<HybridCache>();
        var source = new Source("v");
        Assert.Equal("v-1", await writer.GetOrCreateAsync("a", source.Next));
        Assert.Equal("v-1", await reader.GetOrCreateAsync("a", source.Next));
        Assert.Equal("v-2", await writer.GetOrCreateAsync("b", source.Next));
        Assert.Equal("v-2", await reader.GetOrCreateAsync("b", source.Next));
        Assert.Equal("v-3", await writer.GetOrCreateAsync("c", source.Next));
        Assert.Equal("v-3", await reader.GetOrCreateAsync("c", source.Next));

        await writer.RemoveAsync("a");
        await writer.RemoveAsync(["b", "c"]);

        foreach (var key in new[] { "a", "b", "c" })
        {
            await EngineServers.PollAsync(
                async () => !(await reader.GetOrCreateAsync(key, new Source("new").Next)).StartsWith("v-", StringComparison.Ordinal),
                $"the other instance dropped '{key}'");
        }

        Assert.Equal("new-1", await writer.GetOrCreateAsync("a", new Source("fresh").Next));
    }

    [Fact]
    public async Task Set_in_one_instance_replaces_the_value_another_holds_locally()
    {
        var prefix = EngineServers.NewName();
        await using var first = RingCaches.Hybrid(servers, prefix);
        await using var second = RingCaches.Hybrid(servers, prefix);
        var reader = second.GetRequiredService<HybridCache>();
        Assert.Equal("old-1", await reader.GetOrCreateAsync("k", new Source("old").Next));

        await first.GetRequiredService<HybridCache>().SetAsync("k", "new");

        await EngineServers.PollAsync(async () => await reader.GetOrCreateAsync("k", new Source("unused").Next) == "new", "the other instance read the new value");
    }

    [Fact]
    public async Task Remove_by_tag_misses_every_tagged_entry_in_this_and_other_instances_and_keeps_the_rest()
    {
        var prefix = EngineServers.NewName();
        await using var first = RingCaches.Hybrid(servers, prefix);
        await using var second = RingCaches.Hybrid(servers, prefix);
        var writer = first.GetRequiredService<HybridCache>();
        var reader = second.GetRequiredService<HybridCache>();
        var entries = new (string Key, string[] Tags)[] { ("k1", ["red"]), ("k2", ["blue"]), ("k3", ["red", "blue"]), ("k4", ["a/b c ü"]) };
        foreach (var (key, tags) in entries)
        {
            Assert.Equal("v-1", await writer.GetOrCreateAsync(key, new Source("v").Next, tags: tags));
            Assert.Equal("v-1", await reader.GetOrCreateAsync(key, new Source("x").Next, tags: tags));
        }

        await writer.RemoveByTagAsync("red");
        await writer.RemoveByTagAsync(["a/b c ü"]);

        Assert.Equal("after-1", await writer.GetOrCreateAsync("k1", new Source("after").Next, tags: ["red"]));
        Assert.Equal("after-1", await writer.GetOrCreateAsync("k3", new Source("after").Next, tags: ["red", "blue"]));
        Assert.Equal("after-1", await writer.GetOrCreateAsync("k4", new Source("after").Next, tags: ["a/b c ü"]));
        Assert.Equal("v-1", await writer.GetOrCreateAsync("k2", new Source("after").Next, tags: ["blue"]));
        await EngineServers.PollAsync(
            async () => await reader.GetOrCreateAsync("k1", new Source("r").Next, options: LocalOnly, tags: ["red"]) == "r-1",
            "the other instance dropped the red entry");
        Assert.Equal("after-1", await reader.GetOrCreateAsync("k3", new Source("r").Next, tags: ["red", "blue"]));
        Assert.Equal("v-1", await reader.GetOrCreateAsync("k2", new Source("r").Next, tags: ["blue"]));
    }

    [Fact]
    public async Task Remove_by_the_star_tag_misses_every_entry_everywhere()
    {
        var prefix = EngineServers.NewName();
        await using var first = RingCaches.Hybrid(servers, prefix);
        await using var second = RingCaches.Hybrid(servers, prefix);
        var writer = first.GetRequiredService<HybridCache>();
        var reader = second.GetRequiredService<HybridCache>();
        await writer.SetAsync("untagged", "v");
        await writer.SetAsync("tagged", "v", tags: ["t"]);
        Assert.Equal("v", await reader.GetOrCreateAsync("untagged", new Source("x").Next));

        await writer.RemoveByTagAsync("*");

        Assert.Equal("after-1", await writer.GetOrCreateAsync("untagged", new Source("after").Next));
        Assert.Equal("after-1", await writer.GetOrCreateAsync("tagged", new Source("after").Next, tags: ["t"]));
        await EngineServers.PollAsync(
            async () => await reader.GetOrCreateAsync("untagged", new Source("r").Next, options: LocalOnly) == "r-1",
            "the other instance dropped every entry");
        await Assert.ThrowsAsync<ArgumentException>(() => writer.SetAsync("bad", "v", tags: ["*"]).AsTask());
    }

    [Fact]
    public async Task Flags_turn_each_level_and_the_factory_off()
    {
        var prefix = EngineServers.NewName();
        await using var first = RingCaches.Hybrid(servers, prefix);
        await using var second = RingCaches.Hybrid(servers, prefix);
        var cache = first.GetRequiredService<HybridCache>();
        var other = second.GetRequiredService<HybridCache>();
        var noLocal = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCache };
        var cacheOnly = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData };

        Assert.Null(await cache.GetOrCreateAsync("nothing", new Source("x").Next, cacheOnly));

        Assert.Equal("local-1", await cache.GetOrCreateAsync("local", new Source("local").Next, LocalOnly));
        Assert.Equal("local-1", await cache.GetOrCreateAsync("local", new Source("again").Next, LocalOnly));
        Assert.Equal("other-1", await other.GetOrCreateAsync("local", new Source("other").Next));

        Assert.Equal("remote-1", await cache.GetOrCreateAsync("remote", new Source("remote").Next, noLocal));
        await DeleteFromMemcachedAsync(prefix, "remote");
        Assert.Equal("again-1", await cache.GetOrCreateAsync("remote", new Source("again").Next, noLocal));
        Assert.Equal("again-1", await other.GetOrCreateAsync("remote", new Source("other").Next, cacheOnly));
    }

    [Fact]
    public async Task The_local_level_expires_by_local_cache_expiration_and_memcached_by_expiration_on_the_injected_clock()
    {
        var prefix = EngineServers.NewName();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var first = RingCaches.Hybrid(servers, prefix, time);
        await using var second = RingCaches.Hybrid(servers, prefix, time);
        var cache = first.GetRequiredService<HybridCache>();
        var options = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(10), LocalCacheExpiration = TimeSpan.FromMinutes(1) };

        Assert.Equal("v-1", await cache.GetOrCreateAsync("k", new Source("v").Next, options));
        Assert.Equal("v-1", await second.GetRequiredService<HybridCache>().GetOrCreateAsync("shared", _ => ValueTask.FromResult("v-1"), options));
        await DeleteFromMemcachedAsync(prefix, "k");
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("v-1", await cache.GetOrCreateAsync("k", new Source("local").Next, options));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("l2-1", await cache.GetOrCreateAsync("k", new Source("l2").Next, options));

        Assert.Equal("v-1", await cache.GetOrCreateAsync("shared", new Source("x").Next, options));
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal("late-1", await cache.GetOrCreateAsync("shared", new Source("late").Next, options));
    }

    [Fact]
    public async Task Serializers_come_from_the_container_and_default_to_raw_text_and_json()
    {
        var prefix = EngineServers.NewName();
        var custom = new CountingSerializer();
        await using var provider = RingCaches.Hybrid(servers, prefix, register: services =>
        {
            services.AddSingleton<IHybridCacheSerializer<Guid>>(custom);
            services.AddSingleton<IHybridCacheSerializerFactory>(new VersionSerializerFactory());
        });
        var cache = provider.GetRequiredService<HybridCache>();
        var noLocal = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCache };

        var id = Guid.NewGuid();
        await cache.SetAsync("guid", id);
        Assert.Equal(id, await cache.GetOrCreateAsync("guid", _ => ValueTask.FromResult(Guid.Empty), noLocal));
        Assert.Equal((1, 1), (custom.Serialized, custom.Deserialized));

        await cache.SetAsync("version", new Version(1, 2, 3));
        Assert.Equal(new Version(1, 2, 3), await cache.GetOrCreateAsync("version", _ => ValueTask.FromResult(new Version()), noLocal));
        Assert.EndsWith("v1.2.3", Encoding.UTF8.GetString(await RawAsync(prefix, "version")));

        await cache.SetAsync("text", "héllo");
        Assert.True((await RawAsync(prefix, "text")).AsSpan().EndsWith("héllo"u8));
        await cache.SetAsync("product", new Product(7, "seven"));
        Assert.EndsWith("""{"Id":7,"Name":"seven"}""", Encoding.UTF8.GetString(await RawAsync(prefix, "product")));

        var fromL1 = await cache.GetOrCreateAsync("product", _ => ValueTask.FromResult(new Product(0, "")));
        Assert.Equal(new Product(7, "seven"), fromL1);
        Assert.NotSame(fromL1, await cache.GetOrCreateAsync("product", _ => ValueTask.FromResult(new Product(0, ""))));
        Assert.Same(await cache.GetOrCreateAsync("text", _ => ValueTask.FromResult("")), await cache.GetOrCreateAsync("text", _ => ValueTask.FromResult("")));
    }

    [Fact]
    public async Task A_value_over_the_payload_limit_or_a_key_over_1024_characters_is_returned_but_not_cached()
    {
        await using var provider = RingCaches.Hybrid(servers, EngineServers.NewName(), configure: o => o.UseMaximumPayloadBytes(100));
        var cache = provider.GetRequiredService<HybridCache>();
        var calls = 0;
        ValueTask<string> Big(CancellationToken _) => ValueTask.FromResult(new string('x', 100 + Interlocked.Increment(ref calls)));

        Assert.Equal(101, (await cache.GetOrCreateAsync("big", Big)).Length);
        Assert.Equal(102, (await cache.GetOrCreateAsync("big", Big)).Length);
        Assert.Equal(2, calls);

        var longKey = new string('k', 1025);
        var source = new Source("v");
        Assert.Equal("v-1", await cache.GetOrCreateAsync(longKey, source.Next));
        Assert.Equal("v-2", await cache.GetOrCreateAsync(longKey, source.Next));
        Assert.Equal("v-3", await cache.GetOrCreateAsync(new string('k', 1024), source.Next));
        Assert.Equal("v-3", await cache.GetOrCreateAsync(new string('k', 1024), source.Next));
    }

    private sealed class CountingSerializer : IHybridCacheSerializer<Guid>
    {
        private int _serialized;
        private int _deserialized;

        public int Serialized => _serialized;

        public int Deserialized => _deserialized;

        public Guid Deserialize(ReadOnlySequence<byte> source)
        {
            Interlocked.Increment(ref _deserialized);
            return new Guid(source.ToArray());
        }

        public void Serialize(Guid value, IBufferWriter<byte> target)
        {
            Interlocked.Increment(ref _serialized);
            target.Write(value.ToByteArray());
        }
    }

    private sealed class VersionSerializerFactory : IHybridCacheSerializerFactory
    {
        public bool TryCreateSerializer<T>([NotNullWhen(true)] out IHybridCacheSerializer<T>? serializer)
        {
            serializer = typeof(T) == typeof(Version) ? (IHybridCacheSerializer<T>)(object)new VersionSerializer() : null;
            return serializer is not null;
        }
    }

    private sealed class VersionSerializer : IHybridCacheSerializer<Version>
    {
        public Version Deserialize(ReadOnlySequence<byte> source) => Version.Parse(Encoding.UTF8.GetString(source)[1..]);

        public void Serialize(Version value, IBufferWriter<byte> target) => Encoding.UTF8.GetBytes("v" + value, target);
    }
}
