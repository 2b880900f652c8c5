using Microsoft.Extensions.Logging;

namespace TypedCache.ZooKeeper;

/// <summary>The ZooKeeper client's log messages (event ids 5100–5199). Paths and data are never logged.</summary>
internal static partial class ZooKeeperLog
{
    [LoggerMessage(5100, LogLevel.Information, "ZooKeeper session 0x{SessionId:x} {State} on {Endpoint}, timeout {TimeoutMs} ms")]
    public static partial void Connected(ILogger logger, long sessionId, ConnectionState state, string endpoint, int timeoutMs);

    [LoggerMessage(5101, LogLevel.Warning, "ZooKeeper connection to {Endpoint} lost for session 0x{SessionId:x}")]
    public static partial void Disconnected(ILogger logger, Exception reason, string endpoint, long sessionId);

    [LoggerMessage(5102, LogLevel.Debug, "ZooKeeper server {Endpoint} could not be reached or refused the handshake")]
    public static partial void ConnectFailed(ILogger logger, Exception reason, string endpoint);

    [LoggerMessage(5103, LogLevel.Error, "ZooKeeper session 0x{SessionId:x} expired")]
    public static partial void Expired(ILogger logger, long sessionId);

    [LoggerMessage(5104, LogLevel.Error, "ZooKeeper rejected the session's authentication ({Code}); the client stops")]
    public static partial void AuthFailed(ILogger logger, KeeperErrorCode code);

    [LoggerMessage(5105, LogLevel.Warning, "ZooKeeper session 0x{SessionId:x} lost: disconnected for the whole session timeout")]
    public static partial void Lost(ILogger logger, long sessionId);
}
