using System.Diagnostics;

namespace TypedCache.Testing.Tests;

/// <summary>Polls a condition with a deadline: the tests' only way to wait.</summary>
internal static class Eventually
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static Task HoldsAsync(Func<bool> condition, string what) => HoldsAsync(() => Task.FromResult(condition()), what);

    public static async Task HoldsAsync(Func<Task<bool>> condition, string what)
    {
        var started = Stopwatch.GetTimestamp();
        while (!await condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < Deadline, $"{what} did not happen within {Deadline.TotalSeconds} s");
            await Task.Delay(10);
        }
    }
}
