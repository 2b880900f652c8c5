using System.Text;
using BenchmarkDotNet.Attributes;
using TypedCache.Memcached;
using TypedCache.Testing;

namespace TypedCache.Benchmarks.Memcached;

/// <summary>
/// Round trips through the client against a real memcached: allocations per operation on the hot path (the pooled
/// value buffers are rented and returned, so they do not show).
/// </summary>
[MemoryDiagnoser]
public class MemcachedClientBenchmarks
{
    private const int Operations = 1000;
    private MemcachedServer _server = null!;
    private MemcachedClient _client = null!;
    private ReadOnlyMemory<byte>[] _keys = [];
    private readonly byte[] _value = new byte[100];

    [GlobalSetup]
    public async Task Setup()
    {
        _server = await MemcachedServer.StartAsync();
        _client = await MemcachedClient.ConnectAsync(_server.Host, _server.Port);
        _keys = Enumerable.Range(0, 64).Select(i => (ReadOnlyMemory<byte>)Encoding.ASCII.GetBytes("bench:" + i)).ToArray();
        foreach (var key in _keys)
            await _client.SetAsync(key.Span, _value);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public async Task<long> Get()
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
    public async Task<long> Set()
    {
        long stored = 0;
        for (int i = 0; i < Operations; i++)
            stored += (int)(await _client.SetAsync(_keys[i & 63].Span, _value)).Status;
        return stored;
    }

    [Benchmark(OperationsPerInvoke = Operations / 10 * 64)]
    public async Task<long> GetManyOf64()
    {
        long found = 0;
        for (int i = 0; i < Operations / 10; i++)
        {
            using var results = await _client.GetManyAsync(_keys);
            found += results.Count;
        }
        return found;
    }
}
