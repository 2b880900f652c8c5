using System.Buffers;
using System.Buffers.Text;
using TypedCache.Cluster;
using TypedCache.Memcached;

namespace TypedCache.Proxy;

internal sealed partial class ProxyConnection
{
    /// <summary>Where a request's TTL sits, to cap it when the request goes to a gutter server.</summary>
    /// <param name="Token">The TTL's token (classic); for meta, the first flag's token.</param>
    /// <param name="Meta">The TTLs are the meta <c>T</c> and <c>N</c> flags.</param>
    /// <param name="Storage">A meta storage request (<c>ms</c>): one without <c>T</c> never expires, so it gets <c>T</c> with the cap.</param>
    private readonly record struct TtlField(int Token, bool Meta, bool Storage)
    {
        public static TtlField None => new(-1, false, false);

        public static TtlField At(int token) => new(token, false, false);

        public static TtlField MetaFlags(int firstFlag, bool storage) => new(firstFlag, true, storage);
    }

    /// <summary>
    /// How a keyed request is forwarded: the kind of reply it expects, what answers it when its node is down (and no
    /// gutter server takes it), where its TTL sits, and whether it also goes to the key's gutter server while the node
    /// is up (deletes, so that a node that goes down again never brings back a deleted value from the gutter).
    /// </summary>
    private readonly record struct Forwarding(ReplyKind Kind, ReadOnlyMemory<byte> Unavailable, TtlField Ttl, bool AlsoToGutter = false)
    {
        public static Forwarding Storage => new(ReplyKind.Line, Replies.NotStored, TtlField.At(3));

        public static Forwarding Delete => new(ReplyKind.Line, Replies.NotFound, TtlField.None, AlsoToGutter: true);

        public static Forwarding Arithmetic => new(ReplyKind.Line, Replies.NotFound, TtlField.None);

        public static Forwarding Touch => new(ReplyKind.Line, Replies.NotFound, TtlField.At(2));
    }

    /// <summary><paramref name="line"/> and its line end in the scratch buffer, as <see cref="WriteRequest"/> writes it.</summary>
    private ReadOnlySpan<byte> RequestLine(ReadOnlySpan<byte> line, TtlField ttl, bool gutter)
    {
        _scratch.Clear();
        WriteRequest(_scratch, line, ttl, gutter);
        _scratch.Write("\r\n"u8);
        return _scratch.WrittenSpan;
    }

    /// <summary>
    /// Writes <paramref name="line"/> (a prefix of the parsed line, or for meta the request as forwarded); for a gutter
    /// server, with its TTLs capped to <see cref="ProxyOptions.GutterTtlSeconds"/>.
    /// </summary>
    private void WriteRequest(PooledBufferWriter into, ReadOnlySpan<byte> line, TtlField ttl, bool gutter)
    {
        if (!gutter || ttl.Token < 0)
        {
            into.Write(line);
        }
        else if (!ttl.Meta)
        {
            var at = _tokens[ttl.Token];
            into.Write(line[..at.Start.Value]);
            WriteCapped(into, line[at]);
            into.Write(line[at.End.Value..]);
        }
        else
        {
            WriteCappedMeta(into, line, ttl);
        }
    }

    /// <summary>A meta request with each <c>T</c> and <c>N</c> flag capped (and <c>T</c> added to an <c>ms</c> without one).</summary>
    private void WriteCappedMeta(PooledBufferWriter into, ReadOnlySpan<byte> request, TtlField ttl)
    {
        bool hasTtl = false;
        int index = 0;
        foreach (var range in request.Split((byte)' '))
        {
            var token = request[range];
            if (token.IsEmpty)
                continue;
            if (index > 0)
                into.Write(" "u8);
            if (index >= ttl.Token && token.Length > 1 && token[0] is (byte)'T' or (byte)'N')
            {
                into.Write(token[..1]);
                WriteCapped(into, token[1..]);
                hasTtl |= token[0] == (byte)'T';
            }
            else
            {
                into.Write(token);
            }
            index++;
        }
        if (ttl.Storage && !hasTtl)
        {
            into.Write(" T"u8);
            WriteCapped(into, "0"u8);
        }
    }

    /// <summary>A TTL capped for the gutter; text that is not a number is written as it came (the server answers it).</summary>
    private void WriteCapped(PooledBufferWriter into, ReadOnlySpan<byte> seconds)
    {
        if (!Utf8Parser.TryParse(seconds, out long value, out int used) || used != seconds.Length)
        {
            into.Write(seconds);
            return;
        }
        var span = into.GetSpan(20);
        Utf8Formatter.TryFormat(Gutter.CapTtl(value, _options.GutterTtlSeconds), span, out int written);
        into.Advance(written);
    }
}
