using System.Text;
using BenchmarkDotNet.Attributes;
using TypedCache.Cluster;
using TypedCache.Memcached;
using TypedCache.Testing;

namespace TypedCache.Benchmarks.Cluster;

/// <summary>
/// What the cluster client adds on top of the per-node client: the same gets against the same real memcached, once
/// straight through its <see cref="MemcachedClient"/> and once through a <see cref="MemcachedCluster"/> whose ring
/// routes them to a client of that server (ring lookup, health bookkeeping, reply wrapping).
/// </summary>
[MemoryDiagnoser]
public class ClusterBenchmarks
{
    private const int Operations = 1000;
    private MemcachedServer _server = null!;
    private MemcachedClient _client = null!;
    private MemcachedCluster _cluster = null!;
    private ReadOnlyMemory<byte>[] _keys = [];
    private readonly byte[] _value = new byte[100];

    [GlobalSetup]
    public async Task Setup()
    {
        _server = await MemcachedServer.StartAsync();
        _client = await MemcachedClient.ConnectAsync(_server.Host, _server.Port);
        _cluster = MemcachedCluster.Create([new RingNode(_server.Host, _server.Port)]);
        _keys = [.. Enumerable.Range(0, 64).Select(i => (ReadOnlyMemory<byte>)Encoding.ASCII.GetBytes("bench:" + i))];
        foreach (var key in _keys)
            await _client.SetAsync(key.Span, _value);
        while (!(await _cluster.GetAsync(_keys[0].Span)).IsAvailable)
            await Task.Yield();
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _cluster.DisposeAsync();
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public async Task<long> ClientGet()
    {
        long found = 0;
        for (int i = 0; i < Operations; i++)
        {
            using var result = await _client.GetAsync(_keys[i & 63].Span);
            found += result.Value.Length;
        }
        return found;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task<long> ClusterGet()
    {
        long found = 0;
        for (int i = 0; i < Operations; i++)
        {
            var reply = await _cluster.GetAsync(_keys[i & 63].Span);
            using var result = reply.Value;
            found += result.Value.Length;
        }
        return found;
    }
}
