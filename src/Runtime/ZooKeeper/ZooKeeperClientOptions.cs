using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TypedCache.ZooKeeper;

/// <summary>Settings of a <see cref="ZooKeeperClient"/>.</summary>
public sealed class ZooKeeperClientOptions
{
    /// <summary>
    /// The ensemble: <c>host1:port1,host2:port2[/chroot]</c>. The port defaults to 2181; IPv6 addresses go in
    /// brackets. The hosts are tried in a shuffled order; the chroot node must exist. Required.
    /// </summary>
    public string ConnectString { get; set; } = "";

    /// <summary>
    /// The session timeout asked of the server (default 10 s). The server clamps it to its own minimum and maximum
    /// (2× and 20× its tick time by default); <see cref="ZooKeeperClient.SessionTimeout"/> is what was negotiated.
    /// </summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a call waits for the client to connect or reconnect before it fails with
    /// <see cref="ConnectionLossException"/> (default 10 s). Calls made while connected are sent at once.
    /// </summary>
    public TimeSpan ConnectionWaitTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// What happens when a server reports the session expired. False (the default): the client stays
    /// <see cref="ConnectionState.Expired"/> and every call fails with <see cref="SessionExpiredException"/>; create a
    /// new client. True: the client opens a new session and raises <see cref="ConnectionState.Connected"/> again.
    /// </summary>
    public bool RenewSessionOnExpiry { get; set; }

    /// <summary>
    /// The largest reply frame accepted (default 0xFFFFF + 64 KiB). Server replies can exceed the server's own
    /// 1 MB request limit; a larger frame is treated as corrupt and the connection is torn down.
    /// </summary>
    public int MaxReplyBytes { get; set; } = 0xFFFFF + (64 * 1024);

    /// <summary>Where session events (connected, lost, expired) are logged (default: nowhere). Paths and data are never logged.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>The clock for pings, timeouts and back-off (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
