namespace TypedCache.Coordination;

/// <summary>A distributed lock was not acquired within the caller's timeout; the attempt left no node behind.</summary>
public sealed class LockTimeoutException : TimeoutException
{
    /// <summary>Creates the exception for <paramref name="lockPath"/>.</summary>
    /// <param name="lockPath">The lock's directory in ZooKeeper.</param>
    /// <param name="timeout">How long the caller waited.</param>
    public LockTimeoutException(string lockPath, TimeSpan timeout)
        : base($"The lock '{lockPath}' was not acquired within {timeout.TotalSeconds:0.###} s: another holder kept it.")
    {
        LockPath = lockPath;
        Timeout = timeout;
    }

    /// <summary>The lock's directory in ZooKeeper.</summary>
    public string LockPath { get; }

    /// <summary>How long the caller waited.</summary>
    public TimeSpan Timeout { get; }
}
