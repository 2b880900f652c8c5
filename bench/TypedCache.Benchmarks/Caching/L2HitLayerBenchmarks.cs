using System.Text;
using BenchmarkDotNet.Attributes;
using StackExchange.Redis;
using TypedCache.Cluster;
using TypedCache.Memcached;
using TypedCache.Testing;

namespace TypedCache.Benchmarks.Caching;

/// <summary>
/// Where the time and bytes of an L2 hit go, layer by layer, under the load of <see cref="L2HitBenchmarks"/>
/// (<see cref="Callers"/> concurrent gets of distinct keys, every one a hit): a raw Redis <c>GET</c> through
/// StackExchange.Redis (the floor under FusionCache and HybridCache), a plain <c>mg</c> on the memcached client, the
/// same with the engine's lease flags, a cluster get with the lease flags, and the engine's <c>GetOrLoadAsync</c> with
/// L1 off. Every call is awaited through the same <see cref="ValueTask"/> harness, so the differences are the layers'.
/// </summary>
[MemoryDiagnoser]
public class L2HitLayerBenchmarks
{
    private const int Callers = 64;
    private static readonly MemcachedGetOptions Lease = new() { VivifyOnMissTtl = 2, RecacheBelowTtl = 60 };
    private readonly ValueTask<MemcachedGetResult>[] _gets = new ValueTask<MemcachedGetResult>[Callers];
    private readonly ValueTask<ClusterReply<MemcachedGetResult>>[] _clusterGets = new ValueTask<ClusterReply<MemcachedGetResult>>[Callers];
    private readonly ValueTask<Product?>[] _engineGets = new ValueTask<Product?>[Callers];
    private readonly Task<RedisValue>[] _redisGets = new Task<RedisValue>[Callers];
    private byte[][] _keys = null!;
    private RedisKey[] _redisKeys = null!;
    private MemcachedServer _memcached = null!;
    private RedisServer _redis = null!;
    private MemcachedClient _client = null!;
    private MemcachedCluster _cluster = null!;
    private BenchCache _cache = null!;
    private ConnectionMultiplexer _multiplexer = null!;
    private IDatabase _database = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _memcached = await MemcachedServer.StartAsync();
        _redis = await RedisServer.StartAsync();
        _client = await MemcachedClient.ConnectAsync(_memcached.Host, _memcached.Port);
        _cluster = MemcachedCluster.Create([new RingNode(_memcached.Host, _memcached.Port)]);
        await _cluster.WaitForConnectionsAsync(TimeSpan.FromSeconds(10));
        _cache = new BenchCache(new CacheContextOptionsBuilder<BenchCache>().UseMemcached([_memcached.Endpoint], o => o.LocalCacheMaxEntries = 0).Options);
        _multiplexer = await ConnectionMultiplexer.ConnectAsync(_redis.Endpoint);
        _database = _multiplexer.GetDatabase();
        _keys = new byte[Callers][];
        _redisKeys = new RedisKey[Callers];
        for (var id = 0; id < Callers; id++)
        {
            await _cache.Products.SetAsync(new Product(id, "Green tea", 4.5m));
            _keys[id] = Encoding.ASCII.GetBytes("layer:" + id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            _redisKeys[id] = "layer:" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var value = new byte[40];
            await _client.SetAsync(_keys[id], value, new MemcachedStoreOptions { Ttl = 3600 });
            await _database.StringSetAsync(_redisKeys[id], value);
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _cache.DisposeAsync();
        await _cluster.DisposeAsync();
        await _client.DisposeAsync();
        await _multiplexer.DisposeAsync();
        await _memcached.DisposeAsync();
        _redis.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Callers)]
    public async Task RedisGet()
    {
        for (var i = 0; i < Callers; i++)
        {
            _redisGets[i] = _database.StringGetAsync(_redisKeys[i]);
        }

        for (var i = 0; i < Callers; i++)
        {
            await _redisGets[i];
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Callers)]
    public Task ClientGet() => ClientGetAsync(default);

    [Benchmark(OperationsPerInvoke = Callers)]
    public Task ClientLeaseGet() => ClientGetAsync(Lease);

    [Benchmark(OperationsPerInvoke = Callers)]
    public async Task ClusterLeaseGet()
    {
        for (var i = 0; i < Callers; i++)
        {
            _clusterGets[i] = _cluster.GetAsync(_keys[i], Lease);
        }

        for (var i = 0; i < Callers; i++)
        {
            (await _clusterGets[i]).Value.Dispose();
        }
    }

    [Benchmark(OperationsPerInvoke = Callers)]
    public async Task EngineGet()
    {
        for (var i = 0; i < Callers; i++)
        {
            _engineGets[i] = _cache.Products.GetOrLoadAsync(i, static (id, _) => ValueTask.FromResult<Product?>(new Product(id, "Green tea", 4.5m)));
        }

        for (var i = 0; i < Callers; i++)
        {
            await _engineGets[i];
        }
    }

    private async Task ClientGetAsync(MemcachedGetOptions options)
    {
        for (var i = 0; i < Callers; i++)
        {
            _gets[i] = _client.GetAsync(_keys[i], options);
        }

        for (var i = 0; i < Callers; i++)
        {
            (await _gets[i]).Dispose();
        }
    }
}
