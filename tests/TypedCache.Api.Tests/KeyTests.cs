using System.Globalization;
using CsCheck;

namespace TypedCache.Api.Tests;

public sealed class KeyTests : IAsyncLifetime
{
    private readonly ShopCache _cache = new(new CacheContextOptionsBuilder<ShopCache>().UseInMemory().Options);

    private static readonly string[] Hostile =
    [
        string.Empty,
        " ",
        "a b",
        "line\r\nbreak",
        "tab\there",
        "\0nul",
        "\u007f",
        ":",
        "a:b",
        "%3A",
        "#",
        "~",
        "ünïcödé",
        "日本語",
        "😀",
        "\uD800",
        "\uDC00\uD800",
        new string('x', 1024),
        new string(':', 1024),
        new string('é', 300),
    ];

    public static TheoryData<string> HostileParts => new(Hostile);

    [Fact]
    public void Keys_follow_the_documented_layout()
    {
        Assert.Equal("tc:Product:0:42", _cache.Products.KeyFor(42));
        Assert.Equal("tc:Product:0:-42", _cache.Products.KeyFor(-42));
        Assert.Equal("tc:Stock:0:7:SKU-1", _cache.Stock.KeyFor(7, "SKU-1"));
        Assert.Equal("tc:Stock:0:7:a%20b%3Ac%25d%23e%0D%0A%C3%A9", _cache.Stock.KeyFor(7, "a b:c%d#e\r\né"));
    }

    [Theory]
    [MemberData(nameof(HostileParts))]
    public void Hostile_parts_give_valid_keys(string part) => AssertValid(_cache.Stock.KeyFor(int.MinValue, part));

    [Fact]
    public void Distinct_hostile_parts_give_distinct_keys()
    {
        var keys = new HashSet<string>();
        foreach (var part in Hostile)
        {
            Assert.True(keys.Add(_cache.Stock.KeyFor(1, part)), $"'{part}' collides");
        }

        Assert.NotEqual(_cache.Stock.KeyFor(1, "a:"), _cache.Stock.KeyFor(1, "a%3A"));
    }

    [Fact]
    public void Random_strings_give_valid_keys_distinct_when_the_strings_differ() =>
        Gen.Select(Gen.String, Gen.String, Gen.Int, Gen.Int).Sample(
            (a, b, i, j) =>
            {
                var keyA = _cache.Stock.KeyFor(i, a);
                var keyB = _cache.Stock.KeyFor(j, b);
                AssertValid(keyA);
                AssertValid(keyB);
                Assert.Equal(a == b && i == j, keyA == keyB);
            },
            iter: 2000);

    [Fact]
    public void Each_ascii_character_is_kept_or_escaped_as_documented()
    {
        for (var c = (char)0; c < 0x80; c++)
        {
            var expected = c > ' ' && c < 0x7F && c is not (':' or '%' or '#') ? c.ToString() : $"%{(int)c:X2}";
            Assert.Equal("tc:Stock:0:1:" + expected, _cache.Stock.KeyFor(1, c.ToString()));
        }
    }

    [Fact]
    public void Long_keys_end_in_a_hash_of_their_tail()
    {
        var a = _cache.Stock.KeyFor(1, new string('x', 1024) + "a");
        var b = _cache.Stock.KeyFor(1, new string('x', 1024) + "b");
        Assert.Equal(250, a.Length);
        Assert.NotEqual(a, b);
        Assert.Equal(a[..217], b[..217]);
        Assert.Equal('#', a[217]);
        Assert.Matches("^[0-9A-F]{32}$", a[218..]);
    }

    [Fact]
    public void Keys_do_not_depend_on_the_current_culture()
    {
        var when = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);
        var composite = new Composite
        {
            Text = "t", Number = -1234567, When = when, Color = Color.Green, Flag = true, Letter = 'ß',
            Unsigned = ulong.MaxValue, Span = TimeSpan.FromHours(-1), At = new DateTimeOffset(when, TimeSpan.Zero),
        };
        var invariant = WithCulture(CultureInfo.InvariantCulture, () => CompositeKey.Of(composite).ToString());
        foreach (var name in new[] { "sv-SE", "ar-SA", "fa-IR", "de-DE", "tr-TR" })
        {
            Assert.Equal(invariant, WithCulture(CultureInfo.GetCultureInfo(name), () => CompositeKey.Of(composite).ToString()));
            Assert.Equal("tc:Stock:0:-5:x", WithCulture(CultureInfo.GetCultureInfo(name), () => _cache.Stock.KeyFor(-5, "x")));
        }

        Assert.Equal($"t:-1234567:{when.Ticks}:1:true:%C3%9F:18446744073709551615:-36000000000:{when.Ticks}", invariant);
    }

    [Fact]
    public void Key_structs_compare_and_hash_by_their_parts()
    {
        var a = new StockKey(1, "x");
        var b = new StockKey(1, new string('x', 1));
        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new StockKey(1, "X"));
        Assert.True(a != new StockKey(2, "x"));
        Assert.Throws<ArgumentNullException>(() => new StockKey(1, null!));
        ProductKey implicitKey = 5;
        Assert.Equal(new ProductKey(5), implicitKey);
    }

    [Fact]
    public void Writing_a_key_allocates_nothing()
    {
        var key = new StockKey(12345, "SKU-1");
        Span<byte> buffer = stackalloc byte[Caching.CacheKeys.MaxLength];
        var head = Caching.CacheKeys.Head("tc", StockRepo.Descriptor, 3);
        Caching.CacheKeys.Write(buffer, head, key);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var length = Caching.CacheKeys.Write(buffer, head, key);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal("tc:Stock:3:12345:SKU-1", System.Text.Encoding.ASCII.GetString(buffer[..length]));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cache.DisposeAsync();

    private static void AssertValid(string key)
    {
        Assert.InRange(key.Length, 1, 250);
        Assert.All(key, static c => Assert.InRange(c, '!', '~'));
    }

    private static T WithCulture<T>(CultureInfo culture, Func<T> action)
    {
        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = culture;
        try
        {
            return action();
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}
