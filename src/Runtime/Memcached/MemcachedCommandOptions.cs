namespace TypedCache.Memcached;

/// <summary>
/// Per-call settings of a meta get (<c>mg</c>). The default reads the value, client flags, CAS and remaining TTL of a text key.
/// </summary>
/// <remarks>
/// TTLs are memcached expiration times in seconds: 0 never expires, 1 to 2,592,000 (30 days) is relative, a larger
/// number is an absolute Unix time, and a negative one expires the item at once.
/// </remarks>
public readonly record struct MemcachedGetOptions
{
    /// <summary>Read only the metadata (<c>HD</c> instead of <c>VA</c>); <see cref="MemcachedGetResult.Value"/> stays empty. Default <see langword="false"/>.</summary>
    public bool MetadataOnly { get; init; }

    /// <summary>
    /// Vivify on miss (<c>N</c>): a miss creates an empty stub with this TTL and hands this caller the lease
    /// (<see cref="MemcachedGetResult.Won"/>); later readers see <see cref="MemcachedGetResult.LeaseTaken"/>. Default none.
    /// </summary>
    public int? VivifyOnMissTtl { get; init; }

    /// <summary>Early recache (<c>R</c>): when the remaining TTL is below this many seconds, one caller wins the lease. Default none.</summary>
    public int? RecacheBelowTtl { get; init; }

    /// <summary>Touch (<c>T</c>): on a hit, set this new TTL. Default none.</summary>
    public int? TouchTtl { get; init; }

    /// <summary>Do not bump the item in the LRU nor mark it fetched (<c>u</c>). Default <see langword="false"/>.</summary>
    public bool NoLruBump { get; init; }

    /// <summary>Ask for the value size (<c>s</c>) in <see cref="MemcachedGetResult.Size"/>. Default <see langword="false"/>.</summary>
    public bool ReturnSize { get; init; }

    /// <summary>Ask the server to echo the key (<c>k</c>) into <see cref="MemcachedGetResult.Key"/>. Default <see langword="false"/>.</summary>
    public bool ReturnKey { get; init; }

    /// <summary>The key is arbitrary bytes, sent base64-encoded with the <c>b</c> flag (at most 186 raw bytes, so that the base64 form fits in 250). Default <see langword="false"/>.</summary>
    public bool BinaryKey { get; init; }
}

/// <summary>How a meta set (<c>ms</c>) stores its value (the <c>M</c> flag).</summary>
public enum MemcachedStoreMode
{
    /// <summary>Store unconditionally (<c>MS</c>, the default).</summary>
    Set,
    /// <summary>Store only if the key is missing (<c>ME</c>); otherwise <see cref="MemcachedStatus.NotStored"/>.</summary>
    Add,
    /// <summary>Store only if the key exists (<c>MR</c>); otherwise <see cref="MemcachedStatus.NotStored"/>.</summary>
    Replace,
    /// <summary>Append to the existing value (<c>MA</c>); a missing key gives <see cref="MemcachedStatus.NotStored"/>.</summary>
    Append,
    /// <summary>Prepend to the existing value (<c>MP</c>); a missing key gives <see cref="MemcachedStatus.NotStored"/>.</summary>
    Prepend,
}

/// <summary>Per-call settings of a meta set (<c>ms</c>). The default stores a text key with no expiry and client flags 0.</summary>
public readonly record struct MemcachedStoreOptions
{
    /// <summary>The store mode (<c>M</c>). Default <see cref="MemcachedStoreMode.Set"/>.</summary>
    public MemcachedStoreMode Mode { get; init; }

    /// <summary>TTL in seconds (<c>T</c>), as memcached reads it. Default 0: never expires.</summary>
    public int Ttl { get; init; }

    /// <summary>The opaque 32-bit client flags stored with the item (<c>F</c>). Default 0.</summary>
    public uint ClientFlags { get; init; }

    /// <summary>
    /// Store only if the item's CAS still equals this (<c>C</c>): a mismatch gives <see cref="MemcachedStatus.Exists"/>,
    /// a missing item <see cref="MemcachedStatus.NotFound"/>. Default none.
    /// </summary>
    public ulong? CompareCas { get; init; }

    /// <summary>
    /// Invalidate mode (<c>I</c>), with <see cref="CompareCas"/>: a CAS older than the item's still stores, but the item
    /// stays stale. Default <see langword="false"/>.
    /// </summary>
    public bool Invalidate { get; init; }

    /// <summary>Ask for the new CAS (<c>c</c>) in <see cref="MemcachedStoreResult.Cas"/>. Default <see langword="false"/>.</summary>
    public bool ReturnCas { get; init; }

    /// <summary>The key is arbitrary bytes, sent base64-encoded with the <c>b</c> flag. Default <see langword="false"/>.</summary>
    public bool BinaryKey { get; init; }
}

/// <summary>Per-call settings of a meta delete (<c>md</c>). The default deletes a text key unconditionally.</summary>
public readonly record struct MemcachedDeleteOptions
{
    /// <summary>
    /// Invalidate instead of delete (<c>I</c>): the item is marked stale, gets a new CAS, and the next reader wins the
    /// lease. Default <see langword="false"/>.
    /// </summary>
    public bool Invalidate { get; init; }

    /// <summary>With <see cref="Invalidate"/>: the new TTL in seconds (<c>T</c>), bounding how long stale data is served. Default none.</summary>
    public int? Ttl { get; init; }

    /// <summary>Delete (or invalidate) only if the CAS matches (<c>C</c>); otherwise <see cref="MemcachedStatus.Exists"/>. Default none.</summary>
    public ulong? CompareCas { get; init; }

    /// <summary>The key is arbitrary bytes, sent base64-encoded with the <c>b</c> flag. Default <see langword="false"/>.</summary>
    public bool BinaryKey { get; init; }
}

/// <summary>Per-call settings of a meta arithmetic (<c>ma</c>). The default changes an existing counter by the given delta.</summary>
public readonly record struct MemcachedArithmeticOptions
{
    /// <summary>Auto-create a missing counter with this TTL (<c>N</c>), seeded with <see cref="InitialValue"/>. Default none: a miss is <see cref="MemcachedStatus.NotFound"/>.</summary>
    public int? AutoCreateTtl { get; init; }

    /// <summary>The value an auto-created counter starts at (<c>J</c>). Default 0.</summary>
    public ulong InitialValue { get; init; }

    /// <summary>On success, set this TTL in seconds (<c>T</c>). Default none.</summary>
    public int? Ttl { get; init; }

    /// <summary>Change the counter only if its CAS matches (<c>C</c>). Default none.</summary>
    public ulong? CompareCas { get; init; }

    /// <summary>The key is arbitrary bytes, sent base64-encoded with the <c>b</c> flag. Default <see langword="false"/>.</summary>
    public bool BinaryKey { get; init; }
}
