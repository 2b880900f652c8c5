using System.Buffers;
using TypedCache.Caching.Distributed;

namespace TypedCache.Tests.Caching;

/// <summary>The envelope and the client flags of memcached entries, on raw bytes.</summary>
public sealed class CacheEnvelopeTests
{
    [Theory]
    [InlineData(0UL)]
    [InlineData(0x0123_4567_89AB_CDEFUL)]
    [InlineData(ulong.MaxValue)]
    public void Flags_carry_the_encoding_and_are_never_zero(ulong schemaHash)
    {
        var flags = CacheEnvelope.Flags(schemaHash);

        Assert.Equal(CacheEnvelope.MessagePackEncoding, flags & 0xFF);
        Assert.NotEqual(0u, flags);
    }

    [Fact]
    public void Schemas_that_differ_in_either_half_of_the_hash_get_other_flags()
    {
        const ulong schema = 0x0123_4567_89AB_CDEFUL;

        Assert.NotEqual(CacheEnvelope.Flags(schema), CacheEnvelope.Flags(schema ^ (1UL << 40)));
        Assert.NotEqual(CacheEnvelope.Flags(schema), CacheEnvelope.Flags(schema ^ (1UL << 12)));
    }

    [Fact]
    public void A_header_round_trips_and_other_flags_are_another_schema()
    {
        var buffer = new ArrayBufferWriter<byte>();
        CacheEnvelope.WriteHeader(buffer, 1_700_000_000_000, [3, 9]);
        buffer.Write<byte>([0xA1, 0x78]);
        var flags = CacheEnvelope.Flags(42);

        Assert.Equal(EnvelopeParseResult.Ok, CacheEnvelope.TryParse(flags, buffer.WrittenSpan, flags, out var header));
        Assert.Equal(1_700_000_000_000, header.LogicalExpiryMs);
        Assert.Equal(2, header.TagCount);
        Assert.Equal(9, CacheEnvelope.TagVersion(buffer.WrittenSpan, 1));
        Assert.Equal([0xA1, 0x78], buffer.WrittenSpan[header.PayloadOffset..].ToArray());
        Assert.Equal(EnvelopeParseResult.OtherSchema, CacheEnvelope.TryParse(CacheEnvelope.Flags(43), buffer.WrittenSpan, flags, out _));
        Assert.Equal(EnvelopeParseResult.OtherSchema, CacheEnvelope.TryParse(0, buffer.WrittenSpan, flags, out _));
        Assert.Equal(EnvelopeParseResult.Corrupt, CacheEnvelope.TryParse(flags, buffer.WrittenSpan[..12], flags, out _));
        Assert.Equal(EnvelopeParseResult.Empty, CacheEnvelope.TryParse(flags, [], flags, out _));
    }
}
