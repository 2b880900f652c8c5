using System.Text;
using TypedCache.Memcached;

namespace TypedCache.Tests.Memcached;

public class MetaResponseParserTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    /// <summary>memcached's default item size limit, the client's default <c>MaxItemSizeBytes</c>.</summary>
    private const int MaxValue = 1024 * 1024;

    /// <summary>One frame of every response kind, with the code, text and value it must parse to (bytes from protocols.md's transcripts).</summary>
    public static TheoryData<string, string, string, string?> Frames => new()
    {
        { "VA 5 c78 f123 t60 s5 kprotoexp:a O42 h0 l0\r\nhello\r\n", nameof(MetaResponseCode.Value), "c78 f123 t60 s5 kprotoexp:a O42 h0 l0", "hello" },
        { "VA 0 c80 t-1 W\r\n\r\n", nameof(MetaResponseCode.Value), "c80 t-1 W", "" },
        { "VA 4\r\na\r\nb\r\n", nameof(MetaResponseCode.Value), "", "a\r\nb" },
        { "HD\r\n", nameof(MetaResponseCode.Header), "", null },
        { "HD c102\r\n", nameof(MetaResponseCode.Header), "c102", null },
        { "EN\r\n", nameof(MetaResponseCode.Miss), "", null },
        { "EN kprotoexp:missing O99\r\n", nameof(MetaResponseCode.Miss), "kprotoexp:missing O99", null },
        { "NF\r\n", nameof(MetaResponseCode.NotFound), "", null },
        { "NS O2\r\n", nameof(MetaResponseCode.NotStored), "O2", null },
        { "EX O3\r\n", nameof(MetaResponseCode.Exists), "O3", null },
        { "MN\r\n", nameof(MetaResponseCode.NoOp), "", null },
        { "ME protoexp:me exp=-100 la=0 cas=103 fetch=no cls=1 size=76\r\n", nameof(MetaResponseCode.Debug), "protoexp:me exp=-100 la=0 cas=103 fetch=no cls=1 size=76", null },
        { "CLIENT_ERROR bad data chunk\r\n", nameof(MetaResponseCode.ClientError), "bad data chunk", null },
        { "SERVER_ERROR object too large for cache\r\n", nameof(MetaResponseCode.ServerError), "object too large for cache", null },
        { "ERROR\r\n", nameof(MetaResponseCode.Error), "", null },
        { "VERSION 1.6.18\r\n", nameof(MetaResponseCode.Version), "1.6.18", null },
        { "STAT item_size_max 1048576\r\n", nameof(MetaResponseCode.Stat), "item_size_max 1048576", null },
        { "END\r\n", nameof(MetaResponseCode.End), "", null },
        { "OK\r\n", nameof(MetaResponseCode.Ok), "", null },
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public void Parses_a_whole_frame_and_reports_every_prefix_as_incomplete(string frame, string code, string text, string? value)
    {
        var bytes = B(frame);
        Assert.Equal(MetaParseStatus.Complete, MetaResponseParser.TryParse(bytes, MaxValue, out var response, out int consumed));
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(code, response.Code.ToString());
        Assert.Equal(text, Encoding.Latin1.GetString(response.Text));
        Assert.Equal(value ?? "", Encoding.Latin1.GetString(response.Value));

        for (int cut = 0; cut < bytes.Length; cut++)
        {
            var status = MetaResponseParser.TryParse(bytes.AsSpan(0, cut), MaxValue, out _, out int needed);
            Assert.True(status == MetaParseStatus.Incomplete, $"prefix of {cut} bytes: {status}");
            Assert.True(needed > cut, $"prefix of {cut} bytes asked for {needed}");
        }
    }

    [Theory]
    [MemberData(nameof(Frames))]
    public void A_stream_split_at_every_offset_yields_the_same_frames(string frame, string code, string text, string? value)
    {
        _ = text;
        _ = value;
        var stream = B("HD c1\r\n" + frame + "VA 2 O7\r\nv7\r\n" + frame + "MN\r\n");
        string[] expected = ["Header", code, "Value", code, "NoOp"];
        for (int cut = 0; cut <= stream.Length; cut++)
            Assert.Equal(expected, Reassemble(stream, [cut]));
    }

    [Fact]
    public void A_stream_delivered_one_byte_at_a_time_yields_every_frame()
    {
        var all = string.Concat(Frames.Select(row => (string)row[0]));
        var stream = B(all);
        var expected = Frames.Select(row => (string)row[1]).ToArray();
        Assert.Equal(expected, Reassemble(stream, Enumerable.Range(1, stream.Length - 1).ToArray()));
    }

    /// <summary>Feeds <paramref name="stream"/> in chunks ending at <paramref name="cuts"/>, the way the read loop does, and returns the frame codes.</summary>
    private static List<string> Reassemble(byte[] stream, int[] cuts)
    {
        var codes = new List<string>();
        var buffer = new List<byte>();
        int from = 0;
        foreach (int to in cuts.Append(stream.Length))
        {
            buffer.AddRange(stream[from..to]);
            from = to;
            while (true)
            {
                var pending = buffer.ToArray();
                var status = MetaResponseParser.TryParse(pending, MaxValue, out var response, out int consumed);
                Assert.NotEqual(MetaParseStatus.Invalid, status);
                if (status == MetaParseStatus.Incomplete)
                    break;
                codes.Add(response.Code.ToString());
                buffer.RemoveRange(0, consumed);
            }
        }
        Assert.Empty(buffer);
        return codes;
    }

    [Theory]
    [InlineData("HELLO\r\n")]
    [InlineData("\r\n")]
    [InlineData("HD\n")]
    [InlineData("hd\r\n")]
    [InlineData("HDX\r\n")]
    [InlineData("VA\r\n")]
    [InlineData("VA abc\r\n")]
    [InlineData("VA -1\r\n")]
    [InlineData("VA 99999999999\r\n")]
    [InlineData("VA 3\r\nabcX\r\n")]
    [InlineData("VA 3\r\nabc\rX")]
    [InlineData("END extra\r\n")]
    [InlineData("ERRORS\r\n")]
    [InlineData("\x00\x01\x02")]
    [InlineData("garbage")]
    [InlineData("VA 3\r\nabcd")]
    public void Garbage_is_invalid(string input)
    {
        Assert.Equal(MetaParseStatus.Invalid, MetaResponseParser.TryParse(B(input), MaxValue, out _, out _));
    }

    [Fact]
    public void A_line_without_end_longer_than_the_limit_is_invalid()
    {
        var line = B("HD " + new string('k', MetaResponseParser.MaxLineLength));
        Assert.Equal(MetaParseStatus.Invalid, MetaResponseParser.TryParse(line, MaxValue, out _, out _));
        Assert.Equal(MetaParseStatus.Incomplete, MetaResponseParser.TryParse(line.AsSpan(0, 100), MaxValue, out _, out _));
    }

    [Theory]
    [InlineData("VA 1048577 f1\r\n")]
    [InlineData("VA 2147483000\r\n")]
    [InlineData("VA 1048577 f1\r\nabc")]
    public void A_value_longer_than_the_item_size_limit_is_invalid_before_any_of_it_arrives(string input)
    {
        Assert.Equal(MetaParseStatus.Invalid, MetaResponseParser.TryParse(B(input), MaxValue, out _, out _));
    }

    [Fact]
    public void A_value_of_exactly_the_item_size_limit_is_accepted()
    {
        var frame = B("VA 1048576\r\n" + new string('v', MaxValue) + "\r\n");
        Assert.Equal(MetaParseStatus.Incomplete, MetaResponseParser.TryParse(frame.AsSpan(0, 100), MaxValue, out _, out int needed));
        Assert.Equal(frame.Length, needed);
        Assert.Equal(MetaParseStatus.Complete, MetaResponseParser.TryParse(frame, MaxValue, out var response, out int consumed));
        Assert.Equal(frame.Length, consumed);
        Assert.Equal(MaxValue, response.Value.Length);
    }

    [Fact]
    public void A_truncated_value_asks_for_its_whole_frame()
    {
        var frame = B("VA 1000 f1\r\n" + new string('v', 10));
        Assert.Equal(MetaParseStatus.Incomplete, MetaResponseParser.TryParse(frame, MaxValue, out _, out int needed));
        Assert.Equal("VA 1000 f1\r\n".Length + 1000 + 2, needed);
    }

    [Fact]
    public void Flags_parse_in_any_order_with_their_tokens()
    {
        Assert.True(MetaFlags.TryParse(B("O42 kprotoexp:a s5 t60 f123 c78 h0 l0 Z X W"), out var flags));
        Assert.Equal(78UL, flags.Cas);
        Assert.Equal(123U, flags.ClientFlags);
        Assert.Equal(60, flags.Ttl);
        Assert.Equal(5, flags.Size);
        Assert.Equal(42, flags.Opaque);
        Assert.Equal("protoexp:a", Encoding.ASCII.GetString(flags.Key));
        Assert.Equal(MetaResultFlags.Won | MetaResultFlags.LeaseTaken | MetaResultFlags.Stale, flags.Lease);

        Assert.True(MetaFlags.TryParse(B("t-1"), out flags));
        Assert.Equal(-1, flags.Ttl);
        Assert.Equal(-1, flags.Size);
        Assert.Equal(-1, flags.Opaque);
        Assert.True(MetaFlags.TryParse([], out flags));
        Assert.Equal(MetaResultFlags.None, flags.Lease);
    }

    [Theory]
    [InlineData("cabc")]
    [InlineData("c")]
    [InlineData("f-1")]
    [InlineData("f4294967296")]
    [InlineData("O-5")]
    [InlineData("t1x")]
    [InlineData("c1  f2")]
    public void Malformed_flag_tokens_are_rejected(string text)
    {
        Assert.False(MetaFlags.TryParse(B(text), out _));
    }
}
