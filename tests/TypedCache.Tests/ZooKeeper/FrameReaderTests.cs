using TypedCache.ZooKeeper;
using TypedCache.ZooKeeper.Protocol;
using static TypedCache.Tests.ZooKeeper.JuteTests;

namespace TypedCache.Tests.ZooKeeper;

/// <summary>Cutting the received stream into frames, whatever the split, on the bytes captured in protocols.md §13.</summary>
public sealed class FrameReaderTests
{
    // The getData reply, a notification and the delete reply, as the server sent them back to back.
    private static readonly byte[] Stream = Hex(
        "0000005d 00000002 0000000000000083 00000000 00000005 68656c6c6f" +
        "0000000000000083 0000000000000083 000001a20b0e9579 000001a20b0e9579 00000000 00000000 00000000 0000000000000000 00000005 00000000 0000000000000083" +
        "00000024 ffffffff ffffffffffffffff 00000000 00000002 00000003 00000008 2f7a6b2d64656d6f" +
        "00000010 00000003 0000000000000084 00000000");

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(97)]
    [InlineData(4096)]
    public void Frames_come_out_whole_whatever_the_split(int chunk)
    {
        var reader = new FrameReader(1024);
        var frames = new List<byte[]>();

        for (int offset = 0; offset < Stream.Length; offset += chunk)
        {
            ReadOnlySpan<byte> part = Stream.AsSpan(offset, Math.Min(chunk, Stream.Length - offset));
            Feed(reader, part);
            while (reader.TryTakeFrame(out ReadOnlySpan<byte> frame))
            {
                frames.Add(frame.ToArray());
            }
        }

        Assert.Equal([0x5d, 0x24, 0x10], frames.Select(f => f.Length));
        Assert.Equal(Stream.AsSpan(4, 0x5d).ToArray(), frames[0]);
        Assert.Equal(Stream.AsSpan(Stream.Length - 16).ToArray(), frames[2]);
    }

    [Fact]
    public void A_frame_larger_than_the_buffer_grows_it()
    {
        var reader = new FrameReader(1024 * 1024);
        byte[] big = new byte[4 + 200_000];
        big[1] = 0x03;
        big[2] = 0x0d;
        big[3] = 0x40; // 200,000
        Random.Shared.NextBytes(big.AsSpan(4));

        for (int offset = 0; offset < big.Length; offset += 30_000)
        {
            Assert.False(reader.TryTakeFrame(out _));
            Feed(reader, big.AsSpan(offset, Math.Min(30_000, big.Length - offset)));
        }

        Assert.True(reader.TryTakeFrame(out ReadOnlySpan<byte> frame));
        Assert.True(frame.SequenceEqual(big.AsSpan(4)));
    }

    [Theory]
    [InlineData("ffffffff 00")] // negative length
    [InlineData("7fffffff")] // far over the limit
    [InlineData("00000401")] // one byte over the limit
    public void Garbage_lengths_are_protocol_errors_not_waits(string hex)
    {
        var reader = new FrameReader(1024);
        Feed(reader, Hex(hex));

        Assert.Throws<ZooKeeperProtocolException>(() => reader.TryTakeFrame(out _));
    }

    private static void Feed(FrameReader reader, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            Span<byte> free = reader.FreeSpace.Span;
            int count = Math.Min(free.Length, bytes.Length);
            bytes[..count].CopyTo(free);
            reader.Advance(count);
            bytes = bytes[count..];
        }
    }
}
