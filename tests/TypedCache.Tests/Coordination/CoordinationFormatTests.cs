using System.Text;
using CsCheck;
using TypedCache.Coordination;

namespace TypedCache.Tests.Coordination;

/// <summary>Node names, path segments and payloads, on bytes and strings alone (no server).</summary>
public sealed class CoordinationFormatTests
{
    [Theory]
    [InlineData("7b6482db6575447884f1f5667b9a613f__lock__0000000000", "__lock__", 0L)]
    [InlineData("x__lock__0000000042", "__lock__", 42L)]
    [InlineData("x__lock__-2147483648", "__lock__", -2147483648L)]
    [InlineData("ev-0000000123", "ev-", 123L)]
    [InlineData("_c_71b4148d-a8d4-49ae-89d5-4fc07749cff7-lock-0000000003", "__lock__", null)]
    [InlineData("x__rlock__0000000004", "__lock__", null)]
    [InlineData("x__lock__000000001", "__lock__", null)]
    [InlineData("x__lock__00000000a1", "__lock__", null)]
    [InlineData("lock", "__lock__", null)]
    public void Sequence_suffixes_follow_kazoos_pattern(string name, string marker, long? expected) =>
        Assert.Equal(expected, SequentialNames.Sequence(name, marker));

    [Fact]
    public void Contenders_are_sorted_by_suffix_and_foreign_children_dropped()
    {
        string[] children = ["b__lock__0000000010", "_c_x-lock-0000000001", "a__lock__0000000002", "c__rlock__0000000000", "z__lock__0000000003"];

        Assert.Equal(["a__lock__0000000002", "z__lock__0000000003", "b__lock__0000000010"], SequentialNames.Sorted(children, SequentialNames.LockMarker));
    }

    [Theory]
    [InlineData("Product", "Product")]
    [InlineData("7:SKU-1", "7:SKU-1")]
    [InlineData("a/b", "a%2Fb")]
    [InlineData("100%", "100%25")]
    [InlineData(".", "%2E")]
    [InlineData("..", "%2E%2E")]
    [InlineData("...", "...")]
    [InlineData("tab\there", "tab%09here")]
    [InlineData("caf\u00e9 \u65e5\u672c", "caf\u00e9 \u65e5\u672c")]
    [InlineData("\ud83d\ude00", "%F0%9F%98%80")]
    public void Segments_escape_only_what_ZooKeeper_cannot_hold(string name, string segment) =>
        Assert.Equal(segment, CoordinationRoot.Segment(name));

    [Fact]
    public void Different_names_give_different_valid_segments()
    {
        Gen.String.Where(s => s.Length > 0).Sample(name =>
        {
            string segment = CoordinationRoot.Segment(name);
            Assert.DoesNotContain('/', segment);
            TypedCache.ZooKeeper.ZooKeeperPath.Validate("/" + segment);
            if (!name.Any(char.IsSurrogate))
            {
                Assert.Equal(name, Uri.UnescapeDataString(segment));
            }
        });
    }

    [Fact]
    public void Batches_round_trip_grouped_by_type()
    {
        KeyInvalidation[] keys = [new("Product", "1"), new("Stock", "7:a b"), new("Product", "\u65e5"), new("Product", "")];

        byte[] payload = InvalidationBatch.Encode(keys);

        Assert.Equal(
            Convert.FromHexString("01" + "02" + "07" + Hex("Product") + "03" + "01" + Hex("1") + "03" + Hex("\u65e5") + "00" + "05" + Hex("Stock") + "01" + "05" + Hex("7:a b")),
            payload);
        Assert.Equal(BatchDecodeResult.Ok, InvalidationBatch.TryDecode(payload, out List<KeyInvalidation> decoded));
        Assert.Equal([keys[0], keys[2], keys[3], keys[1]], decoded);
    }

    [Fact]
    public void Any_batch_round_trips()
    {
        Gen.Select(Gen.String[1, 20], Gen.String).Select((t, k) => new KeyInvalidation(t, k)).Array[1, 50].Sample(keys =>
        {
            Assert.Equal(BatchDecodeResult.Ok, InvalidationBatch.TryDecode(InvalidationBatch.Encode(keys), out List<KeyInvalidation> decoded));
            Assert.Equal(keys.OrderBy(k => Array.FindIndex(keys, x => x.Type == k.Type)).ToList(), decoded);
        });
    }

    [Fact]
    public void Bad_payloads_are_reported_never_thrown()
    {
        byte[] good = InvalidationBatch.Encode([new("Product", "1"), new("Stock", "2")]);
        for (int length = 0; length < good.Length; length++)
        {
            Assert.Equal(BatchDecodeResult.Corrupt, InvalidationBatch.TryDecode(good.AsSpan(0, length), out List<KeyInvalidation> keys));
            Assert.Empty(keys);
        }

        Assert.Equal(BatchDecodeResult.UnknownFormat, InvalidationBatch.TryDecode([2, 0], out _));
        Assert.Equal(BatchDecodeResult.Corrupt, InvalidationBatch.TryDecode([.. good, 0], out _));
        Assert.Equal(BatchDecodeResult.Corrupt, InvalidationBatch.TryDecode([1, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], out _));
        Assert.Equal(BatchDecodeResult.Corrupt, InvalidationBatch.TryDecode([1, 1, 1, 0xC3, 1, 0], out _));
        Gen.Byte.Array[0, 64].Sample(bytes => InvalidationBatch.TryDecode(bytes, out _));
    }

    [Theory]
    [InlineData("127.0.0.1:11211", """{"weight":1}""", "127.0.0.1", 11211, 1)]
    [InlineData("cache-1.internal:11212", """{"weight":5,"zone":"eu"}""", "cache-1.internal", 11212, 5)]
    [InlineData("[::1]:11211", """{"zone":{"a":[1]},"weight":2}""", "::1", 11211, 2)]
    [InlineData("10.0.0.1:11211", "", "10.0.0.1", 11211, 1)]
    public void Member_nodes_parse(string name, string data, string host, int port, int weight)
    {
        Assert.True(Member.TryParse(name, Encoding.UTF8.GetBytes(data), out Member? member));
        Assert.Equal(new Member(host, port, weight), member);
        Assert.Equal(name, member!.Endpoint);
    }

    [Theory]
    [InlineData("127.0.0.1", """{"weight":1}""")]
    [InlineData("127.0.0.1:0", """{"weight":1}""")]
    [InlineData("127.0.0.1:70000", """{"weight":1}""")]
    [InlineData(":11211", """{"weight":1}""")]
    [InlineData("[nothost]:11211", """{"weight":1}""")]
    [InlineData("127.0.0.1:11211", """{"weight":0}""")]
    [InlineData("127.0.0.1:11211", """{"weight":"2"}""")]
    [InlineData("127.0.0.1:11211", """{"weight":1.5}""")]
    [InlineData("127.0.0.1:11211", """[1]""")]
    [InlineData("127.0.0.1:11211", """{"weight":1""")]
    [InlineData("127.0.0.1:11211", "not json")]
    public void Bad_member_nodes_are_rejected(string name, string data) =>
        Assert.False(Member.TryParse(name, Encoding.UTF8.GetBytes(data), out _));

    [Fact]
    public void Member_data_is_the_documented_json() =>
        Assert.Equal("""{"weight":3}""", Encoding.UTF8.GetString(Member.EncodeData(3)));

    [Theory]
    [InlineData("", true, 0L)]
    [InlineData("0", true, 0L)]
    [InlineData("12345678901", true, 12345678901L)]
    [InlineData("-1", false, 0L)]
    [InlineData(" 1", false, 0L)]
    [InlineData("1e3", false, 0L)]
    public void Counter_payloads_are_plain_decimals(string text, bool ok, long value)
    {
        Assert.Equal(ok, VersionCounters.TryParse(Encoding.ASCII.GetBytes(text), out long parsed));
        if (ok)
        {
            Assert.Equal(value, parsed);
            Assert.Equal(text.Length == 0 ? "0" : text, Encoding.ASCII.GetString(VersionCounters.Format(parsed)));
        }
    }

    private static string Hex(string text) => Convert.ToHexString(Encoding.UTF8.GetBytes(text));
}
