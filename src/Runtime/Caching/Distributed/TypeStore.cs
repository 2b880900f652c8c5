using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using BitFaster.Caching.Lru;
using MessagePack;

namespace TypedCache.Caching.Distributed;

/// <summary>What the engine needs of a type store without knowing its generic arguments: remote key invalidation.</summary>
internal interface ITypeStore
{
    /// <summary>Drops the in-process entry (and any load in flight) of the key whose parts are <paramref name="keyParts"/>.</summary>
    void InvalidateLocal(ReadOnlySpan<byte> keyParts);
}

/// <summary>
/// The versions an entry or a load was stamped with: the type's and its tags', the engine's epoch (moved when
/// invalidation events were missed) and the key's bucket counter (moved when any key of the bucket is invalidated).
/// </summary>
internal readonly record struct Stamp(long TypeVersion, long[] TagVersions, long Epoch, int Bucket, int BucketVersion);

/// <summary>How far the owner of a <see cref="KeyFlight{T}"/> has got, as a caller that joins it sees it.</summary>
internal enum FlightStage
{
    /// <summary>The L2 read is not sent yet: every outcome comes from memcached's state after the caller began.</summary>
    Starting,

    /// <summary>The L2 read is sent: only an outcome confirmed by a later conditional write binds the caller.</summary>
    Reading,

    /// <summary>The confirming write is sent too: nothing the flight learns any more is known to be after the caller began.</summary>
    Storing,
}

/// <summary>
/// A read-through in flight for one key, with the version of the key's bucket when it started. Its outcome binds a
/// caller that joined after its L2 read was sent only when memcached confirmed it, with a conditional write sent after
/// the caller joined: that read may have been answered before an invalidation that returned before the caller began,
/// in another process whose event has not arrived yet.
/// </summary>
/// <remarks>
/// A caller the outcome does not bind joins the key's next flight: the finished one has left
/// <see cref="TypeStore{T, TKey}.Flights"/> by then, so the next began after the caller joined, and binds it.
/// </remarks>
internal sealed class KeyFlight<T>(int bucketVersion) : Flight<T>
    where T : class
{
    private int _stage;
    private volatile bool _confirmed;
    private volatile bool _abandoned;

    public int BucketVersion { get; } = bucketVersion;

    /// <summary>How far the owner has got; a caller that joins reads it once it holds the flight.</summary>
    public FlightStage Stage => (FlightStage)Volatile.Read(ref _stage);

    /// <summary>Moves the flight to <paramref name="stage"/>; call just before sending the read or write it names.</summary>
    public void Enter(FlightStage stage) => Interlocked.Exchange(ref _stage, (int)stage);

    /// <summary>Whether a caller that joined at <paramref name="joined"/> may take the outcome.</summary>
    public bool Binds(FlightStage joined) => joined == FlightStage.Starting || (joined == FlightStage.Reading && _confirmed);

    /// <summary>
    /// Whether the flight ended with the cancellation of the caller running it (not with a loader's own failure, even a
    /// cancellation the loader raised itself): the callers that joined go on to the key's next flight instead.
    /// </summary>
    public bool Abandoned => _abandoned;

    /// <summary>
    /// Ends the flight with <paramref name="error"/>, <see cref="Abandoned"/> when it is the cancellation of
    /// <paramref name="ownerToken"/>; see <see cref="Flight{T}.Fail{TKey, TFlight}"/>.
    /// </summary>
    public void Fail<TKey>(ConcurrentDictionary<TKey, KeyFlight<T>> flights, TKey key, Exception error, CancellationToken ownerToken)
        where TKey : notnull
    {
        _abandoned = error is OperationCanceledException && ownerToken.IsCancellationRequested;
        Fail(flights, key, error);
    }

    /// <summary>Ends the flight with <paramref name="outcome"/>; see <see cref="Flight{T}.Complete{TKey, TFlight}"/>.</summary>
    public void Complete<TKey>(ConcurrentDictionary<TKey, KeyFlight<T>> flights, TKey key, in Resolved<T> outcome)
        where TKey : notnull
    {
        _confirmed = outcome.Confirmed;
        Complete(flights, key, outcome.Value);
    }
}

/// <summary>How many key buckets a type store keeps (see <see cref="TypeStore{T, TKey}"/>).</summary>
internal static class KeyBuckets
{
    private const int Min = 4096;
    private const int Max = 1 << 20;

    /// <summary>The buckets for an L1 of <paramref name="localCapacity"/> entries: four per entry, rounded up to a power of two, within 4,096 and 2^20.</summary>
    public static int For(int localCapacity) =>
        (int)Math.Clamp(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Min(localCapacity, Max) * 4), Min, Max);
}

/// <summary>A read-through's value, and whether it was confirmed current in L2 (see <see cref="KeyFlight{T}.Binds"/>).</summary>
internal readonly record struct Resolved<T>(T? Value, bool Confirmed)
    where T : class
{
    /// <summary>A value taken from a read or served stale: not confirmed.</summary>
    public static Resolved<T> Read(T? value) => new(value, false);
}

/// <summary>An in-process entry: the shared value, the stamp it was stored under, and when it leaves L1.</summary>
internal sealed class LocalEntry<T>(T value, in Stamp stamp, long localExpiryMs, long logicalExpiryMs)
    where T : class
{
    public T Value { get; } = value;

    public Stamp Stamp { get; } = stamp;

    public long LocalExpiryMs { get; } = localExpiryMs;

    public long LogicalExpiryMs { get; } = logicalExpiryMs;
}

/// <summary>
/// Everything the engine holds for one cached type: its L1 (a bounded LRU keyed by the key struct), its loads in
/// flight, its version boxes and its key buckets.
/// </summary>
/// <remarks>
/// Key invalidations from other processes arrive as text; rather than index L1 by text, each key hashes to one of
/// a power of two of counters, at least four per L1 entry (<see cref="KeyBuckets.For"/>), an entry remembers its bucket's
/// counter, and an invalidation moves the counter: every entry of that bucket becomes a miss (on average a quarter of
/// an entry besides the key, one extra L2 read) and a load in flight does not store its result.
/// </remarks>
internal sealed class TypeStore<T, TKey> : ITypeStore
    where T : class
    where TKey : struct, ICacheKey<TKey>
{
    private const int StackLimit = 512;

    private readonly StrongBox<long> _typeVersion;
    private readonly StrongBox<long>[] _tagVersions;
    private readonly StrongBox<long> _epoch;
    private readonly int[] _buckets;
    private readonly string _prefix;
    private VersionedHead _head;

    public TypeStore(CacheTypeDescriptor<T, TKey> type, string prefix, int localCapacity, StrongBox<long> typeVersion, StrongBox<long>[] tagVersions, StrongBox<long> epoch)
    {
        Type = type;
        Flags = CacheEnvelope.Flags(type.SchemaHash);
        _prefix = prefix;
        _typeVersion = typeVersion;
        _tagVersions = tagVersions;
        _epoch = epoch;
        Local = localCapacity == 0 ? null : new ConcurrentLru<TKey, LocalEntry<T>>(Math.Max(localCapacity, 3));
        _buckets = new int[KeyBuckets.For(localCapacity)];
        _head = new VersionedHead(-1, []);
    }

    public CacheTypeDescriptor<T, TKey> Type { get; }

    /// <summary>The client flags this type's entries are stored under: its schema hash and encoding (<see cref="CacheEnvelope.Flags"/>).</summary>
    public uint Flags { get; }

    public ConcurrentLru<TKey, LocalEntry<T>>? Local { get; }

    /// <summary>The loads in flight, one per key; see <see cref="JoinFlight"/>.</summary>
    public ConcurrentDictionary<TKey, KeyFlight<T>> Flights { get; } = new();

    public long TypeVersion => Volatile.Read(ref _typeVersion.Value);

    /// <summary>The L1 value of <paramref name="key"/> when its stamp is current and it has not expired.</summary>
    public bool TryGetLocal(in TKey key, long nowMs, out T? value)
    {
        if (Local is { } local && local.TryGet(key, out var entry))
        {
            if (entry.LocalExpiryMs > nowMs && IsCurrent(entry.Stamp))
            {
                value = entry.Value;
                return true;
            }

            local.TryRemove(key);
        }

        value = null;
        return false;
    }

    /// <summary>Stores an L1 entry unless its stamp is already out of date (invalidated while it loaded).</summary>
    public void PutLocal(in TKey key, T value, Stamp stamp, long localExpiryMs, long logicalExpiryMs)
    {
        if (Local is { } local && IsCurrent(stamp))
        {
            local.AddOrUpdate(key, new LocalEntry<T>(value, stamp, localExpiryMs, logicalExpiryMs));
            if (!IsCurrent(stamp))
            {
                local.TryRemove(key);
            }
        }
    }

    /// <summary>The stamp for a load of <paramref name="key"/> starting now.</summary>
    public Stamp Capture(in TKey key)
    {
        var bucket = BucketOf(key);
        var tags = _tagVersions.Length == 0 ? [] : new long[_tagVersions.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            tags[i] = Volatile.Read(ref _tagVersions[i].Value);
        }

        return new Stamp(TypeVersion, tags, Volatile.Read(ref _epoch.Value), bucket, Volatile.Read(ref _buckets[bucket]));
    }

    /// <summary>Whether an envelope's tag versions are the current ones.</summary>
    public bool TagsCurrent(ReadOnlySpan<byte> envelope, int tagCount)
    {
        if (tagCount != _tagVersions.Length)
        {
            return false;
        }

        for (var i = 0; i < tagCount; i++)
        {
            if (CacheEnvelope.TagVersion(envelope, i) != Volatile.Read(ref _tagVersions[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The load in flight for <paramref name="key"/> to join, or a new one that <paramref name="owner"/> says the
    /// caller must run. A flight that started before the key's bucket moved (the key was invalidated or set, here or
    /// in another process) is detached: only the callers that joined it before get its outcome.
    /// </summary>
    public KeyFlight<T> JoinFlight(in TKey key, out bool owner)
    {
        var bucket = BucketOf(key);
        while (true)
        {
            var version = Volatile.Read(ref _buckets[bucket]);
            if (Flights.TryGetValue(key, out var current) && current.BucketVersion == version)
            {
                owner = false;
                return current;
            }

            var fresh = new KeyFlight<T>(version);
            if (current is null ? Flights.TryAdd(key, fresh) : Flights.TryUpdate(key, fresh, current))
            {
                owner = true;
                return fresh;
            }
        }
    }

    /// <summary>Moves the key's bucket: its L1 entry and loads in flight no longer count.</summary>
    public void InvalidateLocal(in TKey key)
    {
        Interlocked.Increment(ref _buckets[BucketOf(key)]);
        Local?.TryRemove(key);
    }

    public void InvalidateLocal(ReadOnlySpan<byte> keyParts) => Interlocked.Increment(ref _buckets[Bucket(keyParts)]);

    /// <summary>The memcached key of <paramref name="key"/> under the type's current version.</summary>
    public byte[] MemcachedKey(in TKey key) => MemcachedKey(KeyHead(), key);

    /// <summary>The memcached key of <paramref name="key"/> under <paramref name="head"/> (<see cref="KeyHead"/> as it was).</summary>
    public byte[] MemcachedKey(byte[] head, in TKey key)
    {
        Span<byte> buffer = stackalloc byte[CacheKeys.MaxLength];
        var length = CacheKeys.Write(buffer, head, key);
        return buffer[..length].ToArray();
    }

    /// <summary>The key's parts as text, as they travel in invalidation events and lock paths.</summary>
    public static string PartsText(in TKey key)
    {
        var max = key.MaxPartsLength;
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            return System.Text.Encoding.ASCII.GetString(buffer[..key.WriteParts(buffer)]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Serializes an envelope holding <paramref name="value"/>.</summary>
    public byte[] Encode(T value, Stamp stamp, long logicalExpiryMs)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        CacheEnvelope.WriteHeader(buffer, logicalExpiryMs, stamp.TagVersions);
        var writer = new MessagePackWriter(buffer);
        Type.Formatter.Serialize(ref writer, value, MessagePackSerializerOptions.Standard);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads an envelope's payload; false (never an exception) when the payload is corrupt.</summary>
    public bool TryDecode(ReadOnlyMemory<byte> payload, out T? value)
    {
        try
        {
            var reader = new MessagePackReader(payload);
            value = Type.Formatter.Deserialize(ref reader, MessagePackSerializerOptions.Standard);
            return value is not null && reader.End;
        }
        catch (MessagePackSerializationException)
        {
            value = null;
            return false;
        }
        catch (EndOfStreamException)
        {
            value = null;
            return false;
        }
    }

    private bool IsCurrent(Stamp stamp)
    {
        if (stamp.TypeVersion != Volatile.Read(ref _typeVersion.Value) ||
            stamp.Epoch != Volatile.Read(ref _epoch.Value) ||
            stamp.BucketVersion != Volatile.Read(ref _buckets[stamp.Bucket]))
        {
            return false;
        }

        for (var i = 0; i < _tagVersions.Length; i++)
        {
            if (stamp.TagVersions[i] != Volatile.Read(ref _tagVersions[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The start of every memcached key of the type under its current version: <c>{prefix}:{Type}:{version}:</c>.</summary>
    public byte[] KeyHead()
    {
        var version = TypeVersion;
        var head = Volatile.Read(ref _head);
        if (head.Version != version)
        {
            head = new VersionedHead(version, CacheKeys.Head(_prefix, Type, version));
            Volatile.Write(ref _head, head);
        }

        return head.Bytes;
    }

    private int BucketOf(in TKey key)
    {
        var max = key.MaxPartsLength;
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            return Bucket(buffer[..key.WriteParts(buffer)]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>FNV-1a of the key's parts, folded onto the buckets.</summary>
    private int Bucket(ReadOnlySpan<byte> parts)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in parts)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return (int)((hash ^ (hash >> 32)) & (uint)(_buckets.Length - 1));
    }

    private sealed record VersionedHead(long Version, byte[] Bytes);
}
