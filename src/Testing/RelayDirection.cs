namespace TypedCache.Testing;

/// <summary>
/// The faults of one direction of a <see cref="FaultyRelay"/> (client to server, or server to client), shared
/// by every connection it relays and switched at run time: each change applies to bytes forwarded after it.
/// </summary>
public sealed class RelayDirection
{
    private readonly Lock _gate = new();
    private readonly HashSet<RelayPump> _pumps = [];
    private TaskCompletionSource _resumed = NewResumed(completed: true);
    private TimeSpan _delay;
    private int _truncateKeepBytes = -1;
    private long _bytesForwarded;
    private long _bytesReceived;

    internal RelayDirection()
    {
    }

    /// <summary>
    /// How long each chunk of bytes is held, from the moment the relay read it, before it is forwarded; order is
    /// kept. Default: zero.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan Delay
    {
        get => _delay;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _delay = value;
        }
    }

    /// <summary>
    /// While true, bytes are read and held, not forwarded (a stalled network, not a closed one); setting it back
    /// to false forwards what was held, in order. Default: false.
    /// </summary>
    public bool Paused
    {
        get
        {
            lock (_gate)
            {
                return !_resumed.Task.IsCompleted;
            }
        }

        set
        {
            lock (_gate)
            {
                if (!value)
                    _resumed.TrySetResult();
                else if (_resumed.Task.IsCompleted)
                    _resumed = NewResumed(completed: false);
            }
        }
    }

    /// <summary>The bytes forwarded in this direction so far, over every connection (injected bytes not counted).</summary>
    public long BytesForwarded => Interlocked.Read(ref _bytesForwarded);

    /// <summary>The bytes the relay has read in this direction so far, forwarded or still held.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    internal Task WhenResumed
    {
        get
        {
            lock (_gate)
            {
                return _resumed.Task;
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> now on every live connection in this direction, between two forwarded
    /// chunks, ignoring <see cref="Delay"/> and <see cref="Paused"/>: a server (or client) that sends what it
    /// should not. Connections opened later do not get them.
    /// </summary>
    public void Inject(ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        RelayPump[] pumps;
        lock (_gate)
        {
            pumps = [.. _pumps];
        }

        foreach (var pump in pumps)
            pump.Inject(copy);
    }

    /// <summary>
    /// Arms a one-shot truncation: the next chunk forwarded in this direction, on whichever connection, is cut
    /// after <paramref name="keepBytes"/> bytes (a frame cut in the middle), and that connection is then closed.
    /// A later call replaces an armed one.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keepBytes"/> is negative.</exception>
    public void TruncateNext(int keepBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keepBytes);
        Volatile.Write(ref _truncateKeepBytes, keepBytes);
    }

    internal bool TryTakeTruncation(out int keepBytes)
    {
        keepBytes = Interlocked.Exchange(ref _truncateKeepBytes, -1);
        return keepBytes >= 0;
    }

    internal void AddForwarded(int count) => Interlocked.Add(ref _bytesForwarded, count);

    internal void AddReceived(int count) => Interlocked.Add(ref _bytesReceived, count);

    internal void Register(RelayPump pump)
    {
        lock (_gate)
        {
            _pumps.Add(pump);
        }
    }

    internal void Unregister(RelayPump pump)
    {
        lock (_gate)
        {
            _pumps.Remove(pump);
        }
    }

    private static TaskCompletionSource NewResumed(bool completed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
            source.SetResult();
        return source;
    }
}
