using System.Net.Sockets;
using System.Text;

namespace TypedCache.Testing.Tests;

/// <summary>A plain socket client for the tests, independent of the harness's own probes.</summary>
internal static class TextClient
{
    /// <summary>Sends <paramref name="command"/> and reads until the reply ends with <paramref name="terminator"/> (or the server closes, when null).</summary>
    public static async Task<string> ExchangeAsync(int port, string command, string? terminator)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command), timeout.Token);
        return await ReadUntilAsync(stream, terminator, timeout.Token);
    }

    public static async Task<string> ReadUntilAsync(Stream stream, string? terminator, CancellationToken ct)
    {
        var reply = new StringBuilder();
        var buffer = new byte[4096];
        while (terminator is null || !reply.ToString().EndsWith(terminator, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, ct);
            if (read == 0)
                break;
            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return reply.ToString();
    }

    public static bool ProcessIsGone(int pid) => !Directory.Exists($"/proc/{pid}");
}
