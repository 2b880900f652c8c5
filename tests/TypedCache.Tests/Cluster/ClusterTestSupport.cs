using System.Diagnostics;
using System.Text;
using TypedCache.Cluster;
using TypedCache.Memcached;
using TypedCache.Testing;

namespace TypedCache.Tests.Cluster;

/// <summary>Real memcached servers for one cluster test, stopped by PID when disposed (also on failure).</summary>
internal sealed class ServerSet : IAsyncDisposable
{
    private ServerSet(MemcachedServer[] servers) => Servers = servers;

    public MemcachedServer[] Servers { get; }

    public MemcachedServer this[int index] => Servers[index];

    public static async Task<ServerSet> StartAsync(int count)
    {
        var servers = new List<MemcachedServer>();
        try
        {
            for (int i = 0; i < count; i++)
                servers.Add(await MemcachedServer.StartAsync());
            return new ServerSet([.. servers]);
        }
        catch
        {
            foreach (var server in servers)
                await server.DisposeAsync();
            throw;
        }
    }

    public RingNode[] Nodes => [.. Servers.Select(s => new RingNode(s.Host, s.Port))];

    public async ValueTask DisposeAsync()
    {
        foreach (var server in Servers)
            await server.DisposeAsync();
    }
}

internal static class ClusterTestSupport
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>Options for fast failure detection and recovery on loopback.</summary>
    public static MemcachedClusterOptions FastOptions(NodeDownPolicy policy = NodeDownPolicy.Miss, IReadOnlyList<RingNode>? gutter = null) => new()
    {
        NodeDownPolicy = policy,
        GutterNodes = gutter ?? [],
        GutterTtlSeconds = 10,
        FailureThreshold = 3,
        ProbeMinDelay = TimeSpan.FromMilliseconds(20),
        ProbeMaxDelay = TimeSpan.FromMilliseconds(300),
        NodeOptions = new MemcachedClientOptions
        {
            ReconnectMinDelay = TimeSpan.FromMilliseconds(10),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
            ConnectTimeout = TimeSpan.FromSeconds(1),
        },
    };

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    public static string Prefix() => "c" + Guid.NewGuid().ToString("N")[..10] + ":";

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after the deadline. Returns the time it took.</summary>
    public static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? Deadline;
        var started = Stopwatch.GetTimestamp();
        Assert.True(await Poll.UntilAsync(_ => condition(), limit, CancellationToken.None), $"{what} did not happen within {limit.TotalSeconds:0.#} s");
        return Stopwatch.GetElapsedTime(started);
    }

    public static Task<TimeSpan> UntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, deadline);

    /// <summary>Waits until every node client of <paramref name="cluster"/> answers a get.</summary>
    public static Task UntilConnectedAsync(MemcachedCluster cluster, IEnumerable<string> keys) => UntilAsync(async () =>
    {
        foreach (var key in keys)
        {
            var reply = await cluster.GetAsync(key);
            reply.Value.Dispose();
            if (!reply.IsAvailable)
                return false;
        }
        return true;
    }, "every node to answer");

    /// <summary>One key owned by each node of <paramref name="ring"/>, found by trying names.</summary>
    public static string[] OneKeyPerNode(KetamaRing ring, string prefix)
    {
        var keys = new string?[ring.Nodes.Length];
        for (int i = 0; keys.Any(k => k is null); i++)
        {
            string key = prefix + i;
            int node = ring.GetNodeIndex(key);
            keys[node] ??= key;
        }
        return keys!;
    }
}
