using System.Collections.Immutable;

namespace TypedCache.Api.Tests;

public enum Color : byte
{
    Red,
    Green,
    Blue,
}

public enum Big : long
{
    Small = -1,
    Huge = long.MaxValue,
}

public sealed record Address(string Street, string? City, int Zip);

public sealed class Line
{
    public string Sku { get; set; } = string.Empty;

    public int Quantity { get; init; }

    public List<Line>? Children { get; set; }
}

public struct Point
{
    public double X { get; set; }

    public double Y { get; set; }
}

[Cached(Name = "everything", TtlSeconds = 30, LocalTtlSeconds = 5)]
public sealed partial record Everything([property: CacheKey] Guid Id)
{
    public bool Flag { get; init; }

    public byte Byte { get; init; }

    public sbyte SByte { get; init; }

    public short Short { get; init; }

    public ushort UShort { get; init; }

    public int Int { get; init; }

    public uint UInt { get; init; }

    public long Long { get; init; }

    public ulong ULong { get; init; }

    public float Float { get; init; }

    public double Double { get; init; }

    public char Char { get; init; }

    public string Text { get; init; } = string.Empty;

    public string? MaybeText { get; init; }

    public decimal Decimal { get; init; }

    public DateTime Date { get; init; }

    public DateTimeOffset DateOffset { get; init; }

    public TimeSpan Span { get; init; }

    public Guid Other { get; init; }

    public Color Color { get; init; }

    public Big Big { get; init; }

    public int? MaybeInt { get; init; }

    public Color? MaybeColor { get; init; }

    public DateTimeOffset? MaybeDate { get; init; }

    public byte[]? Bytes { get; init; }

    public int[]? Ints { get; init; }

    public string?[]? Strings { get; init; }

    public int[][]? Jagged { get; init; }

    public List<string>? List { get; init; }

    public Dictionary<string, int>? Map { get; init; }

    public Dictionary<int, Address?>? Addresses { get; init; }

    public ImmutableArray<long> Immutable { get; init; }

    public Address? Home { get; init; }

    public List<Line>? Lines { get; init; }

    public Point Where { get; init; }

    public Point? MaybeWhere { get; init; }

    [CacheIgnore]
    public string Ignored { get; init; } = "default";

    public int Computed => Int * 2;
}

[Cached(Tags = new[] { "catalog", "keys" })]
public sealed partial class Composite
{
    [CacheKey(Order = 0)]
    public string Text { get; set; } = string.Empty;

    [CacheKey(Order = 1)]
    public long Number { get; set; }

    [CacheKey(Order = 2)]
    public DateTime When { get; set; }

    [CacheKey(Order = 3)]
    public Color Color { get; set; }

    [CacheKey(Order = 4)]
    public bool Flag { get; set; }

    [CacheKey(Order = 5)]
    public char Letter { get; set; }

    [CacheKey(Order = 6)]
    public ulong Unsigned { get; set; }

    [CacheKey(Order = 7)]
    public TimeSpan Span { get; set; }

    [CacheKey(Order = 8)]
    public DateTimeOffset At { get; set; }

    public int Payload { get; set; }
}

public partial class AllCache : CacheContext
{
    public AllCache(CacheContextOptions<AllCache> options)
        : base(options)
    {
    }

    public partial EverythingRepo Everything { get; }

    public partial CompositeRepo Composites { get; }
}
