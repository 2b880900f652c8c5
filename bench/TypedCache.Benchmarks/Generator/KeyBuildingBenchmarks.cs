using BenchmarkDotNet.Attributes;
using TypedCache.Caching;

namespace TypedCache.Benchmarks.Generator;

/// <summary>
/// Building <c>tc:BenchStock:{version}:{warehouse}:{sku}</c>: the generated key struct written into a span after
/// the type's head (which an engine keeps per type version) against string interpolation (which neither escapes
/// nor bounds the key).
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class KeyBuildingBenchmarks
{
    private const string Prefix = "tc";
    private const string TypeName = "BenchStock";
    private readonly byte[] _head = CacheKeys.Head(Prefix, BenchStockRepo.Descriptor, 3);
    private readonly byte[] _destination = new byte[CacheKeys.MaxLength];
    private long _version = 3;
    private int _warehouse = 12345;
    private string _sku = "SKU-000042-BLUE";

    [Benchmark(Baseline = true)]
    public string Interpolation() => $"{Prefix}:{TypeName}:{_version}:{_warehouse}:{_sku}";

    [Benchmark]
    public int GeneratedKey() => CacheKeys.Write(_destination, _head, new BenchStockKey(_warehouse, _sku));
}
