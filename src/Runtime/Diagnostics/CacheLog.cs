using Microsoft.Extensions.Logging;
using TypedCache.ZooKeeper;

namespace TypedCache.Diagnostics;

/// <summary>
/// The cache engine's log messages: event ids 5300–5399 for the memcached cluster, 5400–5499 for the engine (the table
/// is in <c>Diagnostics/README.md</c>). Keys and values are never logged; a loader's exception is named by its type only,
/// since its message may hold a key.
/// </summary>
internal static partial class CacheLog
{
    [LoggerMessage(5300, LogLevel.Warning, "memcached node {Node} of {Context} is down: its keys go to the loader until it answers")]
    public static partial void NodeDown(ILogger logger, string node, string context);

    [LoggerMessage(5301, LogLevel.Information, "memcached node {Node} of {Context} answers again")]
    public static partial void NodeUp(ILogger logger, string node, string context);

    [LoggerMessage(5302, LogLevel.Information, "The ring of {Context} changed: {LiveNodes} of {Nodes} nodes take keys")]
    public static partial void RingChanged(ILogger logger, string context, int liveNodes, int nodes);

    [LoggerMessage(5400, LogLevel.Information, "The cache engine of {Context} started on {Nodes} memcached nodes, ZooKeeper {ZooKeeper}")]
    public static partial void Started(ILogger logger, string context, int nodes, string zooKeeper);

    [LoggerMessage(5401, LogLevel.Warning, "ZooKeeper of {Context} is {State}: serving on the last ring and versions; invalidations queue, locks fail")]
    public static partial void ZooKeeperDown(ILogger logger, string context, ConnectionState state);

    [LoggerMessage(5402, LogLevel.Information, "ZooKeeper of {Context} is {State} again")]
    public static partial void ZooKeeperUp(ILogger logger, string context, ConnectionState state);

    [LoggerMessage(5403, LogLevel.Warning, "The loader of a {Type} key failed ({Exception}); a stale value is served (fail-safe)")]
    public static partial void ServedStale(ILogger logger, string type, string exception);
}
