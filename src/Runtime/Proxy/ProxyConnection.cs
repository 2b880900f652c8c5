using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using TypedCache.Cluster;
using TypedCache.Memcached;

namespace TypedCache.Proxy;

/// <summary>
/// One client connection of the proxy. A read loop parses pipelined requests, sends each to its node's shared backend
/// connection (a multi-key retrieval split per node) and queues its <see cref="ReplySlot"/>; a write loop sends the
/// replies in request order, batching those ready. Bad input is answered as memcached answers it and the connection
/// stays in sync; nothing malformed reaches a backend.
/// </summary>
internal sealed partial class ProxyConnection
{
    private const int MaxKeyBytes = 250;

    private readonly Socket _socket;
    private readonly MemcachedProxy _proxy;
    private readonly ProxyOptions _options;
    private readonly Channel<ReplySlot> _replies;
    private readonly List<Range> _tokens = [];
    private readonly PooledBufferWriter _scratch = new(1024);
    private byte[] _line = [];
    private long _swallow;

    public ProxyConnection(Socket socket, MemcachedProxy proxy)
    {
        _socket = socket;
        _proxy = proxy;
        _options = proxy.Options;
        // The writer resumes inline on the read loop when a request is queued (no thread hop per request); it stands
        // down at its first await that does not complete at once, which is the wait for the backend's reply.
        _replies = Channel.CreateBounded<ReplySlot>(
            new BoundedChannelOptions(_options.MaxPipelineDepth) { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });
    }

    /// <summary>Serves the connection until the client leaves, quits, idles out or the proxy stops.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var stream = new NetworkStream(_socket, ownsSocket: true);
        var writer = WriteLoopAsync(stream);
        try
        {
            await ReadLoopAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _replies.Writer.TryComplete();
        }
        await writer.ConfigureAwait(false);
        _scratch.Dispose();
    }

    private async Task ReadLoopAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));
        try
        {
            while (true)
            {
                if (_options.IdleTimeout > TimeSpan.Zero)
                    idle.CancelAfter(_options.IdleTimeout);
                var result = await reader.ReadAsync(idle.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (true)
                {
                    var slot = Next(ref buffer, out bool close);
                    if (slot is null)
                        break;
                    if (!_replies.Writer.TryWrite(slot))
                        await _replies.Writer.WriteAsync(slot, cancellationToken).ConfigureAwait(false);
                    if (close)
                        return;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                    return;
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task WriteLoopAsync(NetworkStream stream)
    {
        var output = new PooledBufferWriter(16 * 1024);
        var replies = _replies.Reader;
        try
        {
            while (await replies.WaitToReadAsync().ConfigureAwait(false))
            {
                while (replies.TryPeek(out var slot))
                {
                    if (!slot.IsCompleted)
                    {
                        await FlushAsync(stream, output).ConfigureAwait(false);
                        await slot.WaitAsync().ConfigureAwait(false);
                    }
                    replies.TryRead(out _);
                    slot.WriteTo(output);
                    if (slot.CloseAfter)
                    {
                        // FIN after the last reply, so that the client reads it even if its unread bytes make the close a reset.
                        await FlushAsync(stream, output).ConfigureAwait(false);
                        _socket.Shutdown(SocketShutdown.Send);
                        return;
                    }
                    if (output.WrittenCount >= 64 * 1024)
                        await FlushAsync(stream, output).ConfigureAwait(false);
                }
                await FlushAsync(stream, output).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            // Stop the read loop too (quit, line too long, a client gone), and drain what is still queued.
            _socket.Dispose();
            _replies.Writer.TryComplete();
            while (replies.TryRead(out var slot))
            {
                await slot.WaitAsync().ConfigureAwait(false);
                slot.WriteTo(output);
                output.Clear();
            }
            output.Dispose();
        }
    }

    private static async ValueTask FlushAsync(NetworkStream stream, PooledBufferWriter output)
    {
        if (output.WrittenCount == 0)
            return;
        await stream.WriteAsync(output.WrittenMemory).ConfigureAwait(false);
        output.Clear();
    }

    /// <summary>
    /// Parses and dispatches the request at the start of <paramref name="buffer"/>, advancing past it. Null when more
    /// bytes are needed. <paramref name="close"/>: stop reading after this reply.
    /// </summary>
    private ReplySlot? Next(ref ReadOnlySequence<byte> buffer, out bool close)
    {
        close = false;
        if (_swallow > 0)
        {
            long skip = Math.Min(_swallow, buffer.Length);
            buffer = buffer.Slice(skip);
            _swallow -= skip;
            if (_swallow > 0)
                return null;
        }
        var newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            if (buffer.Length <= _options.MaxLineBytes)
                return null;
            close = true;
            return ReplySlot.Fixed("CLIENT_ERROR line too long\r\n"u8.ToArray(), closeAfter: true);
        }
        var lineBytes = buffer.Slice(0, newline.Value);
        var afterLine = buffer.Slice(buffer.GetPosition(1, newline.Value));
        if (lineBytes.Length > _options.MaxLineBytes)
        {
            close = true;
            return ReplySlot.Fixed("CLIENT_ERROR line too long\r\n"u8.ToArray(), closeAfter: true);
        }
        int length = (int)lineBytes.Length;
        if (_line.Length < length)
            _line = new byte[Math.Max(length, 256)];
        lineBytes.CopyTo(_line);
        if (length > 0 && _line[length - 1] == (byte)'\r')
            length--;
        var line = _line.AsSpan(0, length);
        Tokenize(line);
        var slot = Dispatch(line, afterLine, out long consumed, out close);
        if (slot is null)
            return null;
        buffer = afterLine.Slice(consumed);
        return slot;
    }

    private void Tokenize(ReadOnlySpan<byte> line)
    {
        _tokens.Clear();
        int start = -1;
        for (int i = 0; i <= line.Length; i++)
        {
            bool space = i == line.Length || line[i] == (byte)' ';
            if (space && start >= 0)
            {
                _tokens.Add(start..i);
                start = -1;
            }
            else if (!space && start < 0)
            {
                start = i;
            }
        }
    }

    private ReadOnlySpan<byte> Token(ReadOnlySpan<byte> line, int index) => line[_tokens[index]];

    private bool IsNoReply(ReadOnlySpan<byte> line) => _tokens.Count > 0 && Token(line, _tokens.Count - 1).SequenceEqual("noreply"u8);

    /// <summary>
    /// Handles one parsed line. <paramref name="data"/> is what follows the line; <paramref name="consumed"/> is how much
    /// of it the request took (its data block). Null when the data block is not all here yet.
    /// </summary>
    private ReplySlot? Dispatch(ReadOnlySpan<byte> line, ReadOnlySequence<byte> data, out long consumed, out bool close)
    {
        consumed = 0;
        close = false;
        if (_tokens.Count == 0)
            return Reply(Replies.Error);
        var command = Token(line, 0);
        switch (command)
        {
            case var c when c.SequenceEqual("get"u8) || c.SequenceEqual("gets"u8):
                return Retrieve(line, firstKey: 1, TtlField.None);
            case var c when c.SequenceEqual("gat"u8) || c.SequenceEqual("gats"u8):
                if (_tokens.Count < 3)
                    return Reply(Replies.Error);
                if (!Utf8Parser.TryParse(Token(line, 1), out int _, out int used) || used != Token(line, 1).Length)
                    return Reply(Replies.InvalidExptime);
                return Retrieve(line, firstKey: 2, TtlField.At(1));
            case var c when c.SequenceEqual("set"u8) || c.SequenceEqual("add"u8) || c.SequenceEqual("replace"u8)
                || c.SequenceEqual("append"u8) || c.SequenceEqual("prepend"u8) || c.SequenceEqual("cas"u8):
                return Store(line, data, isCas: c.SequenceEqual("cas"u8), out consumed);
            case var c when c.SequenceEqual("delete"u8):
                return Delete(line);
            case var c when c.SequenceEqual("incr"u8) || c.SequenceEqual("decr"u8):
                return KeyCommand(line, argument: ArgumentKind.Delta);
            case var c when c.SequenceEqual("touch"u8):
                return KeyCommand(line, argument: ArgumentKind.Exptime);
            case var c when c.SequenceEqual("mg"u8) || c.SequenceEqual("md"u8) || c.SequenceEqual("ma"u8) || c.SequenceEqual("me"u8):
                return Meta(line, data, hasData: false, out consumed);
            case var c when c.SequenceEqual("ms"u8):
                return Meta(line, data, hasData: true, out consumed);
            case var c when c.SequenceEqual("mn"u8):
                return Reply(Replies.MetaNoOp);
            case var c when c.SequenceEqual("version"u8):
                return Reply(Replies.Version);
            case var c when c.SequenceEqual("verbosity"u8):
                return _tokens.Count is 2 or 3 ? Reply(Replies.Ok, IsNoReply(line)) : Reply(Replies.Error);
            case var c when c.SequenceEqual("flush_all"u8):
                return FlushAll(line);
            case var c when c.SequenceEqual("stats"u8):
                return Stats(line);
            case var c when c.SequenceEqual("quit"u8):
                close = true;
                return ReplySlot.Fixed(default, closeAfter: true);
            default:
                return Reply(Replies.Error);
        }
    }

    private static ReplySlot Reply(ReadOnlyMemory<byte> reply, bool silent = false) => ReplySlot.Fixed(silent ? default : reply);

    private ReplySlot Retrieve(ReadOnlySpan<byte> line, int firstKey, TtlField ttl)
    {
        _proxy.Stats.CountGets(_tokens.Count - firstKey);
        if (_tokens.Count <= firstKey)
            return Reply(Replies.Error);
        var topology = _proxy.Topology;
        var current = topology.Current;
        ProxyBackend? only = null;
        bool onlyGutter = false;
        bool split = false;
        for (int i = firstKey; i < _tokens.Count; i++)
        {
            var key = Token(line, i);
            if (key.Length > MaxKeyBytes)
                return Reply(Replies.BadFormat);
            var backend = topology.Route(current, key, out bool gutter);
            if (i == firstKey)
                (only, onlyGutter) = (backend, gutter);
            else if (!ReferenceEquals(backend, only))
                split = true;
        }
        if (!split)
        {
            var slot = ReplySlot.Forward(Replies.End);
            Send(only, ReplyKind.Retrieval, slot, 0, RequestLine(line, ttl, onlyGutter));
            return slot;
        }
        return SplitRetrieve(line, firstKey, ttl, current);
    }

    /// <summary>One request per node holding the keys it owns, merged back in key order.</summary>
    private ReplySlot SplitRetrieve(ReadOnlySpan<byte> line, int firstKey, TtlField ttl, RingTopology<ProxyBackend> current)
    {
        var prefix = line[.._tokens[firstKey - 1].End.Value];
        var parts = new List<(ProxyBackend? Backend, PooledBufferWriter Line)>();
        var order = new (int Start, int Length, int Part)[_tokens.Count - firstKey];
        var keys = line.ToArray();
        for (int i = firstKey; i < _tokens.Count; i++)
        {
            var key = Token(line, i);
            var backend = _proxy.Topology.Route(current, key, out bool gutter);
            int part = parts.FindIndex(p => ReferenceEquals(p.Backend, backend));
            if (part < 0)
            {
                var request = new PooledBufferWriter(256);
                WriteRequest(request, prefix, ttl, gutter);
                parts.Add((backend, request));
                part = parts.Count - 1;
            }
            parts[part].Line.Write(" "u8);
            parts[part].Line.Write(key);
            var (offset, length) = _tokens[i].GetOffsetAndLength(line.Length);
            order[i - firstKey] = (offset, length, part);
        }
        var slot = ReplySlot.Get(new GetMerge(keys, order, parts.Count));
        for (int part = 0; part < parts.Count; part++)
        {
            using var request = parts[part].Line;
            request.Write("\r\n"u8);
            Send(parts[part].Backend, ReplyKind.Retrieval, slot, part, request.WrittenSpan);
        }
        return slot;
    }

    private ReplySlot? Store(ReadOnlySpan<byte> line, ReadOnlySequence<byte> data, bool isCas, out long consumed)
    {
        consumed = 0;
        int required = isCas ? 6 : 5;
        if (_tokens.Count != required && _tokens.Count != required + 1)
            return Reply(Replies.Error);
        var key = Token(line, 1);
        bool noReply = _tokens.Count == required + 1 && IsNoReply(line);
        if (key.Length > MaxKeyBytes
            || !TryParseExact(Token(line, 2), out uint _)
            || !TryParseExact(Token(line, 3), out int _)
            || !TryParseExact(Token(line, 4), out int bytes) || bytes < 0
            || (isCas && !TryParseExact(Token(line, 5), out ulong _)))
            return Reply(Replies.BadFormat);
        _proxy.Stats.CountSet();
        return Forward(line[.._tokens[required - 1].End.Value], key, bytes, data, out consumed, Forwarding.Storage, noReply, default);
    }

    /// <summary>
    /// Sends <paramref name="line"/> and its data block of <paramref name="bytes"/> to <paramref name="key"/>'s node
    /// (bytes &lt; 0: none). Handles an oversize block (swallowed) and a bad one (<c>bad data chunk</c>) as memcached does.
    /// </summary>
    private ReplySlot? Forward(ReadOnlySpan<byte> line, ReadOnlySpan<byte> key, int bytes, ReadOnlySequence<byte> data, out long consumed,
        Forwarding how, bool noReply, ReadOnlyMemory<byte> quietCode)
    {
        consumed = 0;
        var block = ReadOnlySequence<byte>.Empty;
        if (bytes >= 0)
        {
            if (bytes > _options.MaxValueBytes)
            {
                _swallow = bytes + 2L;
                return Reply(Replies.TooLarge, noReply);
            }
            if (data.Length < bytes + 2L)
                return null;
            block = data.Slice(0, bytes + 2);
            consumed = bytes + 2;
            if (!EndsWithCrLf(block))
                return Reply(Replies.BadDataChunk);
        }
        var slot = ReplySlot.Forward(how.Unavailable, noReply, quietCode);
        var topology = _proxy.Topology;
        var backend = topology.Route(topology.Current, key, out bool gutter);
        if (backend is null || !backend.TrySend(how.Kind, slot, 0, RequestLine(line, how.Ttl, gutter), block))
            slot.OnUnavailable(0);
        if (how.AlsoToGutter && !gutter && topology.GutterPool?.Route(key) is { } copy)
        {
            // The node answers; the gutter server's copy of the key goes too, its reply dropped.
            copy.TrySend(how.Kind, ReplySlot.Forward(default, silent: true), 0, RequestLine(line, how.Ttl, gutter: true), block);
        }
        return slot;
    }

    /// <summary>Sends one whole request (no data block) for part <paramref name="part"/> of <paramref name="slot"/>.</summary>
    private static void Send(ProxyBackend? backend, ReplyKind kind, ReplySlot slot, int part, ReadOnlySpan<byte> request)
    {
        if (backend is null || !backend.TrySend(kind, slot, part, request, ReadOnlySequence<byte>.Empty))
            slot.OnUnavailable(part);
    }

    private static bool EndsWithCrLf(ReadOnlySequence<byte> block)
    {
        Span<byte> tail = stackalloc byte[2];
        block.Slice(block.Length - 2).CopyTo(tail);
        return tail.SequenceEqual("\r\n"u8);
    }

    private ReplySlot Delete(ReadOnlySpan<byte> line)
    {
        // As memcached: "delete <key> [0] [noreply]".
        bool noReply = IsNoReply(line);
        bool valid = _tokens.Count switch
        {
            2 => true,
            3 => noReply || Token(line, 2).SequenceEqual("0"u8),
            4 => noReply && Token(line, 2).SequenceEqual("0"u8),
            _ => false,
        };
        if (!valid)
            return _tokens.Count < 2 ? Reply(Replies.Error) : Reply(Replies.DeleteUsage);
        if (Token(line, 1).Length > MaxKeyBytes)
            return Reply(Replies.BadFormat);
        return Forward(line[.._tokens[1].End.Value], Token(line, 1), -1, default, out _, Forwarding.Delete, noReply, default)!;
    }

    private enum ArgumentKind
    {
        Delta,
        Exptime,
    }

    private ReplySlot KeyCommand(ReadOnlySpan<byte> line, ArgumentKind argument)
    {
        if (_tokens.Count is not (3 or 4))
            return Reply(Replies.Error);
        if (Token(line, 1).Length > MaxKeyBytes)
            return Reply(Replies.BadFormat);
        bool valid = argument == ArgumentKind.Delta ? TryParseExact(Token(line, 2), out ulong _) : TryParseExact(Token(line, 2), out int _);
        if (!valid)
            return Reply(argument == ArgumentKind.Delta ? Replies.InvalidDelta : Replies.InvalidExptime);
        if (argument == ArgumentKind.Exptime)
            _proxy.Stats.CountTouch();
        bool noReply = _tokens.Count == 4 && IsNoReply(line);
        var how = argument == ArgumentKind.Exptime ? Forwarding.Touch : Forwarding.Arithmetic;
        return Forward(line[.._tokens[2].End.Value], Token(line, 1), -1, default, out _, how, noReply, default)!;
    }

    private ReplySlot FlushAll(ReadOnlySpan<byte> line)
    {
        bool noReply = IsNoReply(line);
        int arguments = _tokens.Count - 1 - (noReply ? 1 : 0);
        if (_tokens.Count > 3)
            return Reply(Replies.Error);
        if (arguments > 1 || (arguments == 1 && !TryParseExact(Token(line, 1), out int _)))
            return Reply(Replies.BadFormat);
        _proxy.Stats.CountFlush();
        ProxyBackend[] backends = [.. _proxy.Topology.Current.Nodes, .. _proxy.Topology.GutterPool?.Nodes ?? []];
        var slot = ReplySlot.AllNodes(backends.Length, Replies.Ok, noReply);
        var request = RequestLine(line[.._tokens[arguments].End.Value], TtlField.None, gutter: false);
        for (int i = 0; i < backends.Length; i++)
            Send(backends[i], ReplyKind.Line, slot, i, request);
        return slot;
    }

    private ReplySlot Stats(ReadOnlySpan<byte> line)
    {
        if (_tokens.Count == 1)
            return Reply(_proxy.Stats.Format(_proxy.Topology.Current));
        if (_tokens.Count == 2 && Token(line, 1).SequenceEqual("reset"u8))
        {
            _proxy.Stats.Reset();
            return Reply(Replies.Reset);
        }
        return Reply(Replies.Error);
    }

    private static bool TryParseExact(ReadOnlySpan<byte> text, out int value) =>
        Utf8Parser.TryParse(text, out value, out int used) && used == text.Length;

    private static bool TryParseExact(ReadOnlySpan<byte> text, out uint value) =>
        Utf8Parser.TryParse(text, out value, out int used) && used == text.Length;

    private static bool TryParseExact(ReadOnlySpan<byte> text, out ulong value) =>
        Utf8Parser.TryParse(text, out value, out int used) && used == text.Length;
}
