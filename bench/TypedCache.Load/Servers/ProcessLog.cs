namespace TypedCache.Load.Servers;

/// <summary>Every process the load tool started (servers, restarts, workers), for the report and the final check that none is left.</summary>
internal sealed class ProcessLog
{
    private readonly Lock _gate = new();
    private readonly List<(int Pid, string What)> _started = [];

    public void Add(int processId, string what)
    {
        lock (_gate)
            _started.Add((processId, what));
    }

    public IReadOnlyList<(int Pid, string What)> Started
    {
        get
        {
            lock (_gate)
                return [.. _started];
        }
    }

    /// <summary>The started processes that still run (a zombie counts as gone: it holds no port and no memory).</summary>
    public IReadOnlyList<(int Pid, string What)> StillRunning() => [.. Started.Where(p => IsRunning(p.Pid))];

    private static bool IsRunning(int processId)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{processId}/stat");
            int close = stat.LastIndexOf(')');
            return close < 0 || stat.Length <= close + 2 || stat[close + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
