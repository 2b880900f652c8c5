namespace TypedCache.Memcached;

/// <summary>Settings of a <see cref="MemcachedClient"/>. Every property has a default that suits a local memcached.</summary>
public sealed class MemcachedClientOptions
{
    /// <summary>
    /// How long a command may wait for its response. When the oldest command in flight exceeds it, the connection is
    /// closed (late bytes would be misread as the next response), every command in flight fails with
    /// <see cref="MemcachedErrorKind.Timeout"/>, and the client reconnects. Default 1 second.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one connection attempt (TCP connect plus an <c>mn</c> round trip) may take. Default 2 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The first pause between reconnection attempts; it doubles after each failure up to <see cref="ReconnectMaxDelay"/>. Default 50 ms.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest pause between reconnection attempts. Default 5 seconds.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The server's item size limit (<c>-I</c>, <c>item_size_max</c> in <c>stats settings</c>). A value that cannot fit
    /// (longer than this minus 59 bytes of item overhead minus the key) is refused before it is sent, because the
    /// server's "too large" path also deletes the key's existing value. Default 1 MiB, memcached's default.
    /// </summary>
    public int MaxItemSizeBytes { get; set; } = 1024 * 1024;

    /// <summary>The clock for timeouts and reconnection delays. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(OperationTimeout, TimeSpan.Zero, nameof(OperationTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReconnectMinDelay, TimeSpan.Zero, nameof(ReconnectMinDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReconnectMaxDelay, ReconnectMinDelay, nameof(ReconnectMaxDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxItemSizeBytes, 1024, nameof(MaxItemSizeBytes));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}
