using Microsoft.Extensions.Caching.Hybrid;

namespace TypedCache.Caching.MicrosoftCaching;

// Single-flight: one load per key, type and flags in the process, cancelled only when every caller has cancelled.
internal sealed partial class RingHybridCache
{
    private ValueTask<T> JoinFlightAsync<TState, T>(
        string memcachedKey, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, EntrySettings entry, string[] tags, CancellationToken cancellationToken)
    {
        var key = new FlightKey(memcachedKey, typeof(T), entry.Flags);
        while (true)
        {
            if (_flights.TryGetValue(key, out var existing))
            {
                var joined = (Flight<T>)existing;
                if (joined.TryJoin())
                {
                    return AwaitAsync(joined, cancellationToken);
                }
            }

            var flight = new Flight<T>();
            if (existing is null ? _flights.TryAdd(key, flight) : _flights.TryUpdate(key, flight, existing))
            {
                _ = RunAsync(key, flight, state, factory, entry, tags);
                return AwaitAsync(flight, cancellationToken);
            }
        }
    }

    private async Task RunAsync<TState, T>(FlightKey key, Flight<T> flight, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, EntrySettings entry, string[] tags)
    {
        try
        {
            flight.Completion.TrySetResult(await LoadAsync(key.MemcachedKey, state, factory, entry, tags, flight.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (flight.Token.IsCancellationRequested)
        {
            flight.Completion.TrySetCanceled(flight.Token);
        }
        catch (Exception exception)
        {
            flight.Completion.TrySetException(exception);
        }
        finally
        {
            _flights.TryRemove(KeyValuePair.Create(key, (object)flight));
        }
    }

    private static async ValueTask<T> AwaitAsync<T>(Flight<T> flight, CancellationToken cancellationToken)
    {
        try
        {
            return await flight.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            flight.Leave();
        }
    }

    /// <summary>What one flight is for: the key, the value's type and the flags (which change what a load does).</summary>
    private readonly record struct FlightKey(string MemcachedKey, Type Type, HybridCacheEntryFlags Flags);

    /// <summary>A load in flight and how many callers wait on it; the last caller to leave early cancels it.</summary>
    private sealed class Flight<T>
    {
        private readonly CancellationTokenSource _cancel = new();
        private int _callers = 1;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationToken Token => _cancel.Token;

        /// <summary>Adds a caller, unless every caller already left (then the load is being cancelled).</summary>
        public bool TryJoin()
        {
            var callers = Volatile.Read(ref _callers);
            while (callers > 0)
            {
                var seen = Interlocked.CompareExchange(ref _callers, callers + 1, callers);
                if (seen == callers)
                {
                    return true;
                }

                callers = seen;
            }

            return false;
        }

        public void Leave()
        {
            if (Interlocked.Decrement(ref _callers) == 0 && !Completion.Task.IsCompleted)
            {
                _cancel.Cancel();
            }
        }
    }
}
