using System.Buffers;
using System.Collections.Immutable;
using CsCheck;
using MessagePack;

namespace TypedCache.Api.Tests;

public sealed class RoundTripTests
{
    private static readonly Gen<Address> GenAddress =
        from street in Gen.String
        from city in Gen.String.Null()
        from zip in Gen.Int
        select new Address(street, city, zip);

    private static readonly Gen<Line> GenLine =
        from sku in Gen.String
        from quantity in Gen.Int
        from children in Gen.Select(Gen.String, Gen.Int, static (s, q) => new Line { Sku = s, Quantity = q }).List[0, 3].Null()
        select new Line { Sku = sku, Quantity = quantity, Children = children };

    private static readonly Gen<Everything> GenEverything =
        from id in Gen.Guid
        from numbers in Gen.Select(Gen.Bool, Gen.Byte, Gen.SByte, Gen.Short, Gen.UShort, Gen.Int, Gen.UInt)
        from wide in Gen.Select(Gen.Long, Gen.ULong, Gen.Float, Gen.Double, Gen.Char, Gen.Decimal)
        from texts in Gen.Select(Gen.String, Gen.String.Null(), Gen.Byte.Array.Null(), Gen.Int.Array.Null(), Gen.String.Null().Array.Null())
        from times in Gen.Select(Gen.DateTime, Gen.DateTimeOffset, Gen.TimeSpan, Gen.Guid)
        from enums in Gen.Select(Gen.Enum<Color>(), Gen.OneOfConst(Big.Small, Big.Huge), Gen.Int.Nullable(), Gen.Enum<Color>().Nullable(), Gen.DateTimeOffset.Nullable())
        from collections in Gen.Select(
            Gen.Int.Array[0, 3].Array[0, 3].Null(),
            Gen.String.List.Null(),
            Gen.Dictionary(Gen.String, Gen.Int).Null(),
            Gen.Dictionary(Gen.Int, GenAddress.Null()).Null(),
            Gen.Long.Array.Select(static a => a.ToImmutableArray()))
        from nested in Gen.Select(GenAddress.Null(), GenLine.List[0, 4].Null(), Gen.Double, Gen.Double, Gen.Select(Gen.Double, Gen.Double).Nullable())
        select new Everything(id)
        {
            Flag = numbers.Item1,
            Byte = numbers.Item2,
            SByte = numbers.Item3,
            Short = numbers.Item4,
            UShort = numbers.Item5,
            Int = numbers.Item6,
            UInt = numbers.Item7,
            Long = wide.Item1,
            ULong = wide.Item2,
            Float = wide.Item3,
            Double = wide.Item4,
            Char = wide.Item5,
            Decimal = wide.Item6,
            Text = texts.Item1,
            MaybeText = texts.Item2,
            Bytes = texts.Item3,
            Ints = texts.Item4,
            Strings = texts.Item5,
            Date = times.Item1,
            DateOffset = times.Item2,
            Span = times.Item3,
            Other = times.Item4,
            Color = enums.Item1,
            Big = enums.Item2,
            MaybeInt = enums.Item3,
            MaybeColor = enums.Item4,
            MaybeDate = enums.Item5,
            Jagged = collections.Item1,
            List = collections.Item2,
            Map = collections.Item3,
            Addresses = collections.Item4,
            Immutable = collections.Item5,
            Home = nested.Item1,
            Lines = nested.Item2,
            Where = new Point { X = nested.Item3, Y = nested.Item4 },
            MaybeWhere = nested.Item5 is { } p ? new Point { X = p.Item1, Y = p.Item2 } : null,
        };

    [Fact]
    public void Every_supported_member_type_round_trips()
    {
        var value = new Everything(Guid.NewGuid())
        {
            Flag = true,
            Byte = 255,
            SByte = -128,
            Short = short.MinValue,
            UShort = ushort.MaxValue,
            Int = int.MinValue,
            UInt = uint.MaxValue,
            Long = long.MinValue,
            ULong = ulong.MaxValue,
            Float = float.NaN,
            Double = double.Epsilon,
            Char = '\uD800',
            Text = "ünïcödé: \r\n",
            MaybeText = null,
            Decimal = 79228162514264337593543950335m,
            Date = new DateTime(2024, 2, 29, 23, 59, 59, DateTimeKind.Local).AddTicks(1),
            DateOffset = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.FromMinutes(-150)),
            Span = TimeSpan.MinValue,
            Other = Guid.NewGuid(),
            Color = Color.Blue,
            Big = Big.Huge,
            MaybeInt = 0,
            MaybeColor = null,
            MaybeDate = DateTimeOffset.MaxValue,
            Bytes = [0, 1, 255],
            Ints = [],
            Strings = ["a", null],
            Jagged = [[1], [], [2, 3]],
            List = ["x"],
            Map = new() { ["k"] = 1 },
            Addresses = new() { [1] = new Address("Main", null, 12345), [2] = null },
            Immutable = [1L, -1L],
            Home = new Address("Elm", "Springfield", 1),
            Lines = [new Line { Sku = "a", Quantity = 2, Children = [new Line { Sku = "b" }] }],
            Where = new Point { X = 1.5, Y = -2 },
            MaybeWhere = new Point { X = double.PositiveInfinity },
            Ignored = "not cached",
        };

        var copy = RoundTrip(value);

        Assert.Equal("default", copy.Ignored);
        Assert.Equal(value.Date.Kind, copy.Date.Kind);
        Assert.Equal(value.DateOffset.Offset, copy.DateOffset.Offset);
        Assert.Equivalent(value with { Ignored = "default" }, copy, strict: true);
    }

    [Fact]
    public void Nulls_and_defaults_round_trip()
    {
        var value = new Everything(Guid.Empty);
        var copy = RoundTrip(value);
        Assert.True(copy.Immutable.IsDefault);
        Assert.Null(copy.Lines);
        Assert.Equivalent(value with { Immutable = [] }, copy with { Immutable = [] }, strict: true);
    }

    [Fact]
    public void Random_values_round_trip() =>
        GenEverything.Sample(static value => Assert.Equivalent(value, RoundTrip(value), strict: true), iter: 300);

    [Fact]
    public void A_positional_record_round_trips_through_its_constructor() =>
        Gen.Select(Gen.Int, Gen.String, Gen.Decimal, static (id, name, price) => new Product(id, name, price))
            .Sample(static product => Assert.Equal(product, RoundTrip(product)), iter: 300);

    [Fact]
    public void A_truncated_payload_fails_with_a_clear_exception()
    {
        var bytes = Serialize(new Product(1, "Tea", 1m));
        var exception = Assert.ThrowsAny<Exception>(() => Deserialize<Product>(bytes.AsMemory(0, bytes.Length - 3)));
        Assert.True(exception is MessagePackSerializationException or EndOfStreamException, exception.GetType().Name);
    }

    private static T RoundTrip<T>(T value)
        where T : class => Deserialize<T>(Serialize(value));

    private static byte[] Serialize<T>(T value)
        where T : class
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        Formatter<T>().Serialize(ref writer, value, MessagePackSerializerOptions.Standard);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static T Deserialize<T>(ReadOnlyMemory<byte> bytes)
        where T : class
    {
        var reader = new MessagePackReader(bytes);
        var value = Formatter<T>().Deserialize(ref reader, MessagePackSerializerOptions.Standard);
        Assert.True(reader.End, "the formatter read the whole payload");
        return value;
    }

    private static MessagePack.Formatters.IMessagePackFormatter<T> Formatter<T>() =>
        (MessagePack.Formatters.IMessagePackFormatter<T>)(object)(typeof(T) == typeof(Product)
            ? ProductCacheFormatter.Instance
            : EverythingCacheFormatter.Instance);
}
