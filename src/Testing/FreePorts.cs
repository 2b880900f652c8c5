using System.Net;
using System.Net.Sockets;

namespace TypedCache.Testing;

/// <summary>
/// Loopback ports that were free a moment ago. Another process can still take one before the server binds
/// it, so callers that start a server on such a port retry with a new one when the bind fails.
/// </summary>
internal static class FreePorts
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>A port free on 127.0.0.1 that this process has not handed out before.</summary>
    internal static int Next()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            int port;
            using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            }

            lock (Handed)
            {
                if (Handed.Add(port))
                    return port;
            }
        }

        throw new InvalidOperationException("No loopback port was free that had not been handed out already.");
    }
}
