using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using TypedCache.Testing;
using ZiggyCreatures.Caching.Fusion;

namespace TypedCache.Benchmarks.Caching;

/// <summary>
/// A hit in the in-process level, side by side: TypedCache's <c>GetOrLoadAsync</c> on the memcached engine (L1 over
/// a real memcached), FusionCache's <c>GetOrSetAsync</c> (memory only) and HybridCache's <c>GetOrCreateAsync</c>
/// (memory only). Every call finds its value in process memory.
/// </summary>
[MemoryDiagnoser]
public class L1HitBenchmarks
{
    private const int Id = 42;
    private static readonly Product Value = new(Id, "Green tea", 4.5m);
    private MemcachedServer _server = null!;
    private BenchCache _cache = null!;
    private FusionCache _fusion = null!;
    private ServiceProvider _services = null!;
    private HybridCache _hybrid = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = await MemcachedServer.StartAsync();
        _cache = new BenchCache(new CacheContextOptionsBuilder<BenchCache>().UseMemcached(_server.Endpoint).Options);
        await _cache.Products.GetOrLoadAsync(Id, static (id, _) => ValueTask.FromResult<Product?>(Value));
        _fusion = new FusionCache(new FusionCacheOptions());
        await _fusion.GetOrSetAsync<Product>("product:42", static (_, _) => Task.FromResult(Value));
        _services = new ServiceCollection().AddHybridCache().Services.BuildServiceProvider();
        _hybrid = _services.GetRequiredService<HybridCache>();
        await _hybrid.GetOrCreateAsync("product:42", static _ => ValueTask.FromResult(Value));
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _cache.DisposeAsync();
        _fusion.Dispose();
        await _services.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public ValueTask<Product?> TypedCache() => _cache.Products.GetOrLoadAsync(Id, static (id, _) => ValueTask.FromResult<Product?>(Value));

    [Benchmark]
    public ValueTask<Product> FusionCache() => _fusion.GetOrSetAsync<Product>("product:42", static (_, _) => Task.FromResult(Value));

    [Benchmark]
    public ValueTask<Product> HybridCache() => _hybrid.GetOrCreateAsync("product:42", static _ => ValueTask.FromResult(Value));
}
