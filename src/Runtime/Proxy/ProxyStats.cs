using System.Diagnostics;
using System.Globalization;
using System.Text;
using TypedCache.Cluster;

namespace TypedCache.Proxy;

/// <summary>The proxy's own counters, answered to <c>stats</c> in memcached's <c>STAT name value</c> format.</summary>
internal sealed class ProxyStats
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _currentConnections;
    private long _totalConnections;
    private long _rejectedConnections;
    private long _gets;
    private long _sets;
    private long _touches;
    private long _flushes;

    public long CurrentConnections => Interlocked.Read(ref _currentConnections);

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _currentConnections);
        Interlocked.Increment(ref _totalConnections);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _currentConnections);

    public void ConnectionRejected() => Interlocked.Increment(ref _rejectedConnections);

    public void CountGets(int keys) => Interlocked.Add(ref _gets, Math.Max(keys, 0));

    public void CountSet() => Interlocked.Increment(ref _sets);

    public void CountTouch() => Interlocked.Increment(ref _touches);

    public void CountFlush() => Interlocked.Increment(ref _flushes);

    /// <summary><c>stats reset</c>: the command counters start again (connection counts are state, not counters).</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _gets, 0);
        Interlocked.Exchange(ref _sets, 0);
        Interlocked.Exchange(ref _touches, 0);
        Interlocked.Exchange(ref _flushes, 0);
        Interlocked.Exchange(ref _totalConnections, 0);
        Interlocked.Exchange(ref _rejectedConnections, 0);
    }

    /// <summary>The <c>stats</c> reply: counters, then the ring's nodes and how many are connected, then <c>END</c>.</summary>
    public ReadOnlyMemory<byte> Format(RingTopology<ProxyBackend> topology)
    {
        var text = new StringBuilder();
        void Stat(string name, object value) => text.Append(CultureInfo.InvariantCulture, $"STAT {name} {value}\r\n");
        Stat("pid", Environment.ProcessId);
        Stat("uptime", (long)Stopwatch.GetElapsedTime(_started).TotalSeconds);
        Stat("time", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Stat("version", "1.6.18-typedcache-proxy");
        Stat("curr_connections", CurrentConnections);
        Stat("total_connections", Interlocked.Read(ref _totalConnections));
        Stat("rejected_connections", Interlocked.Read(ref _rejectedConnections));
        Stat("cmd_get", Interlocked.Read(ref _gets));
        Stat("cmd_set", Interlocked.Read(ref _sets));
        Stat("cmd_touch", Interlocked.Read(ref _touches));
        Stat("cmd_flush", Interlocked.Read(ref _flushes));
        Stat("backends", topology.Nodes.Length);
        Stat("backends_up", topology.Nodes.Count(b => b.IsUp));
        Stat("ring_live_nodes", topology.Ring.LiveCount);
        text.Append("END\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
