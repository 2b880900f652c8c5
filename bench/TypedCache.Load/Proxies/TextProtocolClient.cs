using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TypedCache.Load.Proxies;

/// <summary>An error line (<c>SERVER_ERROR …</c>, <c>CLIENT_ERROR …</c>, <c>ERROR</c>) a proxy answered; the connection stays in step.</summary>
internal sealed class ErrorReplyException(string line) : Exception($"the proxy answered '{line}'");

/// <summary>What a <c>get</c> of one key found: nothing, or the key the reply named and its value (valid until the next request).</summary>
internal readonly record struct TextGet(bool Found, ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value);

/// <summary>
/// One connection speaking memcached's classic text protocol (<c>get</c> and <c>set</c>, which both proxies serve),
/// one request at a time, as a memcached client in any language would. A timeout, a closed connection or a reply
/// that does not frame drops the connection; the next request opens a new one.
/// </summary>
internal sealed class TextProtocolClient(int port, TimeSpan timeout) : IDisposable
{
    private readonly ArrayBufferWriter<byte> _request = new(512);
    private Socket? _socket;
    private byte[] _buffer = new byte[16 * 1024];

    public async Task<TextGet> GetAsync(string key, CancellationToken cancellationToken)
    {
        _request.ResetWrittenCount();
        Ascii("get ");
        Ascii(key);
        Ascii("\r\n");
        var reply = await ExchangeAsync(retrieval: true, cancellationToken);
        return reply.Kind == TextReplyKind.Value
            ? new TextGet(true, _buffer.AsMemory(reply.Key), _buffer.AsMemory(reply.Data))
            : new TextGet(false, default, default);
    }

    /// <summary>True when the proxy answered <c>STORED</c>, false for <c>NOT_STORED</c>.</summary>
    public async Task<bool> SetAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        _request.ResetWrittenCount();
        Ascii("set ");
        Ascii(key);
        Ascii(FormattableString.Invariant($" 0 0 {value.Length}\r\n"));
        _request.Write(value.Span);
        Ascii("\r\n");
        var reply = await ExchangeAsync(retrieval: false, cancellationToken);
        return reply.Kind == TextReplyKind.Stored;
    }

    public void Dispose() => Drop();

    private void Ascii(string text) => _request.Advance(Encoding.ASCII.GetBytes(text, _request.GetSpan(text.Length)));

    private async Task<TextReply> ExchangeAsync(bool retrieval, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        TextReply reply;
        try
        {
            if (_socket is null)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                _socket = socket;
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), deadline.Token);
            }
            await _socket.SendAsync(_request.WrittenMemory, SocketFlags.None, deadline.Token);
            int filled = 0;
            while (true)
            {
                if (TextReplyParser.TryParse(_buffer.AsSpan(0, filled), retrieval, out reply, out int consumed))
                {
                    if (consumed != filled)
                        throw new InvalidDataException($"{filled - consumed} bytes came after the reply to one request");
                    break;
                }
                if (filled == _buffer.Length)
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                int read = await _socket.ReceiveAsync(_buffer.AsMemory(filled), SocketFlags.None, deadline.Token);
                if (read == 0)
                    throw new IOException($"the proxy on port {port} closed the connection");
                filled += read;
            }
        }
        catch (Exception e)
        {
            Drop();
            if (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
                throw new TimeoutException($"no reply from the proxy on port {port} within {timeout.TotalSeconds} s");
            throw;
        }
        if (reply.Kind == TextReplyKind.Error)
            throw new ErrorReplyException(Encoding.ASCII.GetString(_buffer.AsSpan(reply.Line)));
        return reply;
    }

    private void Drop()
    {
        _socket?.Dispose();
        _socket = null;
    }
}
