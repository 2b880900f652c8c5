using Microsoft.Extensions.Logging;

namespace TypedCache.Coordination;

/// <summary>The coordination recipes' log messages (event ids 5200–5299). Paths and data are never logged.</summary>
internal static partial class CoordinationLog
{
    [LoggerMessage(5200, LogLevel.Error, "ZooKeeper recipe {Recipe} failed unexpectedly; it backs off and re-reads its state")]
    public static partial void LoopFailed(ILogger logger, Exception exception, string recipe);

    [LoggerMessage(5201, LogLevel.Error, "The event log subscriber's handler failed; the subscription goes on with the next event")]
    public static partial void ItemHandlerFailed(ILogger logger, Exception exception);
}
