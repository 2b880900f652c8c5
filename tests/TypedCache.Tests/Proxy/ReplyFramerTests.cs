using System.Buffers;
using System.Text;
using TypedCache.Proxy;

namespace TypedCache.Tests.Proxy;

public sealed class ReplyFramerTests
{
    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.ASCII.GetBytes(text));

    /// <summary>The same bytes split into one-byte segments, so every line and block crosses segment ends.</summary>
    private static ReadOnlySequence<byte> Split(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        if (bytes.Length == 0)
            return ReadOnlySequence<byte>.Empty;
        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (int i = 1; i < bytes.Length; i++)
            last = last.Append(bytes.AsMemory(i, 1));
        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    [Theory]
    [InlineData("STORED\r\n", nameof(ReplyKind.Line))]
    [InlineData("CLIENT_ERROR bad data chunk\r\n", nameof(ReplyKind.Line))]
    [InlineData("END\r\n", nameof(ReplyKind.Retrieval))]
    [InlineData("VALUE k 1 5\r\nhe\r\no\r\nEND\r\n", nameof(ReplyKind.Retrieval))]
    [InlineData("VALUE a 0 1 7\r\nx\r\nVALUE b 0 0 8\r\n\r\nEND\r\n", nameof(ReplyKind.Retrieval))]
    [InlineData("SERVER_ERROR out of memory\r\n", nameof(ReplyKind.Retrieval))]
    [InlineData("HD c78\r\n", nameof(ReplyKind.Meta))]
    [InlineData("VA 5 c78 f123 t60 s5 kprotoexp:a O42 h0 l0\r\nhello\r\n", nameof(ReplyKind.Meta))]
    [InlineData("VA 0 c80 t-1 W\r\n\r\n", nameof(ReplyKind.Meta))]
    public void A_whole_reply_frames_to_its_length_and_every_prefix_is_incomplete(string reply, string kindName)
    {
        var kind = Enum.Parse<ReplyKind>(kindName);
        string stream = reply + "NEXT\r\n";
        Assert.Equal(FrameStatus.Complete, ReplyFramer.TryFrame(Bytes(stream), kind, out long length));
        Assert.Equal(reply.Length, length);
        Assert.Equal(FrameStatus.Complete, ReplyFramer.TryFrame(Split(stream), kind, out length));
        Assert.Equal(reply.Length, length);
        for (int cut = 0; cut < reply.Length; cut++)
            Assert.Equal(FrameStatus.Incomplete, ReplyFramer.TryFrame(Split(reply[..cut]), kind, out _));
    }

    [Theory]
    [InlineData("STORED\n", nameof(ReplyKind.Line))]
    [InlineData("VALUE k 0 3\r\nabcd\r\nEND\r\n", nameof(ReplyKind.Retrieval))]
    [InlineData("VALUE k 0 x\r\nabc\r\nEND\r\n", nameof(ReplyKind.Retrieval))]
    [InlineData("VALUE k 0 1\r\na\r\nSTORED\r\n", nameof(ReplyKind.Retrieval))]
    [InlineData("HD\r\n", nameof(ReplyKind.Retrieval))]
    [InlineData("VA 2\r\nabc\r\n", nameof(ReplyKind.Meta))]
    [InlineData("VA -1\r\n\r\n", nameof(ReplyKind.Meta))]
    public void A_reply_that_breaks_framing_is_invalid(string reply, string kindName) =>
        Assert.Equal(FrameStatus.Invalid, ReplyFramer.TryFrame(Bytes(reply), Enum.Parse<ReplyKind>(kindName), out _));

    [Fact]
    public void A_line_longer_than_any_reply_is_invalid_before_its_end_arrives() =>
        Assert.Equal(FrameStatus.Invalid, ReplyFramer.TryFrame(Bytes(new string('x', ReplyFramer.MaxLineBytes + 10)), ReplyKind.Line, out _));

    [Fact]
    public void A_split_get_merges_hits_in_key_order_with_duplicates_and_misses()
    {
        // Keys a b a c d; part 0 holds a and c, part 1 holds b and d (d missed).
        var keys = Encoding.ASCII.GetBytes("abacd");
        var merge = new GetMerge(keys, [(0, 1, 0), (1, 1, 1), (2, 1, 0), (3, 1, 0), (4, 1, 1)], 2);
        merge.SetPart(1, Bytes("VALUE b 0 2\r\nBB\r\nEND\r\n"));
        merge.SetPart(0, Bytes("VALUE a 0 1\r\nA\r\nVALUE a 0 1\r\nA\r\nVALUE c 3 1\r\nC\r\nEND\r\n"));
        var output = new ArrayBufferWriter<byte>();
        merge.WriteTo(output);
        Assert.Equal("VALUE a 0 1\r\nA\r\nVALUE b 0 2\r\nBB\r\nVALUE a 0 1\r\nA\r\nVALUE c 3 1\r\nC\r\nEND\r\n", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
