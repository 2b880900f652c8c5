using System.Threading.Tasks.Sources;

namespace TypedCache.Memcached;

/// <summary>What a response did to the request at the head of the in-flight queue.</summary>
internal enum ResponseOutcome : byte
{
    /// <summary>The request is complete; take it off the queue.</summary>
    Done,
    /// <summary>The request expects more responses (a batch before its <c>MN</c>, <c>stats</c> before <c>END</c>).</summary>
    More,
    /// <summary>The response cannot belong to this request: the stream is out of step.</summary>
    Unexpected,
}

/// <summary>
/// One request on the wire, waiting in a connection's in-flight queue for its response. The read loop feeds it
/// responses in order and records its outcome; the caller is woken by <see cref="Signal"/> only after the read loop
/// has moved on to another thread, so caller code never runs on the read loop. A teardown fails it.
/// </summary>
internal abstract class PendingRequest
{
    /// <summary>When the request was written, from the connection's <see cref="TimeProvider"/>, for the operation timeout.</summary>
    public long WrittenAt;

    /// <summary>The command, for exception messages: <c>mg</c>, <c>ms</c>, <c>mg batch</c>, <c>stats</c>…</summary>
    public abstract string Command { get; }

    /// <summary>Consumes one response; called on the read loop, in order. Records the outcome without waking the caller.</summary>
    public abstract ResponseOutcome OnResponse(in MetaResponse response, MemcachedConnection connection);

    /// <summary>Wakes the caller with the outcome recorded by <see cref="OnResponse"/>, if any: on this thread when <paramref name="inline"/>, else on the thread pool.</summary>
    public abstract void Signal(bool inline);

    /// <summary>Fails the request: the connection was torn down while it was in flight. Called once, after which the queue forgets it.</summary>
    public abstract void OnFailure(Exception error);

    /// <summary>The connection took the request off its queue after <see cref="ResponseOutcome.Done"/> and lets go of it.</summary>
    public abstract void OnDequeued();
}

/// <summary>
/// A pooled request whose caller awaits a <see cref="ValueTask{TResult}"/> backed by this object, so a request costs
/// no allocation. The object goes back to its pool once both owners let go: the caller (after
/// <see cref="GetResult"/>) and the connection (after the final response or the failure), so a response arriving
/// after the caller was cancelled never touches a recycled request.
/// </summary>
internal abstract class PooledRequest<TResult> : PendingRequest, IValueTaskSource<TResult>
{
    private ManualResetValueTaskSourceCore<TResult> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private int _completed;
    private int _owners;
    private bool _recorded;
    private TResult? _result;
    private Exception? _error;

    /// <summary>The task the caller awaits.</summary>
    public ValueTask<TResult> Task => new(this, _core.Version);

    /// <summary>The token of the current use, for a derived class that also offers its result as another type.</summary>
    protected short Version => _core.Version;

    /// <summary>Prepares a rented request: two owners, not completed, cancellable through <paramref name="cancellationToken"/>.</summary>
    protected void Start(CancellationToken cancellationToken)
    {
        _completed = 0;
        _owners = 2;
        if (cancellationToken.CanBeCanceled)
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((PooledRequest<TResult>)state!).FailNow(new OperationCanceledException(token)), this);
    }

    /// <summary>Records the result for <see cref="Signal"/>, unless the request already completed (cancelled); returns whether it did.</summary>
    protected bool TrySetResult(TResult result)
    {
        if (!TryClaim())
            return false;
        _result = result;
        _recorded = true;
        return true;
    }

    /// <summary>Records an error response for <see cref="Signal"/>, unless the request already completed.</summary>
    protected void TrySetException(Exception error)
    {
        if (!TryClaim())
            return;
        _error = error;
        _recorded = true;
    }

    /// <summary>
    /// For a response that is not one of the command's own: a <c>CLIENT_ERROR</c>/<c>SERVER_ERROR</c> fails just this
    /// request (<see cref="ResponseOutcome.Done"/>); anything else means the stream is out of step.
    /// </summary>
    protected ResponseOutcome FailWithError(in MetaResponse response, MemcachedConnection connection)
    {
        if (MetaResults.ErrorFrom(response, connection, Command) is not { } error)
            return ResponseOutcome.Unexpected;
        TrySetException(error);
        return ResponseOutcome.Done;
    }

    /// <inheritdoc/>
    public override void Signal(bool inline)
    {
        if (!_recorded)
            return;
        // Clear the fields before waking the caller: an inline continuation may recycle this object and reuse it.
        var result = _result;
        var error = _error;
        _recorded = false;
        _result = default;
        _error = null;
        _core.RunContinuationsAsynchronously = !inline;
        if (error is not null)
            _core.SetException(error);
        else
            _core.SetResult(result!);
    }

    private bool TryClaim()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
            return false;
        _cancellation.Unregister();
        return true;
    }

    private void FailNow(Exception error)
    {
        if (!TryClaim())
            return;
        _core.RunContinuationsAsynchronously = true;
        _core.SetException(error);
    }

    /// <inheritdoc/>
    public override void OnFailure(Exception error)
    {
        FailNow(error);
        Release();
    }

    /// <inheritdoc/>
    public override void OnDequeued() => Release();

    /// <inheritdoc/>
    public TResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Release();
        }
    }

    /// <inheritdoc/>
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Release()
    {
        if (Interlocked.Decrement(ref _owners) != 0)
            return;
        _cancellation = default;
        _core.Reset();
        Recycle();
    }

    /// <summary>Clears per-request state and returns the object to its pool.</summary>
    protected abstract void Recycle();
}

/// <summary>A small lock-protected stack of reusable objects; bounded, so a burst does not pin memory forever.</summary>
internal sealed class ObjectPool<T> where T : class, new()
{
    private readonly T?[] _items;
    private int _count;

    public ObjectPool(int capacity) => _items = new T?[capacity];

    public T Rent()
    {
        lock (_items)
        {
            if (_count > 0)
            {
                var item = _items[--_count]!;
                _items[_count] = null;
                return item;
            }
        }
        return new T();
    }

    public void Return(T item)
    {
        lock (_items)
        {
            if (_count < _items.Length)
                _items[_count++] = item;
        }
    }
}
