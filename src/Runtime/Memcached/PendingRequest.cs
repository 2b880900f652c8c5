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
/// responses in order; a teardown fails it.
/// </summary>
internal abstract class PendingRequest
{
    /// <summary>When the request was written, from the connection's <see cref="TimeProvider"/>, for the operation timeout.</summary>
    public long WrittenAt;

    /// <summary>The command, for exception messages: <c>mg</c>, <c>ms</c>, <c>mg batch</c>, <c>stats</c>…</summary>
    public abstract string Command { get; }

    /// <summary>Consumes one response; called on the read loop, in order.</summary>
    public abstract ResponseOutcome OnResponse(in MetaResponse response, MemcachedConnection connection);

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

    /// <summary>The task the caller awaits.</summary>
    public ValueTask<TResult> Task => new(this, _core.Version);

    /// <summary>Prepares a rented request: two owners, not completed, cancellable through <paramref name="cancellationToken"/>.</summary>
    protected void Start(CancellationToken cancellationToken)
    {
        _completed = 0;
        _owners = 2;
        if (cancellationToken.CanBeCanceled)
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((PooledRequest<TResult>)state!).TrySetException(new OperationCanceledException(token)), this);
    }

    /// <summary>Completes the caller's task with a result, unless it already completed (cancelled); returns whether it did.</summary>
    protected bool TrySetResult(TResult result)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
            return false;
        _cancellation.Unregister();
        _core.SetResult(result);
        return true;
    }

    /// <summary>Completes the caller's task with an exception, unless it already completed.</summary>
    protected bool TrySetException(Exception error)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
            return false;
        _cancellation.Unregister();
        _core.SetException(error);
        return true;
    }

    /// <inheritdoc/>
    public override void OnFailure(Exception error)
    {
        TrySetException(error);
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
