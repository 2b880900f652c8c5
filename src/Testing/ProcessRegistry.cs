using System.Diagnostics;

namespace TypedCache.Testing;

/// <summary>
/// Every process the harness starts. A server whose owner never disposes it is still killed by its PID
/// when the test process exits.
/// </summary>
internal static class ProcessRegistry
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<int, Process> Live = [];
    private static readonly List<int> Started = [];

    static ProcessRegistry() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

    /// <summary>The PIDs of every process the harness has started in this test process, oldest first.</summary>
    internal static IReadOnlyList<int> StartedProcessIds
    {
        get
        {
            lock (Gate)
            {
                return [.. Started];
            }
        }
    }

    /// <summary>The PIDs of the started processes that have not been stopped through the harness yet.</summary>
    internal static IReadOnlyList<int> LiveProcessIds
    {
        get
        {
            lock (Gate)
            {
                return [.. Live.Keys];
            }
        }
    }

    internal static void Add(Process process)
    {
        lock (Gate)
        {
            Live[process.Id] = process;
            Started.Add(process.Id);
        }
    }

    internal static void Remove(int processId)
    {
        lock (Gate)
        {
            Live.Remove(processId);
        }
    }

    private static void KillAll()
    {
        Process[] live;
        lock (Gate)
        {
            live = [.. Live.Values];
            Live.Clear();
        }

        foreach (var process in live)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already exited and reaped: nothing left to stop.
            }
        }
    }
}
