namespace TypedCache.Testing;

/// <summary>How <see cref="NutcrackerServer.StartAsync(IEnumerable{string}, NutcrackerServerOptions?, CancellationToken)"/> configures nutcracker's pool.</summary>
public sealed class NutcrackerServerOptions
{
    /// <summary>
    /// The key hash of the ketama pool (twemproxy's <c>hash</c>): <c>md5</c>, <c>fnv1a_64</c>, <c>fnv1_64</c>,
    /// <c>fnv1_32</c>, <c>fnv1a_32</c>, <c>one_at_a_time</c>, <c>crc16</c>, <c>crc32</c>, <c>crc32a</c>,
    /// <c>hsieh</c>, <c>murmur</c> or <c>jenkins</c>. Default: <c>md5</c>.
    /// </summary>
    public string Hash { get; set; } = "md5";

    /// <summary>
    /// How long nutcracker waits for a server's reply before it answers the client with a <c>SERVER_ERROR</c>
    /// (twemproxy's <c>timeout</c>), in whole milliseconds. Default: null, nutcracker waits as long as it takes.
    /// </summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>
    /// Whether nutcracker takes a server that failed twice in a row out of the ring for 30 seconds, so its keys
    /// go to the others (twemproxy's <c>auto_eject_hosts</c>). Default: false, its keys fail while it is down.
    /// </summary>
    public bool AutoEjectHosts { get; set; }

    /// <summary>How long a start may take before it fails with nutcracker's log. Default: 10 seconds.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
