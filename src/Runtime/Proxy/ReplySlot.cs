using System.Buffers;
using System.Threading.Tasks.Sources;

namespace TypedCache.Proxy;

/// <summary>
/// The reply to one client request, in the client connection's queue of replies: a fixed reply, or one filled by the
/// backend reply (or replies, for a <c>get</c> split across nodes) it waits for. The connection's writer takes slots
/// in request order, so replies leave in request order whatever order the backends answer in.
/// </summary>
/// <remarks>
/// The connection's writer resumes inline on the thread that completes the slot (a backend's read loop): it copies
/// the reply into its output and sends it, and stands down at its first await that does not complete at once (a slow
/// client, the next reply not ready), so a backend's read loop is held up only by synchronous work, never by a client.
/// The backend's frame is copied before the slot completes, so the read loop may reuse its buffer.
/// </remarks>
internal sealed class ReplySlot : IBackendReply, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core;
    private ReadOnlyMemory<byte> _fixed;
    private ReadOnlyMemory<byte> _unavailable;
    private ReadOnlyMemory<byte> _quietCode;
    private byte[]? _buffer;
    private int _length;
    private bool _silent;
    private int _remaining;
    private GetMerge? _merge;

    /// <summary>Close the connection once this reply is written (<c>quit</c>, a line too long).</summary>
    public bool CloseAfter { get; private init; }

    /// <summary>Whether the reply is ready to write.</summary>
    public bool IsCompleted => _core.GetStatus(_core.Version) != ValueTaskSourceStatus.Pending;

    /// <summary>A reply known now.</summary>
    public static ReplySlot Fixed(ReadOnlyMemory<byte> reply, bool closeAfter = false)
    {
        var slot = new ReplySlot { _fixed = reply, CloseAfter = closeAfter };
        slot._core.SetResult(true);
        return slot;
    }

    /// <summary>
    /// A reply forwarded from one backend reply. <paramref name="silent"/> drops the
    /// backend's reply (<c>noreply</c>); <paramref name="quietCode"/> drops a reply that starts with it (meta <c>q</c>).
    /// <paramref name="unavailable"/> is written for a part with no backend reply.
    /// </summary>
    public static ReplySlot Forward(ReadOnlyMemory<byte> unavailable, bool silent = false, ReadOnlyMemory<byte> quietCode = default) =>
        new() { _unavailable = unavailable, _silent = silent, _quietCode = quietCode, _remaining = 1 };

    /// <summary>A reply sent once to every node (<c>flush_all</c>): <paramref name="reply"/> when all have answered.</summary>
    public static ReplySlot AllNodes(int nodes, ReadOnlyMemory<byte> reply, bool silent)
    {
        var slot = new ReplySlot { _fixed = silent ? default : reply, _silent = true, _remaining = nodes };
        if (nodes == 0)
            slot._core.SetResult(true);
        return slot;
    }

    /// <summary>A <c>get</c> split across nodes: the hits of <paramref name="merge"/>'s parts, in the order of its keys, then <c>END</c>.</summary>
    public static ReplySlot Get(GetMerge merge) => new() { _merge = merge, _remaining = merge.PartCount };

    /// <summary>Waits until the reply is ready.</summary>
    public ValueTask WaitAsync() => new(this, _core.Version);

    /// <summary>Writes the reply and returns what it borrowed.</summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        if (_merge is not null)
        {
            _merge.WriteTo(output);
            return;
        }
        if (!_fixed.IsEmpty)
            output.Write(_fixed.Span);
        if (_buffer is not null)
        {
            output.Write(_buffer.AsSpan(0, _length));
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    /// <inheritdoc/>
    public void OnReply(int part, ReadOnlySequence<byte> frame)
    {
        if (_merge is not null)
            _merge.SetPart(part, frame);
        else if (!_silent && !IsQuiet(frame))
            Keep(frame);
        Done();
    }

    /// <inheritdoc/>
    public void OnUnavailable(int part)
    {
        if (_merge is null && !_silent)
            Keep(new ReadOnlySequence<byte>(_unavailable));
        Done();
    }

    /// <summary>Whether a meta reply is the nominal one that <c>q</c> hides: its code, then a space or the line end.</summary>
    private bool IsQuiet(ReadOnlySequence<byte> frame)
    {
        int n = _quietCode.Length;
        if (n == 0 || frame.Length < n + 1)
            return false;
        Span<byte> head = stackalloc byte[n + 1];
        frame.Slice(0, n + 1).CopyTo(head);
        return head[..n].SequenceEqual(_quietCode.Span) && head[n] is (byte)' ' or (byte)'\r';
    }

    private void Keep(ReadOnlySequence<byte> frame)
    {
        _length = (int)frame.Length;
        _buffer = ArrayPool<byte>.Shared.Rent(_length);
        frame.CopyTo(_buffer);
    }

    private void Done()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
            _core.SetResult(true);
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
