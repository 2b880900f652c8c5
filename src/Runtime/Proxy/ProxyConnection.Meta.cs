using System.Buffers;
using System.Buffers.Text;

namespace TypedCache.Proxy;

internal sealed partial class ProxyConnection
{
    /// <summary>
    /// <c>mg</c>, <c>ms</c>, <c>md</c>, <c>ma</c> and <c>me</c>: forwarded as they came, except that a <c>q</c> flag is
    /// taken off (on a shared backend connection every request must get a reply) and applied here: the nominal reply
    /// it hides (<c>EN</c> for mg, <c>HD</c> for ms, md and ma) is dropped. A base64 key (<c>b</c>) is placed by its
    /// decoded bytes, as a client that hashes the raw key would place it.
    /// </summary>
    private ReplySlot? Meta(ReadOnlySpan<byte> line, ReadOnlySequence<byte> data, bool hasData, out long consumed)
    {
        consumed = 0;
        var command = Token(line, 0);
        int firstFlag = hasData ? 3 : 2;
        if (_tokens.Count < firstFlag)
            return Reply(Replies.BadFormat);
        var key = Token(line, 1);
        if (key.Length > MaxKeyBytes)
            return Reply(Replies.BadFormat);
        int bytes = -1;
        if (hasData && (!TryParseExact(Token(line, 2), out bytes) || bytes < 0))
            return Reply(Replies.BadFormat);

        int quiet = -1;
        bool base64 = false;
        for (int i = firstFlag; i < _tokens.Count; i++)
        {
            var flag = Token(line, i);
            if (flag[0] == (byte)'b')
                base64 = true;
            if (flag[0] != (byte)'q')
                continue;
            if (quiet >= 0)
                return hasData ? SwallowWith(Replies.DuplicateFlag, bytes) : Reply(Replies.DuplicateFlag);
            quiet = i;
        }

        _scratch.Clear();
        if (quiet < 0)
        {
            _scratch.Write(line);
        }
        else
        {
            _scratch.Write(line[..(_tokens[quiet].Start.Value - 1)]);
            _scratch.Write(line[_tokens[quiet].End.Value..]);
        }
        var request = _scratch.WrittenSpan.ToArray();
        var routeKey = key;
        if (base64)
        {
            var decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(key.Length)];
            if (Base64.DecodeFromUtf8(key, decoded, out _, out int written) != OperationStatus.Done)
                return hasData ? SwallowWith(Replies.DecodingKey, bytes) : Reply(Replies.DecodingKey);
            routeKey = decoded.AsSpan(0, written);
        }
        bool isGet = command.SequenceEqual("mg"u8);
        if (isGet)
            _proxy.Stats.CountGets(1);
        else if (hasData)
            _proxy.Stats.CountSet();
        var unavailable = command[1] switch
        {
            (byte)'g' => MetaMiss(line, firstFlag),
            (byte)'e' => Replies.MetaMiss,
            (byte)'s' => Replies.MetaNotStored,
            _ => Replies.MetaNotFound,
        };
        var quietCode = quiet < 0 ? default : isGet ? Replies.MetaMissCode : Replies.MetaStoredCode;
        if (isGet && quiet >= 0)
            unavailable = default;
        var ttl = command[1] == (byte)'e' ? TtlField.None : TtlField.MetaFlags(firstFlag, storage: hasData);
        var how = new Forwarding(ReplyKind.Meta, unavailable, ttl, AlsoToGutter: command[1] == (byte)'d');
        return Forward(request, routeKey, bytes, data, out consumed, how, noReply: false, quietCode);
    }

    /// <summary>A miss as memcached writes it for this <c>mg</c>: <c>EN</c> with the <c>O</c> and <c>k</c> flags echoed.</summary>
    private ReadOnlyMemory<byte> MetaMiss(ReadOnlySpan<byte> line, int firstFlag)
    {
        var miss = new ArrayBufferWriter<byte>(32);
        miss.Write("EN"u8);
        for (int i = firstFlag; i < _tokens.Count; i++)
        {
            var flag = Token(line, i);
            if (flag[0] == (byte)'O')
            {
                miss.Write(" "u8);
                miss.Write(flag);
            }
            else if (flag[0] == (byte)'k')
            {
                miss.Write(" k"u8);
                miss.Write(Token(line, 1));
            }
        }
        miss.Write("\r\n"u8);
        return miss.WrittenMemory;
    }

    /// <summary>An error after which memcached swallows the data block of an <c>ms</c>.</summary>
    private ReplySlot SwallowWith(ReadOnlyMemory<byte> reply, int bytes)
    {
        _swallow = bytes + 2L;
        return Reply(reply);
    }
}
