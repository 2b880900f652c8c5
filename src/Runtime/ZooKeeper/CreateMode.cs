namespace TypedCache.ZooKeeper;

/// <summary>How a znode is created: its lifetime and whether the server appends a sequence number.</summary>
public enum CreateMode
{
    /// <summary>Stays until deleted.</summary>
    Persistent = 0,

    /// <summary>Deleted when the creating session ends; cannot have children.</summary>
    Ephemeral = 1,

    /// <summary>Persistent, with the parent's 10-digit child counter appended to the name.</summary>
    PersistentSequential = 2,

    /// <summary>Ephemeral, with the parent's 10-digit child counter appended to the name.</summary>
    EphemeralSequential = 3,

    /// <summary>Deleted by the server some time after its last child is deleted.</summary>
    Container = 4,

    /// <summary>Persistent, deleted once it is unmodified for the TTL and has no children (server needs extended types).</summary>
    PersistentWithTtl = 5,

    /// <summary>Persistent sequential with a TTL (server needs extended types).</summary>
    PersistentSequentialWithTtl = 6,
}

/// <summary>The kind of a persistent watch added with <see cref="ZooKeeperClient.AddWatchAsync"/>.</summary>
public enum AddWatchMode
{
    /// <summary>Events for the node itself (created, deleted, data changed) and child changes; stays armed.</summary>
    Persistent = 0,

    /// <summary>Created, deleted and data-changed events for the node and every descendant; never child events.</summary>
    PersistentRecursive = 1,
}

/// <summary>Which watches <see cref="ZooKeeperClient.RemoveWatchesAsync"/> removes.</summary>
public enum WatcherType
{
    /// <summary>Child watches.</summary>
    Children = 1,

    /// <summary>Data and exists watches.</summary>
    Data = 2,

    /// <summary>Every watch on the path, persistent ones included.</summary>
    Any = 3,
}
