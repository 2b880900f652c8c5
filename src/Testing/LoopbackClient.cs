using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TypedCache.Testing;

/// <summary>Sends one text command to a server on 127.0.0.1 and reads its reply: readiness and status probes.</summary>
internal static class LoopbackClient
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The reply to <paramref name="command"/>, read until <paramref name="isComplete"/> holds or the server
    /// closes the connection; null when the server cannot be reached or does not answer in time.
    /// </summary>
    internal static async Task<string?> TryExchangeAsync(int port, string command, Func<string, bool> isComplete, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ProbeTimeout);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(Encoding.ASCII.GetBytes(command), timeout.Token).ConfigureAwait(false);
            var reply = new StringBuilder();
            var buffer = new byte[4096];
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                    return reply.ToString();
                reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
                if (isComplete(reply.ToString()))
                    return reply.ToString();
            }
        }
        catch (SocketException)
        {
            return null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
        }
    }
}
