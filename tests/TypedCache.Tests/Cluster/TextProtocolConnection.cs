using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace TypedCache.Tests.Cluster;

/// <summary>
/// Just enough of memcached's classic text protocol to store keys through a proxy and ask a server which
/// keys it holds, over one loopback socket with pipelined commands. Independent of TypedCache's client so
/// that the ring is checked against the servers themselves.
/// </summary>
internal sealed class TextProtocolConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;

    private TextProtocolConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    public static async Task<TextProtocolConnection> ConnectAsync(string host, int port, CancellationToken ct)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(host, port, ct);
            return new TextProtocolConnection(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Stores every key with a one-byte value; fails naming the first key not answered STORED.</summary>
    public async Task SetAllAsync(IReadOnlyList<string> keys, CancellationToken ct)
    {
        var commands = new StringBuilder();
        foreach (string key in keys)
            commands.Append(CultureInfo.InvariantCulture, $"set {key} 0 0 1\r\nv\r\n");
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(commands.ToString()), ct);

        foreach (string key in keys)
        {
            string? reply = await _reader.ReadLineAsync(ct);
            if (reply != "STORED")
                throw new InvalidOperationException($"set {key} answered '{reply ?? "(connection closed)"}'.");
        }
    }

    /// <summary>Which of <paramref name="keys"/> the server holds, asked with one pipelined <c>get</c> per key.</summary>
    public async Task<HashSet<string>> HeldAsync(IReadOnlyList<string> keys, CancellationToken ct)
    {
        var commands = new StringBuilder();
        foreach (string key in keys)
            commands.Append(CultureInfo.InvariantCulture, $"get {key}\r\n");
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(commands.ToString()), ct);

        var held = new HashSet<string>(StringComparer.Ordinal);
        foreach (string key in keys)
        {
            string? line = await _reader.ReadLineAsync(ct);
            // Values are one line of text here (whatever flags the writer chose), so the data is skipped as a line.
            if (line is not null && line.StartsWith($"VALUE {key} ", StringComparison.Ordinal))
            {
                held.Add(key);
                await _reader.ReadLineAsync(ct);
                line = await _reader.ReadLineAsync(ct);
            }

            if (line != "END")
                throw new InvalidOperationException($"get {key} answered '{line ?? "(connection closed)"}'.");
        }

        return held;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
