using Microsoft.Extensions.Logging;

namespace TypedCache.Coordination;

/// <summary>The background loop of a recipe: started once, and stopped once by cancelling it and awaiting its end.</summary>
internal sealed class BackgroundLoop
{
    private readonly CancellationTokenSource _stop = new();
    private Task _task = Task.CompletedTask;
    private int _stopped;

    /// <summary>Runs <paramref name="body"/> on the thread pool with the loop's stop token.</summary>
    public void Start(Func<CancellationToken, Task> body) => _task = Task.Run(() => body(_stop.Token));

    /// <summary>
    /// Logs a failure no recipe expects (a bug, or a callback that threw) and waits <paramref name="delay"/> before the
    /// loop re-reads its state: the loop keeps running rather than ending silently.
    /// </summary>
    /// <returns>False when the loop was stopped meanwhile.</returns>
    public static async Task<bool> BackOffAfterAsync(ILogger logger, string recipe, Exception exception, TimeSpan delay, CancellationToken stop)
    {
        CoordinationLog.LoopFailed(logger, exception, recipe);
        await Task.Delay(delay, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return !stop.IsCancellationRequested;
    }

    /// <summary>Cancels the loop and waits for it to end; false (and nothing done) when it was stopped already.</summary>
    public async ValueTask<bool> StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return false;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _task.ConfigureAwait(false);
        return true;
    }
}
