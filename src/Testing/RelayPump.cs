using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;

namespace TypedCache.Testing;

/// <summary>
/// One direction of one relayed connection. A reader takes chunks off the source socket as they come and
/// queues them with the time they arrived; a writer forwards each when its delay is over and the direction
/// is not paused, so a delay shifts every chunk by the same amount instead of adding up.
/// </summary>
internal sealed class RelayPump
{
    private const int ChunkSize = 16 * 1024;

    private readonly Socket _source;
    private readonly Socket _destination;
    private readonly RelayDirection _direction;
    private readonly RelayConnection _connection;
    private readonly Channel<(byte[] Bytes, long ReceivedAt)> _held =
        Channel.CreateBounded<(byte[], long)>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true });

    // Injected bytes and forwarded chunks share the socket: one write at a time.
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public RelayPump(Socket source, Socket destination, RelayDirection direction, RelayConnection connection)
    {
        _source = source;
        _destination = destination;
        _direction = direction;
        _connection = connection;
    }

    public async Task RunAsync(CancellationToken ct)
    {
        _direction.Register(this);
        try
        {
            await Task.WhenAll(ReadAsync(ct), WriteAsync(ct)).ConfigureAwait(false);
        }
        finally
        {
            _direction.Unregister(this);
        }
    }

    public void Inject(byte[] bytes) => _ = InjectAsync(bytes);

    private async Task InjectAsync(byte[] bytes)
    {
        try
        {
            await WriteLockedAsync(bytes, _connection.Closing).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _connection.Abort();
        }
    }

    private async Task ReadAsync(CancellationToken ct)
    {
        try
        {
            var buffer = new byte[ChunkSize];
            while (true)
            {
                var read = await _source.ReceiveAsync(buffer, ct).ConfigureAwait(false);
                if (read == 0)
                    break;
                _direction.AddReceived(read);
                await _held.Writer.WriteAsync((buffer[..read], Stopwatch.GetTimestamp()), ct).ConfigureAwait(false);
            }

            _held.Writer.TryComplete();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _held.Writer.TryComplete();
            _connection.Abort();
        }
    }

    private async Task WriteAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var (bytes, receivedAt) in _held.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var wait = _direction.Delay - Stopwatch.GetElapsedTime(receivedAt);
                if (wait > TimeSpan.Zero)
                    await Task.Delay(wait, ct).ConfigureAwait(false);
                await _direction.WhenResumed.WaitAsync(ct).ConfigureAwait(false);

                if (_direction.TryTakeTruncation(out var keep))
                {
                    var kept = bytes.AsMemory(0, Math.Min(keep, bytes.Length));
                    _direction.AddForwarded(kept.Length);
                    await WriteLockedAsync(kept, ct).ConfigureAwait(false);
                    _connection.CloseAfterTruncation(_destination);
                    return;
                }

                // Counted before the write so that whoever sees the bytes arrive also sees them counted.
                _direction.AddForwarded(bytes.Length);
                await WriteLockedAsync(bytes, ct).ConfigureAwait(false);
            }

            // The source half-closed: pass the FIN on and let the other direction finish.
            _destination.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _connection.Abort();
        }
    }

    private async Task WriteLockedAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _destination.SendAsync(bytes, ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
