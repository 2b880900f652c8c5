using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;
using TypedCache.Caching.Distributed;
using TypedCache.Memcached;

namespace TypedCache.Caching.MicrosoftCaching;

/// <summary>
/// <see cref="IBufferDistributedCache"/> (hence <see cref="IDistributedCache"/>) over the memcached ring: each key
/// goes to its node on the ketama ring as <c>{prefix}:{escaped key}</c>, each value in a <see cref="DistributedEntry"/>.
/// </summary>
/// <remarks>
/// <para>
/// Expiration follows <see cref="DistributedCacheEntryOptions"/>: the absolute expiration (the earlier of
/// <see cref="DistributedCacheEntryOptions.AbsoluteExpiration"/> and now + <see cref="DistributedCacheEntryOptions.AbsoluteExpirationRelativeToNow"/>,
/// now by the injected clock) caps the entry; a sliding entry lives for its window after each read or refresh
/// (a <c>touch</c> on the server), never past the cap. memcached's clock ticks once a second, so the server keeps an
/// item up to two seconds longer than asked, never shorter; reads check the absolute cap by the injected clock. A server TTL is at most
/// 30 days (memcached's relative limit): a longer lifetime may end early, never late.
/// </para>
/// <para>
/// A value bigger than an item holds is refused with an <see cref="ArgumentException"/>. A node that is down reads
/// as a miss and drops writes, as a cache may.
/// </para>
/// </remarks>
internal sealed class MemcachedDistributedCache : IBufferDistributedCache, IAsyncDisposable, IDisposable
{
    private const int MaxRelativeTtlSeconds = 30 * 24 * 3600;

    private readonly RingConnection _ring;
    private readonly bool _ownsRing;
    private readonly TimeProvider _time;
    private readonly byte[] _head;

    /// <param name="ring">The ring the entries live on.</param>
    /// <param name="prefix">The first part of every key.</param>
    /// <param name="time">The clock of expirations.</param>
    /// <param name="ownsRing">Whether disposing this cache disposes <paramref name="ring"/>.</param>
    public MemcachedDistributedCache(RingConnection ring, string prefix, TimeProvider time, bool ownsRing)
    {
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(time);
        _head = TextCacheKey.Head(prefix);
        _ring = ring;
        _time = time;
        _ownsRing = ownsRing;
    }

    /// <summary>The memcached key of <paramref name="key"/>.</summary>
    public string KeyOf(string key) => TextCacheKey.MemcachedKey(_head, key);

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        var value = new ArrayBufferWriter<byte>();
        return (await ReadAsync(KeyOf(key), value, token).ConfigureAwait(false)).Found ? value.WrittenSpan.ToArray() : null;
    }

    public bool TryGet(string key, IBufferWriter<byte> destination) => TryGetAsync(key, destination).AsTask().GetAwaiter().GetResult();

    public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return (await ReadAsync(KeyOf(key), destination, token).ConfigureAwait(false)).Found;
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        return WriteAsync(KeyOf(key), new ReadOnlySequence<byte>(value), options, token).AsTask();
    }

    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).AsTask().GetAwaiter().GetResult();

    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        WriteAsync(KeyOf(key), value, options, token);

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public Task RefreshAsync(string key, CancellationToken token = default) => ReadAsync(KeyOf(key), null, token).AsTask();

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public Task RemoveAsync(string key, CancellationToken token = default) => DeleteAsync(KeyOf(key), token).AsTask();

    /// <summary>
    /// Reads the entry under a memcached key into <paramref name="destination"/> (null: only refresh it), extending a
    /// sliding entry's server TTL.
    /// </summary>
    /// <returns>Whether it was found, and until when it lives now (Unix ms, by the injected clock).</returns>
    public async ValueTask<DistributedRead> ReadAsync(string memcachedKey, IBufferWriter<byte>? destination, CancellationToken cancellationToken)
    {
        await _ring.ReadyAsync(cancellationToken).ConfigureAwait(false);
        var reply = await _ring.Cluster.GetAsync(memcachedKey, default, cancellationToken).ConfigureAwait(false);
        using var result = reply.Value;
        if (!result.Found || DistributedEntry.TryParse(result.Value.Span, out var header) != DistributedEntryParseResult.Ok)
        {
            return default;
        }

        var now = NowMs();
        if (now >= header.AbsoluteExpiryMs)
        {
            return default;
        }

        var expiresAt = header.AbsoluteExpiryMs;
        if (header.SlidingMs > 0)
        {
            expiresAt = Math.Min(header.AbsoluteExpiryMs, now + header.SlidingMs);
            var touch = new MemcachedGetOptions { MetadataOnly = true, TouchTtl = TtlSeconds(expiresAt - now) };
            (await _ring.Cluster.GetAsync(memcachedKey, touch, cancellationToken).ConfigureAwait(false)).Value.Dispose();
        }

        destination?.Write(result.Value.Span[DistributedEntry.HeaderLength..]);
        return new DistributedRead(true, expiresAt);
    }

    /// <summary>Stores <paramref name="value"/> under a memcached key with the lifetime <paramref name="options"/> give.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The absolute expiration is not in the future.</exception>
    /// <exception cref="ArgumentException">The value does not fit in a memcached item (parameter <c>value</c>).</exception>
    public async ValueTask WriteAsync(string memcachedKey, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var now = NowMs();
        var absolute = AbsoluteExpiryMs(options, now);
        var sliding = options.SlidingExpiration is { } window ? (long)window.TotalMilliseconds : 0;
        var ttl = sliding > 0 ? TtlSeconds(Math.Min(absolute, now + sliding) - now)
            : absolute == DistributedEntry.NoExpiry ? 0
            : TtlSeconds(absolute - now);
        if (value.Length > Array.MaxLength - DistributedEntry.HeaderLength)
        {
            throw new ArgumentException($"The value is {value.Length} bytes: too big for a memcached item.", nameof(value));
        }

        var length = DistributedEntry.HeaderLength + (int)value.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            DistributedEntry.WriteHeader(buffer, absolute, sliding);
            value.CopyTo(buffer.AsSpan(DistributedEntry.HeaderLength));
            await _ring.ReadyAsync(cancellationToken).ConfigureAwait(false);
            await StoreAsync(memcachedKey, buffer.AsMemory(0, length), new MemcachedStoreOptions { Ttl = ttl }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Deletes the entry under a memcached key.</summary>
    public async ValueTask DeleteAsync(string memcachedKey, CancellationToken cancellationToken)
    {
        await _ring.ReadyAsync(cancellationToken).ConfigureAwait(false);
        await _ring.Cluster.DeleteAsync(memcachedKey, default, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _ownsRing ? _ring.DisposeAsync() : ValueTask.CompletedTask;

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async ValueTask StoreAsync(string memcachedKey, ReadOnlyMemory<byte> entry, MemcachedStoreOptions options, CancellationToken cancellationToken)
    {
        try
        {
            await _ring.Cluster.SetAsync(memcachedKey, entry.Span, options, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException exception) when (exception.ParamName == "value")
        {
            throw new ArgumentException(
                $"The value ({entry.Length - DistributedEntry.HeaderLength} bytes) does not fit in a memcached item: {exception.Message}", "value", exception);
        }
    }

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The earlier of the absolute expiration and now + the relative one; <see cref="DistributedEntry.NoExpiry"/> when neither is set.</summary>
    private static long AbsoluteExpiryMs(DistributedCacheEntryOptions options, long nowMs)
    {
        var absolute = DistributedEntry.NoExpiry;
        if (options.AbsoluteExpiration is { } at)
        {
            absolute = at.ToUnixTimeMilliseconds();
            if (absolute <= nowMs)
            {
                throw new ArgumentOutOfRangeException(nameof(options), at, "The absolute expiration must be in the future.");
            }
        }

        if (options.AbsoluteExpirationRelativeToNow is { } relative)
        {
            absolute = Math.Min(absolute, nowMs + (long)relative.TotalMilliseconds);
        }

        return absolute;
    }

    /// <summary>
    /// memcached's TTL for a lifetime: whole seconds rounded up, plus one because memcached's clock ticks once a second
    /// (an item can otherwise end up to a second early); at most memcached's relative limit.
    /// </summary>
    private static int TtlSeconds(long milliseconds) =>
        (int)Math.Clamp(((milliseconds + 999) / 1000) + 1, 2, MaxRelativeTtlSeconds);
}

/// <summary>The outcome of <see cref="MemcachedDistributedCache.ReadAsync"/>.</summary>
/// <param name="Found">Whether a live entry was there.</param>
/// <param name="ExpiresAtMs">Until when it lives now, Unix ms by the cache's clock (<see cref="DistributedEntry.NoExpiry"/> for never).</param>
internal readonly record struct DistributedRead(bool Found, long ExpiresAtMs);
