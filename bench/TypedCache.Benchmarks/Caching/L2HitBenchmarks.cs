using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using TypedCache.Testing;
using ZiggyCreatures.Caching.Fusion;

namespace TypedCache.Benchmarks.Caching;

/// <summary>
/// Throughput of hits in the distributed level, side by side: TypedCache's <c>GetOrLoadAsync</c> with L1 off over a
/// real memcached, FusionCache's <c>GetOrSetAsync</c> skipping its memory cache over Redis, and HybridCache's
/// <c>GetOrCreateAsync</c> with its local cache disabled over Redis (both through
/// Microsoft.Extensions.Caching.StackExchangeRedis). Each invocation is <see cref="Callers"/> concurrent gets of
/// distinct keys, every one a hit in the remote server.
/// </summary>
[MemoryDiagnoser]
public class L2HitBenchmarks
{
    private const int Callers = 64;
    private static readonly HybridCacheEntryOptions HybridRemoteOnly = new() { Flags = HybridCacheEntryFlags.DisableLocalCache };
    private readonly Task[] _calls = new Task[Callers];
    private MemcachedServer _memcached = null!;
    private RedisServer _redis = null!;
    private BenchCache _cache = null!;
    private FusionCache _fusion = null!;
    private FusionCacheEntryOptions _fusionRemoteOnly = null!;
    private ServiceProvider _services = null!;
    private HybridCache _hybrid = null!;

    private static Product ValueOf(int id) => new(id, "Green tea", 4.5m);

    private static string KeyOf(int id) => "product:" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _memcached = await MemcachedServer.StartAsync();
        _redis = await RedisServer.StartAsync();
        _cache = new BenchCache(new CacheContextOptionsBuilder<BenchCache>().UseMemcached([_memcached.Endpoint], o => o.LocalCacheMaxEntries = 0).Options);
        _fusion = new FusionCache(new FusionCacheOptions());
        _fusion.SetupDistributedCache(new RedisCache(new RedisCacheOptions { Configuration = _redis.Endpoint }), new JsonFusionSerializer());
        _fusionRemoteOnly = new FusionCacheEntryOptions { Duration = TimeSpan.FromHours(1), SkipMemoryCacheRead = true, SkipMemoryCacheWrite = true };
        var services = new ServiceCollection();
        services.AddStackExchangeRedisCache(o => o.Configuration = _redis.Endpoint);
        services.AddHybridCache();
        _services = services.BuildServiceProvider();
        _hybrid = _services.GetRequiredService<HybridCache>();
        for (var id = 0; id < Callers; id++)
        {
            await _cache.Products.SetAsync(ValueOf(id));
            await _fusion.SetAsync(KeyOf(id), ValueOf(id), _fusionRemoteOnly);
            await _hybrid.SetAsync(KeyOf(id), ValueOf(id), HybridRemoteOnly);
        }

        await Task.WhenAll(TypedCache(), FusionCache(), HybridCache());
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _cache.DisposeAsync();
        _fusion.Dispose();
        await _services.DisposeAsync();
        await _memcached.DisposeAsync();
        _redis.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Callers)]
    public Task TypedCache()
    {
        for (var id = 0; id < Callers; id++)
        {
            _calls[id] = _cache.Products.GetOrLoadAsync(id, static (id, _) => ValueTask.FromResult<Product?>(ValueOf(id))).AsTask();
        }

        return Task.WhenAll(_calls);
    }

    [Benchmark(OperationsPerInvoke = Callers)]
    public Task FusionCache()
    {
        for (var id = 0; id < Callers; id++)
        {
            var key = id;
            _calls[id] = _fusion.GetOrSetAsync<Product>(KeyOf(id), (_, _) => Task.FromResult(ValueOf(key)), _fusionRemoteOnly).AsTask();
        }

        return Task.WhenAll(_calls);
    }

    [Benchmark(OperationsPerInvoke = Callers)]
    public Task HybridCache()
    {
        for (var id = 0; id < Callers; id++)
        {
            _calls[id] = _hybrid.GetOrCreateAsync(KeyOf(id), id, static (id, _) => ValueTask.FromResult(ValueOf(id)), HybridRemoteOnly).AsTask();
        }

        return Task.WhenAll(_calls);
    }
}
