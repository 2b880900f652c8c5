using System.Net.Sockets;

namespace TypedCache.Testing;

/// <summary>One client connection of a <see cref="FaultyRelay"/> and its connection to the target: a pump each way.</summary>
internal sealed class RelayConnection
{
    private readonly Socket _client;
    private readonly Socket _server;
    private readonly CancellationTokenSource _closing = new();
    private readonly RelayPump _toServer;
    private readonly RelayPump _toClient;
    private int _closed;

    public RelayConnection(Socket client, Socket server, RelayDirection toServer, RelayDirection toClient)
    {
        _client = client;
        _server = server;
        _toServer = new RelayPump(client, server, toServer, this);
        _toClient = new RelayPump(server, client, toClient, this);
    }

    /// <summary>Cancelled when the connection is dropped or cut.</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>Relays until both directions have ended (each side closed) or the connection is dropped.</summary>
    public async Task RunAsync()
    {
        await Task.WhenAll(_toServer.RunAsync(_closing.Token), _toClient.RunAsync(_closing.Token)).ConfigureAwait(false);
        Close(reset: false, flushTo: null);
    }

    /// <summary>Drops the connection at once: both sockets are reset, held bytes are lost.</summary>
    public void Abort() => Close(reset: true, flushTo: null);

    /// <summary>Closes both sockets after a truncated chunk, with a FIN after the bytes sent to <paramref name="truncated"/>.</summary>
    public void CloseAfterTruncation(Socket truncated) => Close(reset: false, flushTo: truncated);

    private void Close(bool reset, Socket? flushTo)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1)
            return;
        _closing.Cancel();
        foreach (var socket in (Socket[])[_client, _server])
        {
            try
            {
                if (reset)
                    socket.LingerState = new LingerOption(true, 0);
                else if (socket == flushTo)
                    socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // Already reset by the peer: closing is all that is left.
            }

            socket.Dispose();
        }
    }
}
