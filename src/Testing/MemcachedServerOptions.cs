namespace TypedCache.Testing;

/// <summary>How <see cref="MemcachedServer.StartAsync(MemcachedServerOptions?, CancellationToken)"/> runs memcached.</summary>
public sealed class MemcachedServerOptions
{
    /// <summary>The cache memory limit in megabytes (memcached's <c>-m</c>). Default: 64.</summary>
    public int MemoryMegabytes { get; set; } = 64;

    /// <summary>
    /// The largest item memcached stores, in bytes (memcached's <c>-I</c>); at least 1024 and at most half of
    /// <see cref="MemoryMegabytes"/>. Default: 1 MiB.
    /// </summary>
    public int MaxItemSizeBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The loopback port to listen on. Default: null, a free port is picked (and another one if the port is
    /// taken before memcached binds it). A fixed port that is taken fails the start.
    /// </summary>
    public int? Port { get; set; }

    /// <summary>Further command-line arguments appended after the harness's own. Default: none.</summary>
    public IList<string> ExtraArguments { get; } = [];

    /// <summary>How long a start may take before it fails with the server's output. Default: 10 seconds.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
