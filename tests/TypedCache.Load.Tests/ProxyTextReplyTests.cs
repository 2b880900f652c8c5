using System.Text;
using TypedCache.Load.Proxies;

namespace TypedCache.Load.Tests;

/// <summary>The proxy scenario's parser of text-protocol replies, on raw bytes.</summary>
public sealed class ProxyTextReplyTests
{
    [Fact]
    public void A_hit_gives_the_key_and_the_data_taken_by_its_length()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("VALUE k1 0 6\r\nab\r\ncd\r\nEND\r\n");

        Assert.True(TextReplyParser.TryParse(bytes, retrieval: true, out var reply, out int consumed));

        Assert.Equal(TextReplyKind.Value, reply.Kind);
        Assert.Equal("k1", Encoding.ASCII.GetString(bytes[reply.Key]));
        Assert.Equal("ab\r\ncd", Encoding.ASCII.GetString(bytes[reply.Data]));
        Assert.Equal(bytes.Length, consumed);
    }

    [Theory]
    [InlineData("END\r\n", true, "End")]
    [InlineData("STORED\r\n", false, "Stored")]
    [InlineData("NOT_STORED\r\n", false, "NotStored")]
    [InlineData("SERVER_ERROR Connection refused\r\n", true, "Error")]
    [InlineData("SERVER_ERROR Connection timed out\r\n", false, "Error")]
    [InlineData("ERROR\r\n", true, "Error")]
    public void One_line_replies(string text, bool retrieval, string kind)
    {
        Assert.True(TextReplyParser.TryParse(Encoding.ASCII.GetBytes(text), retrieval, out var reply, out int consumed));

        Assert.Equal(Enum.Parse<TextReplyKind>(kind), reply.Kind);
        Assert.Equal(text.Length, consumed);
    }

    [Fact]
    public void Every_prefix_of_a_reply_asks_for_more_bytes()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("VALUE key 5 3 7\r\nabc\r\nEND\r\n");
        for (int length = 0; length < bytes.Length; length++)
            Assert.False(TextReplyParser.TryParse(bytes.AsSpan(0, length), retrieval: true, out _, out _), $"complete at {length} bytes");
        Assert.True(TextReplyParser.TryParse(bytes, retrieval: true, out _, out _));
    }

    [Theory]
    [InlineData("STORED\r\n", true)]
    [InlineData("END\r\n", false)]
    [InlineData("VALUE k 0 x\r\n", true)]
    [InlineData("VALUE k 0 2\r\nabc\r\nEND\r\n", true)]
    [InlineData("VALUE k 0 1\r\na\r\nVALUE k 0 1\r\na\r\nEND\r\n", true)]
    public void Bytes_that_cannot_be_the_reply_are_rejected(string text, bool retrieval)
    {
        Assert.Throws<InvalidDataException>(() => TextReplyParser.TryParse(Encoding.ASCII.GetBytes(text), retrieval, out _, out _));
    }

    [Fact]
    public void A_line_without_an_end_past_the_limit_is_rejected()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(new string('x', TextReplyParser.MaxLineBytes + 1));

        Assert.Throws<InvalidDataException>(() => TextReplyParser.TryParse(bytes, retrieval: true, out _, out _));
    }
}
