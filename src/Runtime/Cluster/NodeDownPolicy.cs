namespace TypedCache.Cluster;

/// <summary>
/// What the keys of a memcached node do while the node is down (after consecutive failures or timeouts, until a
/// background probe finds it answering again). Whatever the policy, no caller sees an exception because a node is down.
/// </summary>
public enum NodeDownPolicy
{
    /// <summary>
    /// The node's keys miss: reads return a miss marked unavailable, so the caller's loader serves them; writes and
    /// deletes for them are dropped. No other key moves. The default.
    /// </summary>
    Miss = 0,

    /// <summary>
    /// The node is ejected from the ring and its keys rehash to the live nodes, as libmemcached's
    /// <c>REMOVE_FAILED_SERVERS</c> and twemproxy's <c>auto_eject_hosts</c> do. With equal weights only the down
    /// node's keys move; the node gets its keys back when it returns.
    /// </summary>
    Eject = 1,

    /// <summary>
    /// The node's keys go to a separate small pool of gutter servers, with every TTL capped to a short one, as in
    /// "Scaling Memcache at Facebook"; no key of a live node moves.
    /// </summary>
    Gutter = 2,
}
