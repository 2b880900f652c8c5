using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using BitFaster.Caching.Lru;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using TypedCache.Caching.Distributed;
using TypedCache.Coordination;

namespace TypedCache.Caching.MicrosoftCaching;

/// <summary>
/// <see cref="HybridCache"/> on TypedCache's parts: a bounded in-process level (BitFaster's LRU) over the memcached
/// ring (<see cref="MemcachedDistributedCache"/>), with ZooKeeper for tags and for evicting every process's
/// in-process level when a key is set or removed.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="GetOrCreateAsync{TState, T}(string, TState, Func{TState, CancellationToken, ValueTask{T}}, HybridCacheEntryOptions?, IEnumerable{string}?, CancellationToken)"/>
/// calls the factory once per key in the process however many callers miss together; the token it gets is cancelled
/// only when every waiting caller has cancelled.
/// </para>
/// <para>
/// Tags are version counters in ZooKeeper (<c>{root}/versions/tags/{tag}</c>), and <c>"*"</c> is the counter of the
/// cache itself (<c>{root}/versions/types/{prefix}</c>): each entry, in both levels, carries the versions it was
/// written under, and an entry whose versions moved is a miss. <see cref="RemoveByTagAsync(string, CancellationToken)"/>
/// is therefore one counter bump, whatever the number of entries. Without ZooKeeper, tags and key removals reach
/// this process only.
/// </para>
/// <para>
/// A value is shared between callers only when its type is immutable (<see cref="ImmutableType{T}"/>); otherwise each
/// read deserializes its own copy. Keys longer than 1024 characters and values over the payload limit are not cached:
/// the factory's value is returned as is. Tags are non-empty strings of at most 1024 characters once escaped.
/// </para>
/// </remarks>
internal sealed partial class RingHybridCache : HybridCache, IRingListener, IAsyncDisposable, IDisposable
{
    private const int MaximumKeyLength = 1024;
    private const int MaximumTagLength = 1024;
    private const string AllTag = "*";
    private static readonly TimeSpan DefaultExpiration = TimeSpan.FromMinutes(5);

    private readonly TimeProvider _time;
    private readonly string _name;
    private readonly HybridCacheEntryOptions? _defaults;
    private readonly int _maximumPayloadBytes;
    private readonly HybridSerializers _serializers;
    private readonly ConcurrentLru<string, LocalEntry>? _local;
    private readonly ConcurrentDictionary<string, StrongBox<long>> _tagVersions = new(StringComparer.Ordinal);
    private readonly StrongBox<long> _allVersion = new();
    private readonly int[] _buckets = new int[BucketCount];
    private readonly ConcurrentDictionary<FlightKey, object> _flights = new();
    private readonly RingConnection _ring;
    private readonly MemcachedDistributedCache _distributed;

    /// <param name="builder">The servers, key prefix and hybrid options.</param>
    /// <param name="time">The clock of expirations.</param>
    /// <param name="services">Where registered serializers are found; null for the defaults only.</param>
    public RingHybridCache(RingCacheOptionsBuilder builder, TimeProvider time, IServiceProvider? services)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(time);
        builder.Validate();
        _time = time;
        _name = builder.KeyPrefix;
        _defaults = builder.DefaultEntryOptions;
        _maximumPayloadBytes = builder.MaximumPayloadBytes;
        _serializers = new HybridSerializers(services);
        var capacity = builder.Settings.Options.LocalCacheMaxEntries;
        _local = capacity == 0 ? null : new ConcurrentLru<string, LocalEntry>(1, Math.Max(capacity, 3), StringComparer.Ordinal);
        _ring = new RingConnection(builder.Settings, time, this);
        _distributed = new MemcachedDistributedCache(_ring, _name, time, ownsRing: false);
    }

    public override ValueTask<T> GetOrCreateAsync<TState, T>(
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(factory);
        var entry = Resolve(options);
        var tagNames = TagNames(tags);
        if (key.Length > MaximumKeyLength)
        {
            return factory(state, cancellationToken);
        }

        var memcachedKey = _distributed.KeyOf(key);
        return TryGetLocal<T>(memcachedKey, entry.Flags, out var value)
            ? new ValueTask<T>(value)
            : JoinFlightAsync(memcachedKey, state, factory, entry, tagNames, cancellationToken);
    }

    public override async ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var entry = Resolve(options);
        var tagNames = TagNames(tags);
        if (key.Length > MaximumKeyLength)
        {
            return;
        }

        var memcachedKey = _distributed.KeyOf(key);
        await _ring.ReadyAsync(cancellationToken).ConfigureAwait(false);
        EvictLocal(memcachedKey);
        await StoreAsync(memcachedKey, value, entry, Capture(tagNames), Bucket(memcachedKey), cancellationToken).ConfigureAwait(false);
        await PublishAsync(memcachedKey, cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var memcachedKey = _distributed.KeyOf(key);
        await _ring.ReadyAsync(cancellationToken).ConfigureAwait(false);
        EvictLocal(memcachedKey);
        await _distributed.DeleteAsync(memcachedKey, cancellationToken).ConfigureAwait(false);
        await PublishAsync(memcachedKey, cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask RemoveAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default)
    {
        if (keys is null)
        {
            return;
        }

        // All at once: the deletes pipeline per node and the invalidations leave as one ZooKeeper event.
        await Task.WhenAll(keys.Select(key => RemoveAsync(key, cancellationToken).AsTask())).ConfigureAwait(false);
    }

    public override async ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        await _ring.ReadyAsync(cancellationToken).ConfigureAwait(false);
        var (kind, name, version) = tag == AllTag
            ? (VersionKind.Type, _name, _allVersion)
            : (VersionKind.Tag, tag, TagVersion(CoordinationRoot.Segment(tag)));
        if (_ring.Bus is { } bus)
        {
            await bus.BumpAsync(kind, name, version, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            Interlocked.Increment(ref version.Value);
        }
    }

    public async ValueTask DisposeAsync() => await _ring.DisposeAsync().ConfigureAwait(false);

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Reads the distributed level (unless disabled), else calls the factory (unless disabled) and stores its value.</summary>
    private async Task<T> LoadAsync<TState, T>(
        string memcachedKey, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, EntrySettings entry, string[] tags, CancellationToken cancellationToken)
    {
        await _ring.ReadyAsync(cancellationToken).ConfigureAwait(false);
        var bucket = Bucket(memcachedKey);
        if ((entry.Flags & HybridCacheEntryFlags.DisableDistributedCacheRead) == 0)
        {
            var bytes = new ArrayBufferWriter<byte>();
            var read = await _distributed.ReadAsync(memcachedKey, bytes, cancellationToken).ConfigureAwait(false);
            if (read.Found && HybridEntry.TryParse(bytes.WrittenSpan, out var header) == HybridEntryParseResult.Ok)
            {
                var stamp = new TagStamp(header.All, header.Tags, [.. header.Tags.Select(TagVersion)], header.Versions);
                if (stamp.IsCurrent(_allVersion))
                {
                    var payload = bytes.WrittenMemory[header.PayloadOffset..];
                    var value = _serializers.Get<T>().Deserialize(new ReadOnlySequence<byte>(payload));
                    PutLocal(memcachedKey, payload, value, stamp, entry, read.ExpiresAtMs, bucket);
                    return value;
                }
            }
        }

        if ((entry.Flags & HybridCacheEntryFlags.DisableUnderlyingData) != 0)
        {
            return default!;
        }

        var captured = Capture(tags);
        var created = await factory(state, cancellationToken).ConfigureAwait(false);
        await StoreAsync(memcachedKey, created, entry, captured, bucket, cancellationToken).ConfigureAwait(false);
        return created;
    }

    /// <summary>
    /// Writes a value to both levels (as the flags allow) unless it cannot be cached (a raw null, over the payload
    /// limit) or its key was removed since <paramref name="bucket"/> was read.
    /// </summary>
    private async ValueTask StoreAsync<T>(string memcachedKey, T value, EntrySettings entry, TagStamp stamp, BucketVersion bucket, CancellationToken cancellationToken)
    {
        if (value is null && HybridSerializers.IsRaw<T>())
        {
            return;
        }

        var bytes = new ArrayBufferWriter<byte>();
        var headerLength = HybridEntry.WriteHeader(bytes, stamp);
        _serializers.Get<T>().Serialize(value, bytes);
        var payload = bytes.WrittenMemory[headerLength..];
        if (payload.Length > _maximumPayloadBytes || !bucket.IsCurrent(_buckets))
        {
            return;
        }

        var expiresAt = _time.GetUtcNow().ToUnixTimeMilliseconds() + (long)entry.Expiration.TotalMilliseconds;
        if ((entry.Flags & HybridCacheEntryFlags.DisableDistributedCacheWrite) == 0)
        {
            try
            {
                var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = entry.Expiration };
                await _distributed.WriteAsync(memcachedKey, new ReadOnlySequence<byte>(bytes.WrittenMemory), options, cancellationToken).ConfigureAwait(false);
            }
            catch (ArgumentException exception) when (exception.ParamName == "value")
            {
                // Bigger than a memcached item: this process keeps it, the others call their factory.
            }
        }

        PutLocal(memcachedKey, payload, value, stamp, entry, expiresAt, bucket);
    }

    private async ValueTask PublishAsync(string memcachedKey, CancellationToken cancellationToken)
    {
        if (_ring.Bus is { } bus)
        {
            await bus.PublishKeyAsync(_name, memcachedKey, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The most granular non-null value of each option: the call's, the cache's defaults, then 5 minutes and no flags.</summary>
    private EntrySettings Resolve(HybridCacheEntryOptions? options)
    {
        var expiration = options?.Expiration ?? _defaults?.Expiration ?? DefaultExpiration;
        var local = options?.LocalCacheExpiration ?? _defaults?.LocalCacheExpiration ?? expiration;
        if (expiration <= TimeSpan.Zero || local <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "An entry's Expiration and LocalCacheExpiration must be positive.");
        }

        return new EntrySettings(expiration, local < expiration ? local : expiration, options?.Flags ?? _defaults?.Flags ?? HybridCacheEntryFlags.None);
    }

    /// <summary>The tags of an entry as path segments, without repeats.</summary>
    /// <exception cref="ArgumentException">A tag is null, empty or <c>"*"</c> (which only removes).</exception>
    private static string[] TagNames(IEnumerable<string>? tags)
    {
        if (tags is null)
        {
            return [];
        }

        var names = new List<string>();
        foreach (var tag in tags)
        {
            ArgumentException.ThrowIfNullOrEmpty(tag, nameof(tags));
            if (tag == AllTag)
            {
                throw new ArgumentException("The tag \"*\" is reserved: RemoveByTagAsync(\"*\") removes every entry, so it cannot tag one.", nameof(tags));
            }

            var name = CoordinationRoot.Segment(tag);
            if (name.Length > MaximumTagLength)
            {
                throw new ArgumentException($"A tag is at most {MaximumTagLength} characters once escaped for ZooKeeper; one has {name.Length}.", nameof(tags));
            }

            if (!names.Contains(name))
            {
                names.Add(name);
            }
        }

        return names.Count <= ushort.MaxValue ? [.. names] : throw new ArgumentException($"An entry has at most {ushort.MaxValue} tags.", nameof(tags));
    }

    /// <summary>An entry's options, resolved.</summary>
    private readonly record struct EntrySettings(TimeSpan Expiration, TimeSpan LocalExpiration, HybridCacheEntryFlags Flags);
}
