using System.Buffers;
using System.Net.Sockets;

namespace TypedCache.Memcached;

internal sealed partial class MemcachedConnection : IThreadPoolWorkItem
{
    // Callers append whole requests to _pending under _sync; one flusher at a time swaps it with _sending and sends
    // that outside the lock, so callers that arrive during a send coalesce into the next write.
    private PooledBufferWriter _pending = new();
    private PooledBufferWriter _sending = new();
    private bool _flushing;
    // Where the request being written starts in _pending, so a request that cannot be written whole is cut off.
    private int _writeStart;

    /// <summary>
    /// Takes the write lock and hands out the buffer to write one whole request into; <see cref="EndWrite"/> or
    /// <see cref="AbortWrite"/> must follow. Returns <see langword="false"/>, without the lock, when the connection is down.
    /// </summary>
    public bool TryBeginWrite(out IBufferWriter<byte> writer)
    {
        Monitor.Enter(_sync);
        if (_fault is not null)
        {
            Monitor.Exit(_sync);
            writer = null!;
            return false;
        }
        _writeStart = _pending.WrittenCount;
        writer = _pending;
        return true;
    }

    /// <summary>
    /// Queues <paramref name="request"/> behind the bytes just written, releases the lock and sends: at once on this
    /// thread when nothing else is in flight (a lone caller's round trip), else on the thread pool, so that callers
    /// arriving meanwhile coalesce into one write instead of one send each.
    /// </summary>
    public void EndWrite(PendingRequest request)
    {
        request.WrittenAt = _time.GetTimestamp();
        bool idle = _inFlight.Count == 0;
        _inFlight.Enqueue(request);
        bool flush = !_flushing;
        _flushing = true;
        Monitor.Exit(_sync);
        if (!flush)
            return;
        if (idle)
            Flush(inline: true);
        else
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>
    /// A request could not be written whole: its partial bytes are cut off before the lock is released (a concurrent
    /// flusher must never send them), and the connection is closed.
    /// </summary>
    public void AbortWrite(Exception error)
    {
        _pending.Truncate(_writeStart);
        Monitor.Exit(_sync);
        Fault(MemcachedErrorKind.ProtocolError, "a request could not be written whole", error);
    }

    void IThreadPoolWorkItem.Execute() => Flush(inline: false);

    /// <summary>
    /// Sends what callers have written. The caller that started the flush sends once on its own thread (the cheapest
    /// path for one request at a time); if more arrived meanwhile, the rest goes on the thread pool, so no caller is
    /// held hostage by others' traffic.
    /// </summary>
    private void Flush(bool inline)
    {
        while (true)
        {
            PooledBufferWriter buffer;
            lock (_sync)
            {
                if (_fault is not null || _pending.WrittenCount == 0)
                {
                    _flushing = false;
                    ReleaseWriteBuffersIfFaulted();
                    return;
                }
                buffer = _pending;
                _pending = _sending;
                _sending = buffer;
            }
            try
            {
                // A blocking send: it returns at once unless the server stopped reading and the socket buffers are
                // full, and then the operation timeout tears the connection down, which ends the send.
                int sent = 0;
                while (sent < buffer.WrittenCount)
                    sent += _socket.Send(buffer.WrittenSpan[sent..], SocketFlags.None);
            }
            catch (Exception e)
            {
                OnSendFailed(e);
                return;
            }
            buffer.Clear();
            if (inline)
            {
                lock (_sync)
                {
                    if (_fault is null && _pending.WrittenCount == 0)
                    {
                        _flushing = false;
                        return;
                    }
                }
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                return;
            }
        }
    }

    private void OnSendFailed(Exception error)
    {
        lock (_sync)
        {
            _flushing = false;
            // Another thread may have faulted the connection during the send and left the buffers to this flusher.
            ReleaseWriteBuffersIfFaulted();
        }
        Fault(MemcachedErrorKind.ConnectionFailed, "sending failed: " + error.Message, error);
    }

    /// <summary>Under <see cref="_sync"/>, after a fault: returns the write buffers unless a send still uses one.</summary>
    private void ReleaseWriteBuffers()
    {
        if (_flushing)
            return;
        _pending.Dispose();
        _sending.Dispose();
    }

    private void ReleaseWriteBuffersIfFaulted()
    {
        if (_fault is not null)
            ReleaseWriteBuffers();
    }
}
