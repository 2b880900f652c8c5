using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Caching.Hybrid;
using TypedCache.Caching.Distributed;
using TypedCache.Coordination;

namespace TypedCache.Caching.MicrosoftCaching;

// The in-process level: entries, their stamps, and what ZooKeeper says about them.
internal sealed partial class RingHybridCache
{
    private const int BucketCount = 4096;

    public void OnKey(string type, ReadOnlySpan<byte> key)
    {
        if (type == _name)
        {
            EvictLocal(Encoding.ASCII.GetString(key));
        }
    }

    public void OnMissed() => _local?.Clear();

    public void OnVersion(VersionKind kind, string name, long version)
    {
        if (kind == VersionKind.Tag)
        {
            DistributedCacheEngine.RaiseTo(TagVersion(name), version);
        }
        else if (name == CoordinationRoot.Segment(_name))
        {
            DistributedCacheEngine.RaiseTo(_allVersion, version);
        }
    }

    private bool TryGetLocal<T>(string memcachedKey, HybridCacheEntryFlags flags, out T value)
    {
        value = default!;
        if (_local is null || (flags & HybridCacheEntryFlags.DisableLocalCacheRead) != 0 || !_local.TryGet(memcachedKey, out var entry))
        {
            return false;
        }

        if (_time.GetUtcNow().ToUnixTimeMilliseconds() >= entry.ExpiresAtMs || !entry.Stamp.IsCurrent(_allVersion))
        {
            _local.TryRemove(memcachedKey);
            return false;
        }

        value = entry.Value is T shared ? shared : _serializers.Get<T>().Deserialize(new ReadOnlySequence<byte>(entry.Payload));
        return true;
    }

    /// <summary>Keeps a value in process for its local lifetime (never past <paramref name="expiresAtMs"/>) unless its key moved since <paramref name="bucket"/>.</summary>
    private void PutLocal<T>(string memcachedKey, ReadOnlyMemory<byte> payload, T value, TagStamp stamp, EntrySettings entry, long expiresAtMs, BucketVersion bucket)
    {
        if (_local is null || (entry.Flags & HybridCacheEntryFlags.DisableLocalCacheWrite) != 0 || !bucket.IsCurrent(_buckets))
        {
            return;
        }

        var localExpiry = Math.Min(expiresAtMs, _time.GetUtcNow().ToUnixTimeMilliseconds() + (long)entry.LocalExpiration.TotalMilliseconds);
        _local.AddOrUpdate(memcachedKey, new LocalEntry(payload, ImmutableType<T>.Value ? value : null, localExpiry, stamp));
    }

    /// <summary>Drops a key's entry and moves its bucket, so that a load in flight for it does not store what it read before.</summary>
    private void EvictLocal(string memcachedKey)
    {
        Interlocked.Increment(ref _buckets[BucketOf(memcachedKey)]);
        _local?.TryRemove(memcachedKey);
    }

    private BucketVersion Bucket(string memcachedKey)
    {
        var bucket = BucketOf(memcachedKey);
        return new BucketVersion(bucket, Volatile.Read(ref _buckets[bucket]));
    }

    private static int BucketOf(string memcachedKey) => (int)((uint)StringComparer.Ordinal.GetHashCode(memcachedKey) % BucketCount);

    private StrongBox<long> TagVersion(string name) => _tagVersions.GetOrAdd(name, static _ => new StrongBox<long>());

    /// <summary>The versions now of the cache and of <paramref name="tags"/> (path segments).</summary>
    private TagStamp Capture(string[] tags)
    {
        var boxes = new StrongBox<long>[tags.Length];
        var versions = new long[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            boxes[i] = TagVersion(tags[i]);
            versions[i] = Volatile.Read(ref boxes[i].Value);
        }

        return new TagStamp(Volatile.Read(ref _allVersion.Value), tags, boxes, versions);
    }

    /// <summary>An in-process entry: the serialized value, the shared instance when its type is immutable, its expiry and stamp.</summary>
    private sealed class LocalEntry(ReadOnlyMemory<byte> payload, object? value, long expiresAtMs, TagStamp stamp)
    {
        public ReadOnlyMemory<byte> Payload { get; } = payload;

        public object? Value { get; } = value;

        public long ExpiresAtMs { get; } = expiresAtMs;

        public TagStamp Stamp { get; } = stamp;
    }

    /// <summary>A key's bucket and its counter when a load or write began.</summary>
    private readonly record struct BucketVersion(int Bucket, int Version)
    {
        public bool IsCurrent(int[] buckets) => Volatile.Read(ref buckets[Bucket]) == Version;
    }
}
