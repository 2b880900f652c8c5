using System.Collections.Concurrent;

namespace TypedCache.Caching;

/// <summary>
/// A load in flight for one key, the single-flight entry of both engines: the caller that starts it ends it with
/// <see cref="Complete{TKey, TFlight}"/> or <see cref="Fail{TKey, TFlight}"/>, and callers that missed meanwhile wait for
/// that outcome through <see cref="WaitAsync"/>. The waiters' task is made only when someone waits, so a load that no
/// one joins costs this small object alone.
/// </summary>
/// <typeparam name="T">The cached type.</typeparam>
internal class Flight<T>
    where T : class
{
    private TaskCompletionSource<T?>? _waiters;
    private T? _value;
    private Exception? _error;
    private bool _done;

    /// <summary>Whether the outcome is in.</summary>
    public bool IsCompleted => Volatile.Read(ref _done);

    /// <summary>The outcome: the value (null when the loader found nothing), the failure, or the cancellation.</summary>
    public Task<T?> WaitAsync(CancellationToken cancellationToken)
    {
        Task<T?> outcome;
        lock (this)
        {
            if (!_done)
            {
                outcome = (_waiters ??= new TaskCompletionSource<T?>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            else if (_error is null)
            {
                return Task.FromResult(_value);
            }
            else
            {
                var failed = new TaskCompletionSource<T?>();
                Settle(failed, null, _error);
                return failed.Task;
            }
        }

        return outcome.WaitAsync(cancellationToken);
    }

    /// <summary>Takes the flight off <paramref name="flights"/> (unless another replaced it) and hands waiters <paramref name="value"/>.</summary>
    public void Complete<TKey, TFlight>(ConcurrentDictionary<TKey, TFlight> flights, TKey key, T? value)
        where TKey : notnull
        where TFlight : Flight<T>
    {
        flights.TryRemove(KeyValuePair.Create(key, (TFlight)this));
        End(value, null);
    }

    /// <summary>Takes the flight off <paramref name="flights"/> and hands waiters <paramref name="error"/> (a cancellation as such).</summary>
    public void Fail<TKey, TFlight>(ConcurrentDictionary<TKey, TFlight> flights, TKey key, Exception error)
        where TKey : notnull
        where TFlight : Flight<T>
    {
        flights.TryRemove(KeyValuePair.Create(key, (TFlight)this));
        End(null, error);
    }

    private void End(T? value, Exception? error)
    {
        TaskCompletionSource<T?>? waiters;
        lock (this)
        {
            if (_done)
            {
                return;
            }

            _value = value;
            _error = error;
            waiters = _waiters;
            Volatile.Write(ref _done, true);
        }

        if (waiters is not null)
        {
            Settle(waiters, value, error);
        }
    }

    private static void Settle(TaskCompletionSource<T?> completion, T? value, Exception? error)
    {
        if (error is null)
        {
            completion.TrySetResult(value);
        }
        else if (error is OperationCanceledException canceled)
        {
            completion.TrySetCanceled(canceled.CancellationToken);
        }
        else
        {
            completion.TrySetException(error);
        }
    }
}
