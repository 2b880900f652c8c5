namespace TypedCache.Caching.InMemory;

internal sealed partial class InMemoryCacheEngine
{
    public async ValueTask<IAsyncDisposable> LockAsync<T, TKey>(
        CacheTypeDescriptor<T, TKey> type,
        TKey key,
        TimeSpan timeout,
        CancellationToken cancellationToken)
        where T : class
        where TKey : struct, ICacheKey<TKey>
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The lock timeout must be positive, zero or infinite.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var locks = Store(type).Locks;
        var held = locks.Enter(key);
        try
        {
            if (!held.Gate.Wait(0))
            {
                await WaitAsync(held.Gate, type, key, timeout, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            locks.Leave(key, held);
            throw;
        }

        return new LockHandle<TKey>(locks, key, held);
    }

    private async Task WaitAsync<TKey>(SemaphoreSlim gate, CacheTypeDescriptor type, TKey key, TimeSpan timeout, CancellationToken cancellationToken)
        where TKey : struct, ICacheKey<TKey>
    {
        using var timer = timeout == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            await gate.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The lock on {type.Name} key '{key}' was not acquired within {timeout}.");
        }
    }

    /// <summary>One key's lock: a gate and how many callers hold or wait for it.</summary>
    private sealed class LockState
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int Users { get; set; }
    }

    /// <summary>The locks of one type; a key's state lives while someone holds or waits for it.</summary>
    private sealed class LockTable<TKey>
        where TKey : struct, ICacheKey<TKey>
    {
        private readonly Dictionary<TKey, LockState> _states = [];

        public LockState Enter(TKey key)
        {
            lock (_states)
            {
                if (!_states.TryGetValue(key, out var state))
                {
                    _states[key] = state = new LockState();
                }

                state.Users++;
                return state;
            }
        }

        public void Leave(TKey key, LockState state)
        {
            lock (_states)
            {
                if (--state.Users == 0)
                {
                    _states.Remove(key);
                    state.Gate.Dispose();
                }
            }
        }
    }

    private sealed class LockHandle<TKey>(LockTable<TKey> locks, TKey key, LockState state) : IAsyncDisposable
        where TKey : struct, ICacheKey<TKey>
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                state.Gate.Release();
                locks.Leave(key, state);
            }

            return ValueTask.CompletedTask;
        }
    }
}
