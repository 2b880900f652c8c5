namespace TypedCache.Generator.Tests;

/// <summary>Representative inputs for snapshot, compile and incrementality tests.</summary>
internal static class Sources
{
    public const string Shop = """
        using TypedCache;

        namespace Shop;

        [Cached(TtlSeconds = 600, Tags = new[] { "catalog" })]
        public partial record Product([property: CacheKey] int Id, string Name, decimal Price);

        [Cached(TtlSeconds = 60)]
        public partial record Stock([property: CacheKey(Order = 0)] int WarehouseId,
                                    [property: CacheKey(Order = 1)] string Sku, int Quantity);

        public partial class ShopCache : CacheContext
        {
            public ShopCache(CacheContextOptions<ShopCache> options) : base(options) { }
            public partial ProductRepo Products { get; }
            public partial StockRepo Stock { get; }
        }
        """;

    public const string Members = """
        using System;
        using System.Collections.Generic;
        using System.Collections.Immutable;
        using TypedCache;

        namespace Orders.Model
        {
            public enum Status : short { Open, Closed }

            public sealed record Address(string Street, string? City);

            public sealed class Line
            {
                public string Sku { get; set; } = "";
                public int Quantity { get; init; }
                public List<Line>? Children { get; set; }
            }

            [Cached(Name = "order", TtlSeconds = 120, LocalTtlSeconds = 10, Tags = new[] { "orders", "sales" })]
            public sealed partial class Order
            {
                public Order(Guid id, DateTimeOffset placed) { Id = id; Placed = placed; }

                [CacheKey] public Guid Id { get; }
                public DateTimeOffset Placed { get; }
                public Status Status { get; set; }
                public int? Priority { get; set; }
                public decimal Total { get; set; }
                public DateTime Due { get; set; }
                public TimeSpan Window { get; set; }
                public byte[]? Signature { get; set; }
                public string?[] Notes { get; set; } = [];
                public List<Line> Lines { get; set; } = new();
                public Dictionary<string, Address?> Addresses { get; set; } = new();
                public ImmutableArray<Status> History { get; set; }
                [CacheIgnore] public object? Scratch { get; set; }
                public int LineCount => Lines.Count;
            }
        }
        """;

    public const string Unusual = """
        using TypedCache;

        [Cached]
        internal partial record Global([property: CacheKey(Order = 1)] string Class, [property: CacheKey(Order = 0)] long Loader, char Value);

        namespace Outer
        {
            public static partial class Holder
            {
                [Cached(Name = "nested.item")]
                public partial class Item
                {
                    [CacheKey] public ulong Id { get; set; }
                    [CacheKey(Order = 1)] public System.DayOfWeek Day { get; set; }
                    public bool Flag;
                }
            }

            internal partial class Cache : CacheContext
            {
                public Cache(CacheContextOptions<Cache> options) : base(options) { }
                internal partial global::GlobalRepo Globals { get; }
                public partial Outer.ItemRepo Items { get; }
            }
        }
        """;
}
