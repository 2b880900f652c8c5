using System.Diagnostics;

namespace TypedCache.Testing;

/// <summary>
/// Every process the harness starts, and the temporary directories they use. A server whose owner never
/// disposes it is still killed by its PID, and its directory removed, when the test process exits.
/// </summary>
internal static class ProcessRegistry
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<int, Process> Live = [];
    private static readonly List<int> Started = [];
    private static readonly HashSet<string> Directories = [];

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

    /// <summary>Creates an empty temporary directory that is removed at exit unless <see cref="DeleteDirectory"/> removed it first.</summary>
    internal static string CreateDirectory(string prefix)
    {
        var path = Directory.CreateTempSubdirectory(prefix).FullName;
        lock (Gate)
        {
            Directories.Add(path);
        }

        return path;
    }

    /// <summary>Removes a directory from <see cref="CreateDirectory"/> with everything in it.</summary>
    internal static void DeleteDirectory(string path)
    {
        lock (Gate)
        {
            Directories.Remove(path);
        }

        if (Directory.Exists(path))
            Directory.Delete(path, recursive: true);
    }

    /// <summary>
    /// Runs one step of stopping <paramref name="process"/> at exit. The process may have exited and been reaped, or its
    /// owner, still running on another thread while the process exits, may have stopped and released it meanwhile
    /// (an <see cref="ObjectDisposedException"/> is an <see cref="InvalidOperationException"/>): then nothing is left to do.
    /// </summary>
    private static void StopQuietly(Process process, Action<Process> step)
    {
        try
        {
            step(process);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static void KillAll()
    {
        Process[] live;
        string[] directories;
        lock (Gate)
        {
            live = [.. Live.Values];
            Live.Clear();
            directories = [.. Directories];
        }

        foreach (var process in live)
            StopQuietly(process, p => p.Kill());
        foreach (var process in live)
            StopQuietly(process, p => p.WaitForExit(TimeSpan.FromSeconds(5)));
        foreach (var directory in directories)
        {
            try
            {
                DeleteDirectory(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process is exiting: a directory that cannot be removed now is left to the OS's temp cleanup.
            }
        }
    }
}
