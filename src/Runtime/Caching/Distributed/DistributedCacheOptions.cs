namespace TypedCache;

/// <summary>
/// How the memcached + ZooKeeper engine behaves: its in-process level, leases, fail-safe and timeouts. Every
/// property has a documented default; set them through <c>UseMemcached(nodes, configure)</c>.
/// </summary>
public sealed class DistributedCacheOptions
{
    /// <summary>The most entries the in-process level (L1) holds per cached type. Default 10,000; 0 turns L1 off.</summary>
    public int LocalCacheMaxEntries { get; set; } = 10_000;

    /// <summary>
    /// How long a value stays usable after its TTL when its loader fails (fail-safe) or is slow (soft timeout).
    /// memcached keeps each item for TTL + this. Default 10 minutes; zero turns fail-safe off.
    /// </summary>
    public TimeSpan FailSafeMaxAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// After the loader failed and a stale value was served, how long that value is served before the loader is tried
    /// again; likewise after an eager refresh failed, how long before another reader may refresh. Default 30 s.
    /// </summary>
    public TimeSpan FailSafeThrottle { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// With a stale value at hand, how long a caller waits for the loader before it gets the stale value; the load
    /// finishes in the background and stores its result. Default: infinite (off).
    /// </summary>
    public TimeSpan SoftTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// How long a caller waits for the loader at most; past it the caller gets the stale value if there is one, or a
    /// <see cref="TimeoutException"/>. The load still finishes in the background. Default: infinite (off).
    /// </summary>
    public TimeSpan HardTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// A hit on a value older than this fraction of its TTL refreshes it in the background (one client in the cluster
    /// wins the refresh; when its loader fails, another may try after <see cref="FailSafeThrottle"/>). Default: null
    /// (off); e.g. 0.9.
    /// </summary>
    public double? EagerRefreshThreshold { get; set; }

    /// <summary>How long a lease (the right to load a missing key, cluster-wide) lasts in memcached. Default 10 s.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a caller that lost the lease waits for the winner's value before calling the loader itself. Default 3 s.</summary>
    public TimeSpan LeaseWait { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How many invalidations wait while ZooKeeper is unreachable; beyond it the oldest key batches are merged. Default 10,000.</summary>
    public int InvalidationQueueCapacity { get; set; } = 10_000;

    /// <summary>
    /// Whether <c>InvalidateAsync</c> and <c>SetAsync</c> wait until ZooKeeper has the invalidation event. Default
    /// false: they return once this process's L1 and memcached (L2) have the change and the event is queued; one
    /// sender per process writes the queue to ZooKeeper in order, and other processes drop the key from their L1
    /// within the propagation time. Disposing the context first sends what is queued (at most
    /// <see cref="InvalidationSendTimeout"/>). A process that crashes right after the call returns can lose an event not yet
    /// sent: other processes may then serve the old value from their L1 until its local TTL ends, never from L2.
    /// When true, the call returns when ZooKeeper has the event (at most <see cref="InvalidationSendTimeout"/>), so a
    /// crash after it returns loses nothing. Either way, while ZooKeeper is unreachable the event is queued and the
    /// call returns at once.
    /// </summary>
    /// <remarks>
    /// <c>InvalidateAllAsync</c> and <c>InvalidateTagAsync</c> bump a version kept in ZooKeeper: while ZooKeeper is
    /// connected they always wait until it has the new version (at most <see cref="InvalidationSendTimeout"/>); while
    /// it is away the version moves in this process at once and the bump is queued and sent when ZooKeeper returns.
    /// </remarks>
    public bool AwaitInvalidationBroadcast { get; set; }

    /// <summary>How long a call that waits for ZooKeeper to take an invalidation (see <see cref="AwaitInvalidationBroadcast"/>) waits before leaving it queued. Default 5 s.</summary>
    public TimeSpan InvalidationSendTimeout { get; set; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(LocalCacheMaxEntries, nameof(LocalCacheMaxEntries));
        ThrowIfNegative(FailSafeMaxAge, nameof(FailSafeMaxAge));
        ThrowIfNegative(FailSafeThrottle, nameof(FailSafeThrottle));
        ThrowIfNotPositiveOrInfinite(SoftTimeout, nameof(SoftTimeout));
        ThrowIfNotPositiveOrInfinite(HardTimeout, nameof(HardTimeout));
        ThrowIfNotPositiveOrInfinite(LeaseTtl, nameof(LeaseTtl));
        ThrowIfNegative(LeaseWait, nameof(LeaseWait));
        ThrowIfNotPositiveOrInfinite(InvalidationSendTimeout, nameof(InvalidationSendTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(InvalidationQueueCapacity, 1, nameof(InvalidationQueueCapacity));
        if (EagerRefreshThreshold is { } threshold && threshold is not (> 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(EagerRefreshThreshold), threshold, "The eager refresh threshold must be between 0 and 1, exclusive.");
        }

        if (LeaseTtl == Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(LeaseTtl), LeaseTtl, "A lease must expire: give it a positive TTL.");
        }
    }

    internal DistributedCacheOptions Clone() => (DistributedCacheOptions)MemberwiseClone();

    private static void ThrowIfNegative(TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative.");
        }
    }

    private static void ThrowIfNotPositiveOrInfinite(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive or infinite.");
        }
    }
}
