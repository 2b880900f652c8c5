using System.Text;
using BenchmarkDotNet.Attributes;
using TypedCache.Memcached;

namespace TypedCache.Benchmarks.Memcached;

/// <summary>Request writing and response parsing of the meta protocol, per operation; the hot path allocates nothing.</summary>
[MemoryDiagnoser]
public class MetaProtocolBenchmarks
{
    private static readonly byte[] Key = "product:12345:v7"u8.ToArray();
    private static readonly byte[] Value = new byte[100];
    private readonly PooledBufferWriter _writer = new();
    private byte[] _hit = [];
    private byte[] _batch = [];
    private byte[][] _batchKeys = [];

    [GlobalSetup]
    public void Setup()
    {
        _hit = Encoding.ASCII.GetBytes("VA 100 f17 c123456 t3599\r\n" + new string('x', 100) + "\r\n");
        var batch = new StringBuilder();
        for (int i = 0; i < 64; i++)
            batch.Append($"VA 100 f17 c{123456 + i} t3599 O{i}\r\n").Append('x', 100).Append("\r\n");
        batch.Append("MN\r\n");
        _batch = Encoding.ASCII.GetBytes(batch.ToString());
        _batchKeys = Enumerable.Range(0, 64).Select(i => Encoding.ASCII.GetBytes("product:" + i)).ToArray();
    }

    [Benchmark]
    public int WriteGet()
    {
        _writer.Clear();
        MetaRequestWriter.WriteGet(_writer, Key, default);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public int WriteSet100B()
    {
        _writer.Clear();
        MetaRequestWriter.WriteSet(_writer, Key, Value, new MemcachedStoreOptions { Ttl = 3600, ClientFlags = 17 });
        return _writer.WrittenCount;
    }

    [Benchmark(OperationsPerInvoke = 64)]
    public int WriteBatchOf64()
    {
        _writer.Clear();
        for (int i = 0; i < _batchKeys.Length; i++)
            MetaRequestWriter.WriteGet(_writer, _batchKeys[i], default, opaque: i, quiet: true);
        MetaRequestWriter.WriteNoOp(_writer);
        return _writer.WrittenCount;
    }

    [Benchmark]
    public ulong ParseHit()
    {
        MetaResponseParser.TryParse(_hit, int.MaxValue, out var response, out _);
        MetaFlags.TryParse(response.Text, out var flags);
        return flags.Cas + (ulong)response.Value.Length;
    }

    [Benchmark(OperationsPerInvoke = 64)]
    public long ParseBatchOf64()
    {
        long sum = 0;
        ReadOnlySpan<byte> input = _batch;
        while (MetaResponseParser.TryParse(input, int.MaxValue, out var response, out int consumed) == MetaParseStatus.Complete)
        {
            MetaFlags.TryParse(response.Text, out var flags);
            sum += flags.Opaque + response.Value.Length;
            input = input[consumed..];
        }
        return sum;
    }
}
