using System.Diagnostics;

namespace TypedCache.Testing;

/// <summary>Polls a condition with a short backoff until it holds or a deadline passes.</summary>
internal static class Poll
{
    private static readonly TimeSpan FirstInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>True once <paramref name="condition"/> holds; false when <paramref name="timeout"/> passes first.</summary>
    internal static async Task<bool> UntilAsync(Func<CancellationToken, Task<bool>> condition, TimeSpan timeout, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var interval = FirstInterval;
        while (true)
        {
            if (await condition(ct).ConfigureAwait(false))
                return true;
            if (Stopwatch.GetElapsedTime(started) >= timeout)
                return false;
            await Task.Delay(interval, ct).ConfigureAwait(false);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, MaxInterval.Ticks));
        }
    }
}
