using System.Buffers;

namespace TypedCache.Memcached;

/// <summary>The outcome of a meta command, from its response code.</summary>
public enum MemcachedStatus
{
    /// <summary><c>HD</c>/<c>VA</c>: the command succeeded (stored, deleted, found).</summary>
    Success,
    /// <summary><c>NS</c>: not stored (add on an existing key, replace/append/prepend on a missing one).</summary>
    NotStored,
    /// <summary><c>EX</c>: the CAS did not match.</summary>
    Exists,
    /// <summary><c>NF</c>/<c>EN</c>: the key was not found.</summary>
    NotFound,
}

/// <summary>
/// The result of a meta get. A hit's value lives in a buffer rented from <see cref="ArrayPool{T}.Shared"/>: the
/// result owns it until <see cref="Dispose"/>, which returns it. Dispose exactly once, and do not read
/// <see cref="Value"/> or <see cref="Key"/> afterwards; copies of this struct share the one buffer.
/// </summary>
public readonly struct MemcachedGetResult : IDisposable
{
    private readonly byte[]? _buffer;
    private readonly int _valueLength;
    private readonly int _keyLength;
    private readonly MetaResultFlags _flags;

    internal MemcachedGetResult(bool found, byte[]? buffer, int valueLength, int keyLength, uint clientFlags, ulong cas,
        long ttl, long size, MetaResultFlags flags)
    {
        Found = found;
        _buffer = buffer;
        _valueLength = valueLength;
        _keyLength = keyLength;
        ClientFlags = clientFlags;
        Cas = cas;
        RemainingTtl = ttl;
        Size = size;
        _flags = flags;
    }

    /// <summary>
    /// <see langword="true"/> when the item exists (<c>VA</c> or <c>HD</c>). A vivified stub (<see cref="Won"/> or
    /// <see cref="LeaseTaken"/> with an empty value) also counts as found: lease-aware readers must look at the lease flags.
    /// </summary>
    public bool Found { get; }

    /// <summary>The value (empty on a miss or with <see cref="MemcachedGetOptions.MetadataOnly"/>); valid until <see cref="Dispose"/>.</summary>
    public ReadOnlyMemory<byte> Value => _buffer is null ? ReadOnlyMemory<byte>.Empty : new ReadOnlyMemory<byte>(_buffer, 0, _valueLength);

    /// <summary>The key echoed by the server (<see cref="MemcachedGetOptions.ReturnKey"/>; base64 for a binary key), or empty.</summary>
    public ReadOnlyMemory<byte> Key => _buffer is null ? ReadOnlyMemory<byte>.Empty : new ReadOnlyMemory<byte>(_buffer, _valueLength, _keyLength);

    /// <summary>The item's 32-bit client flags (0 on a miss).</summary>
    public uint ClientFlags { get; }

    /// <summary>The item's CAS (0 on a miss).</summary>
    public ulong Cas { get; }

    /// <summary>Remaining TTL in seconds: -1 when the item never expires; 0 on a miss.</summary>
    public long RemainingTtl { get; }

    /// <summary>The value size reported by <c>s</c> (<see cref="MemcachedGetOptions.ReturnSize"/>), else -1.</summary>
    public long Size { get; }

    /// <summary><c>W</c>: this caller won the lease and should recompute the item, then store it with <see cref="Cas"/>.</summary>
    public bool Won => (_flags & MetaResultFlags.Won) != 0;

    /// <summary><c>Z</c>: another caller already holds the lease for this item.</summary>
    public bool LeaseTaken => (_flags & MetaResultFlags.LeaseTaken) != 0;

    /// <summary><c>X</c>: the item is stale (invalidated); its value may still be served while it is recomputed.</summary>
    public bool Stale => (_flags & MetaResultFlags.Stale) != 0;

    /// <summary>Returns the value buffer to the pool. Call once; the result must not be read afterwards.</summary>
    public void Dispose()
    {
        if (_buffer is not null)
            ArrayPool<byte>.Shared.Return(_buffer);
    }
}

/// <summary>The result of a meta set.</summary>
/// <param name="Status"><see cref="MemcachedStatus.Success"/> when stored; otherwise why not.</param>
/// <param name="Cas">The new CAS when <see cref="MemcachedStoreOptions.ReturnCas"/> was set and the value was stored, else 0.</param>
public readonly record struct MemcachedStoreResult(MemcachedStatus Status, ulong Cas);

/// <summary>The result of a meta arithmetic command.</summary>
/// <param name="Status"><see cref="MemcachedStatus.Success"/>, or <see cref="MemcachedStatus.NotFound"/>/<see cref="MemcachedStatus.Exists"/>/<see cref="MemcachedStatus.NotStored"/>.</param>
/// <param name="Value">The counter after the change (0 unless <see cref="MemcachedStatus.Success"/>).</param>
/// <param name="Cas">The counter's new CAS (0 unless <see cref="MemcachedStatus.Success"/>).</param>
public readonly record struct MemcachedArithmeticResult(MemcachedStatus Status, ulong Value, ulong Cas);

/// <summary>Lease flags the server appends to a get response.</summary>
[Flags]
internal enum MetaResultFlags : byte
{
    None = 0,
    Won = 1,
    LeaseTaken = 2,
    Stale = 4,
}

/// <summary>
/// The results of a batch get, in the order of the keys asked for. The batch owns every value buffer:
/// <see cref="Dispose"/> returns them all; do not dispose the individual results.
/// </summary>
public sealed class MemcachedBatchGetResult : IDisposable
{
    private MemcachedGetResult[] _results;

    internal MemcachedBatchGetResult(MemcachedGetResult[] results, int count)
    {
        _results = results;
        Count = count;
    }

    /// <summary>How many keys were asked for.</summary>
    public int Count { get; private set; }

    /// <summary>The result for the key at <paramref name="index"/> in the request; a miss has <see cref="MemcachedGetResult.Found"/> false.</summary>
    public ref readonly MemcachedGetResult this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return ref _results[index];
        }
    }

    /// <summary>Returns every value buffer to the pool. Idempotent.</summary>
    public void Dispose()
    {
        var results = Interlocked.Exchange(ref _results, []);
        if (results.Length == 0)
            return;
        foreach (ref readonly var result in results.AsSpan(0, Count))
            result.Dispose();
        System.Buffers.ArrayPool<MemcachedGetResult>.Shared.Return(results, clearArray: true);
        Count = 0;
    }
}
