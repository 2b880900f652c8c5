namespace TypedCache.ZooKeeper;

/// <summary>The metadata ZooKeeper keeps for every znode (jute record <c>Stat</c>).</summary>
/// <param name="Czxid">The zxid of the change that created the node.</param>
/// <param name="Mzxid">The zxid of the change that last modified the node's data.</param>
/// <param name="Ctime">Server wall-clock time of creation, in milliseconds since the Unix epoch.</param>
/// <param name="Mtime">Server wall-clock time of the last data change, in milliseconds since the Unix epoch.</param>
/// <param name="Version">The number of data changes; the expected version in setData, delete and check.</param>
/// <param name="Cversion">The number of child changes (creates and deletes).</param>
/// <param name="Aversion">The number of ACL changes; the expected version in setACL.</param>
/// <param name="EphemeralOwner">The owning session id for an ephemeral node, otherwise 0.</param>
/// <param name="DataLength">The length of the node's data in bytes.</param>
/// <param name="NumChildren">The number of children.</param>
/// <param name="Pzxid">The zxid of the last child change.</param>
public readonly record struct Stat(
    long Czxid,
    long Mzxid,
    long Ctime,
    long Mtime,
    int Version,
    int Cversion,
    int Aversion,
    long EphemeralOwner,
    int DataLength,
    int NumChildren,
    long Pzxid);

/// <summary>A node's data and its <see cref="Stat"/>, as returned by a read.</summary>
/// <param name="Data">The data; a node created with no data reads as an empty array.</param>
/// <param name="Stat">The node's metadata at the time of the read.</param>
public sealed record NodeData(byte[] Data, Stat Stat);

/// <summary>A node's children (bare names, in the server's order, which is not sorted) and its <see cref="Stat"/>.</summary>
/// <param name="Children">The children's names, without the parent path.</param>
/// <param name="Stat">The parent node's metadata at the time of the read.</param>
public sealed record NodeChildren(IReadOnlyList<string> Children, Stat Stat);

/// <summary>The created node's path (relative to the chroot) and its Stat.</summary>
/// <param name="Path">The created path, with the sequence suffix for sequential modes.</param>
/// <param name="Stat">The node's metadata right after creation.</param>
public sealed record CreatedNode(string Path, Stat Stat);

/// <summary>A node's ACL and its <see cref="Stat"/>.</summary>
/// <param name="Acl">The access-control entries.</param>
/// <param name="Stat">The node's metadata; <see cref="Stat.Aversion"/> is the version setACL expects.</param>
public sealed record NodeAcl(IReadOnlyList<Acl> Acl, Stat Stat);

/// <summary>The result of a read that also armed a one-shot watch.</summary>
/// <typeparam name="T">The read's result.</typeparam>
/// <param name="Value">What the read returned.</param>
/// <param name="Watch">
/// Completes with the first event for the watched node. It survives reconnects within the session; it faults
/// with <see cref="SessionExpiredException"/> when the session expires and is cancelled when the client is disposed.
/// </param>
public sealed record WatchedResult<T>(T Value, Task<WatchedEvent> Watch);
