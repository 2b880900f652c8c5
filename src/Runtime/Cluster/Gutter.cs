namespace TypedCache.Cluster;

/// <summary>The TTL cap of the gutter pool (<see cref="NodeDownPolicy.Gutter"/>), shared by the cluster client and the proxy.</summary>
internal static class Gutter
{
    /// <summary>
    /// <paramref name="seconds"/> capped to <paramref name="cap"/>: never-expiring (0) and longer TTLs (including
    /// memcached's absolute times) become the cap; expiring-now (negative) and shorter TTLs stay.
    /// </summary>
    public static long CapTtl(long seconds, int cap) => seconds < 0 ? seconds : seconds == 0 || seconds > cap ? cap : seconds;

    /// <summary>Checks the gutter settings shared by the cluster client's and the proxy's options.</summary>
    /// <exception cref="ArgumentException">The Gutter policy has no gutter server, or the TTL cap is below 1 second.</exception>
    public static void Validate(NodeDownPolicy policy, IReadOnlyList<RingNode> nodes, int ttlSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ttlSeconds, 1, "GutterTtlSeconds");
        ArgumentNullException.ThrowIfNull(nodes, "GutterNodes");
        if (policy == NodeDownPolicy.Gutter && nodes.Count == 0)
            throw new ArgumentException("The Gutter node-down policy needs at least one gutter server in GutterNodes.", "GutterNodes");
    }
}
