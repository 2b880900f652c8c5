namespace TypedCache.Coordination;

/// <summary>The background loop of a recipe: started once, and stopped once by cancelling it and awaiting its end.</summary>
internal sealed class BackgroundLoop
{
    private readonly CancellationTokenSource _stop = new();
    private Task _task = Task.CompletedTask;
    private int _stopped;

    /// <summary>Runs <paramref name="body"/> on the thread pool with the loop's stop token.</summary>
    public void Start(Func<CancellationToken, Task> body) => _task = Task.Run(() => body(_stop.Token));

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
