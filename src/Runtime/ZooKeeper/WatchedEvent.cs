namespace TypedCache.ZooKeeper;

/// <summary>What happened to a watched node.</summary>
public enum WatchEventType
{
    /// <summary>The node was created.</summary>
    NodeCreated = 1,

    /// <summary>The node was deleted.</summary>
    NodeDeleted = 2,

    /// <summary>The node's data changed.</summary>
    NodeDataChanged = 3,

    /// <summary>A child was created or deleted.</summary>
    NodeChildrenChanged = 4,
}

/// <summary>A watch notification.</summary>
/// <param name="Type">What happened.</param>
/// <param name="Path">The node's path, relative to the client's chroot.</param>
public sealed record WatchedEvent(WatchEventType Type, string Path);

/// <summary>The state of a client's connection and session, in the style of Curator's <c>ConnectionState</c>.</summary>
public enum ConnectionState
{
    /// <summary>The first connection of a session is established.</summary>
    Connected,

    /// <summary>
    /// The connection was lost; the client is moving to another server within the session. Treat ephemeral
    /// nodes and locks as possibly lost until <see cref="Reconnected"/>.
    /// </summary>
    Suspended,

    /// <summary>The client reconnected with the same session; ephemerals and watches are intact.</summary>
    Reconnected,

    /// <summary>
    /// The client has been disconnected for the whole negotiated session timeout, so the session has most
    /// likely expired on the servers, even though no server could say so yet.
    /// </summary>
    Lost,

    /// <summary>A server reported the session expired: ephemerals and watches are gone.</summary>
    Expired,

    /// <summary>A server rejected the authentication data; the client stops.</summary>
    AuthFailed,

    /// <summary>The client was closed.</summary>
    Closed,
}
