namespace TypedCache.Testing;

/// <summary>How <see cref="ZooKeeperEnsemble.StartAsync(int, ZooKeeperEnsembleOptions?, CancellationToken)"/> configures its members.</summary>
public sealed class ZooKeeperEnsembleOptions
{
    /// <summary>
    /// ZooKeeper's <c>tickTime</c> in milliseconds: its unit of time, which bounds session timeouts (see
    /// <see cref="MinSessionTimeoutMilliseconds"/>). Default: 200, short so that session-expiry tests stay fast
    /// (ZooKeeper's own default is 2000).
    /// </summary>
    public int TickTimeMilliseconds { get; set; } = 200;

    /// <summary>
    /// The shortest session timeout the servers grant; a client asking for less gets this. Default: null,
    /// meaning 2 × <see cref="TickTimeMilliseconds"/> (400 ms with the default tick).
    /// </summary>
    public int? MinSessionTimeoutMilliseconds { get; set; }

    /// <summary>
    /// The longest session timeout the servers grant; a client asking for more gets this. Default: null,
    /// meaning 20 × <see cref="TickTimeMilliseconds"/> (4 s with the default tick).
    /// </summary>
    public int? MaxSessionTimeoutMilliseconds { get; set; }

    /// <summary>
    /// How long a start of the ensemble, or of one member, may take before it fails with the members' logs.
    /// Default: 60 seconds (a JVM per member on a small, busy machine).
    /// </summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
