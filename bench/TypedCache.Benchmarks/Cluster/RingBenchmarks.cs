using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using TypedCache.Cluster;

namespace TypedCache.Benchmarks.Cluster;

/// <summary>
/// Key lookup on a 10-node weighted ketama ring (1,600 points): the whole lookup from UTF-8 bytes and from
/// a string, the key hash alone and the point search alone, per compatibility; and the platform's MD5 on
/// the same key, which the ring's managed MD5 replaces. Every lookup must show 0 B allocated.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class RingBenchmarks
{
    private KetamaRing _ring = null!;
    private byte[] _keyBytes = null!;
    private string _key = null!;

    [Params(RingCompatibility.LibmemcachedWeighted, RingCompatibility.TwemproxyFnv1a64)]
    public RingCompatibility Compatibility { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ring = KetamaRing.Create(Enumerable.Range(0, 10).Select(i => new RingNode("10.0.0." + (i + 1))), Compatibility);
        _key = "TypedCache:Product:1:42";
        _keyBytes = Encoding.UTF8.GetBytes(_key);
    }

    [Benchmark(Baseline = true)]
    public int LookupBytes() => _ring.GetNodeIndex(_keyBytes);

    [Benchmark]
    public int LookupString() => _ring.GetNodeIndex(_key);

    [Benchmark]
    public uint HashOnly() => _ring.HashKey(_keyBytes);

    [Benchmark]
    public uint PlatformMd5()
    {
        Span<byte> digest = stackalloc byte[16];
        MD5.HashData(_keyBytes, digest);
        return BitConverter.ToUInt32(digest);
    }

    [Benchmark]
    public int SearchOnly() => _ring.GetNodeIndexForHash(0x9e3779b9);
}
