using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using TypedCache.Benchmarks.Caching;

namespace TypedCache.Load.Workers;

/// <summary>The three operations of the load on one cache; a read reports whether it was a hit (no loader call).</summary>
internal interface ILoadTarget : IAsyncDisposable
{
    ValueTask<bool> ReadAsync(int key, CancellationToken cancellationToken);

    ValueTask WriteAsync(int key, long version, CancellationToken cancellationToken);

    ValueTask InvalidateAsync(int key, CancellationToken cancellationToken);
}

internal static class LoadTargets
{
    public const string Payload = "a load-test payload of about one hundred bytes, enough to be a realistic small cached record..";

    public static Item Loaded(int key, long version = 0) => new(key, version, Payload);

    public static ILoadTarget Create(WorkerSpec spec) => spec.Engine switch
    {
        LoadEngine.TypedCache => new TypedTarget(TypedClients.Open(spec.ZooKeeper, spec.Root, spec.Memcached, spec.LocalCacheMaxEntries), spec.LoaderDelayMilliseconds),
        LoadEngine.FusionCache => new FusionTarget(spec.Redis ?? throw new ArgumentException("FusionCache needs a Redis endpoint"), spec.LoaderDelayMilliseconds, backplane: false),
        LoadEngine.FusionCacheBackplane => new FusionTarget(spec.Redis ?? throw new ArgumentException("FusionCache needs a Redis endpoint"), spec.LoaderDelayMilliseconds, backplane: true),
        LoadEngine.HybridCache => new HybridTarget(spec.Redis ?? throw new ArgumentException("HybridCache needs a Redis endpoint"), spec.LoaderDelayMilliseconds),
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Engine, "unknown engine"),
    };

    /// <summary>The loader of every target: the record at version 0, after the configured delay.</summary>
    private static async ValueTask<Item> LoadAsync(int key, int delayMilliseconds, CancellationToken cancellationToken)
    {
        if (delayMilliseconds > 0)
            await Task.Delay(delayMilliseconds, cancellationToken);
        return Loaded(key);
    }

    private static string KeyOf(int key) => "item:" + key.ToString(CultureInfo.InvariantCulture);

    private sealed class TypedTarget(LoadCache cache, int delay) : ILoadTarget
    {
        public async ValueTask<bool> ReadAsync(int key, CancellationToken cancellationToken)
        {
            bool loaded = false;
            await cache.Items.GetOrLoadAsync(key, async (id, ct) =>
            {
                loaded = true;
                return await LoadAsync(id, delay, ct);
            }, cancellationToken);
            return !loaded;
        }

        public ValueTask WriteAsync(int key, long version, CancellationToken cancellationToken) =>
            cache.Items.SetAsync(Loaded(key, version), cancellationToken);

        public ValueTask InvalidateAsync(int key, CancellationToken cancellationToken) => cache.Items.InvalidateAsync(key, cancellationToken);

        public ValueTask DisposeAsync() => cache.DisposeAsync();
    }

    private sealed class FusionTarget : ILoadTarget
    {
        private static readonly FusionCacheEntryOptions Entry = new() { Duration = TimeSpan.FromHours(1) };
        private readonly FusionCache _cache = new(new FusionCacheOptions { WaitForInitialBackplaneSubscribe = true });
        private readonly int _delay;

        public FusionTarget(string redis, int delay, bool backplane)
        {
            _delay = delay;
            _cache.SetupDistributedCache(new RedisCache(new RedisCacheOptions { Configuration = redis }), new JsonFusionSerializer());
            if (backplane)
                _cache.SetupBackplane(new RedisBackplane(Options.Create(new RedisBackplaneOptions { Configuration = redis })));
        }

        public async ValueTask<bool> ReadAsync(int key, CancellationToken cancellationToken)
        {
            bool loaded = false;
            await _cache.GetOrSetAsync<Item>(KeyOf(key), async (_, ct) =>
            {
                loaded = true;
                return await LoadAsync(key, _delay, ct);
            }, Entry, cancellationToken);
            return !loaded;
        }

        public ValueTask WriteAsync(int key, long version, CancellationToken cancellationToken) =>
            _cache.SetAsync(KeyOf(key), Loaded(key, version), Entry, cancellationToken);

        public ValueTask InvalidateAsync(int key, CancellationToken cancellationToken) => _cache.RemoveAsync(KeyOf(key), token: cancellationToken);

        public ValueTask DisposeAsync()
        {
            _cache.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class HybridTarget : ILoadTarget
    {
        private readonly ServiceProvider _services;
        private readonly HybridCache _cache;
        private readonly int _delay;

        public HybridTarget(string redis, int delay)
        {
            _delay = delay;
            var services = new ServiceCollection();
            services.AddStackExchangeRedisCache(o => o.Configuration = redis);
            services.AddHybridCache();
            _services = services.BuildServiceProvider();
            _cache = _services.GetRequiredService<HybridCache>();
        }

        public async ValueTask<bool> ReadAsync(int key, CancellationToken cancellationToken)
        {
            bool loaded = false;
            await _cache.GetOrCreateAsync(KeyOf(key), async ct =>
            {
                loaded = true;
                return await LoadAsync(key, _delay, ct);
            }, cancellationToken: cancellationToken);
            return !loaded;
        }

        public ValueTask WriteAsync(int key, long version, CancellationToken cancellationToken) =>
            _cache.SetAsync(KeyOf(key), Loaded(key, version), cancellationToken: cancellationToken);

        public ValueTask InvalidateAsync(int key, CancellationToken cancellationToken) => _cache.RemoveAsync(KeyOf(key), cancellationToken);

        public ValueTask DisposeAsync() => _services.DisposeAsync();
    }

}

/// <summary>Opens TypedCache clients of the load tool: ring from ZooKeeper membership unless servers are listed.</summary>
internal static class TypedClients
{
    public static LoadCache Open(string? zooKeeper, string root, IReadOnlyList<string> memcached, int localCacheMaxEntries = 10_000)
    {
        var builder = new CacheContextOptionsBuilder<LoadCache>().UseMemcached(memcached, o => o.LocalCacheMaxEntries = localCacheMaxEntries);
        if (zooKeeper is not null)
            builder.UseZooKeeper(zooKeeper, root);
        return new LoadCache(builder.Options);
    }
}
