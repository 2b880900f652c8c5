using System.Diagnostics;

namespace TypedCache.Cli.Tests;

/// <summary><c>typedcache bench</c> interrupted: every process the run started is stopped by its PID.</summary>
public sealed class CliBenchTests
{
    /// <summary>
    /// Ctrl+C stops the run, which stops its servers and workers and exits with 130. A second Ctrl+C while it is stopping
    /// them exits at once, and the ones not stopped yet are still stopped on the way out.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ctrl_c_stops_a_bench_run_and_every_process_it_started(bool again)
    {
        var report = Directory.CreateTempSubdirectory("typedcache-bench-").FullName;
        try
        {
            await using var bench = CliProcess.Start(["bench", "--scenario", "steady", "--duration", "60s", "--no-peers", "--out", report]);
            int[] started = [];
            // 3 memcached servers and at least one ZooKeeper member.
            await UntilAsync(() => (started = ChildrenOf(bench.ProcessId)).Length >= 4, bench, "the run to start its servers");

            bench.Interrupt();
            if (again)
            {
                await UntilAsync(() => bench.HasExited || !started.All(IsRunning), bench, "the run to begin stopping its processes", exited: true);
                bench.TryInterrupt();
            }

            Assert.Equal(130, await bench.WaitForExitAsync());

            await UntilAsync(() => !started.Any(IsRunning), bench, "every process the run started to be gone", exited: true);
        }
        finally
        {
            Directory.Delete(report, recursive: true);
        }
    }

    /// <summary>The PIDs whose parent is <paramref name="parent"/>, read from /proc.</summary>
    private static int[] ChildrenOf(int parent) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(path => int.TryParse(Path.GetFileName(path), out int pid) ? pid : 0)
            .Where(pid => pid > 0 && Stat(pid) is { } stat && stat.Parent == parent)];

    /// <summary>Whether <paramref name="pid"/> is a live process (not gone, not a zombie waiting to be reaped).</summary>
    private static bool IsRunning(int pid) => Stat(pid) is { State: not 'Z' };

    /// <summary>The state and parent PID from /proc/&lt;pid&gt;/stat, or null when the process is gone.</summary>
    private static (char State, int Parent)? Stat(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted from the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (fields[0][0], int.Parse(fields[1]));
    }

    private static async Task UntilAsync(Func<bool> condition, CliProcess bench, string what, bool exited = false)
    {
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            Assert.True(exited || !bench.HasExited, $"typedcache bench exited while waiting for {what}: {bench.Stdout} {bench.Stderr}");
            Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(30), $"waiting for {what}: {bench.Stderr}");
            await Task.Delay(20);
        }
    }
}
