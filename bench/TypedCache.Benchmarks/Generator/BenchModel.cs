using System.Text.Json.Serialization;
using MessagePack;

namespace TypedCache.Benchmarks.Generator;

/// <summary>The generated side: a [Cached] order with the usual member mix.</summary>
[Cached]
public sealed partial record BenchOrder(
    [property: CacheKey] int Id,
    string Customer,
    long Revision,
    double Weight,
    bool Paid,
    DateTime Placed,
    List<BenchLine> Lines);

public sealed record BenchLine(string Sku, int Quantity, double Price);

/// <summary>The same shape for MessagePack's StandardResolver: index keys, so the payload is an array as ours.</summary>
[MessagePackObject]
public sealed record MpOrder(
    [property: Key(0)] int Id,
    [property: Key(1)] string Customer,
    [property: Key(2)] long Revision,
    [property: Key(3)] double Weight,
    [property: Key(4)] bool Paid,
    [property: Key(5)] DateTime Placed,
    [property: Key(6)] List<MpLine> Lines);

[MessagePackObject]
public sealed record MpLine([property: Key(0)] string Sku, [property: Key(1)] int Quantity, [property: Key(2)] double Price);

/// <summary>The same shape for System.Text.Json's source generator.</summary>
public sealed record StjOrder(int Id, string Customer, long Revision, double Weight, bool Paid, DateTime Placed, List<StjLine> Lines);

public sealed record StjLine(string Sku, int Quantity, double Price);

[JsonSerializable(typeof(StjOrder))]
internal sealed partial class BenchJsonContext : JsonSerializerContext
{
}

/// <summary>A two-part key like design.md's Stock, for key building.</summary>
[Cached]
public sealed partial record BenchStock([property: CacheKey(Order = 0)] int WarehouseId, [property: CacheKey(Order = 1)] string Sku, int Quantity);
