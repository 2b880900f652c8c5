using TypedCache.Memcached;

namespace TypedCache.Cluster;

/// <summary>Which server answered a cluster command, or that none could.</summary>
internal enum ReplySource : byte
{
    /// <summary>The node that owns the key on the ring in force (after any ejection).</summary>
    Node,

    /// <summary>A gutter server, because the key's node is down (<see cref="NodeDownPolicy.Gutter"/>): TTLs were capped.</summary>
    Gutter,

    /// <summary>
    /// No server: the key's node is down (<see cref="NodeDownPolicy.Miss"/>), no node is live, or the command failed
    /// on a node that is failing. Reads are misses and writes were not applied: the caller's loader serves.
    /// </summary>
    Unavailable,
}

/// <summary>A cluster command's reply: the server's answer and where it came from.</summary>
/// <typeparam name="T">The memcached client's result type.</typeparam>
/// <param name="Value">The answer; <see langword="default"/> (a miss, or <see cref="MemcachedStatus.Success"/> 0) when <see cref="Source"/> is <see cref="ReplySource.Unavailable"/>.</param>
/// <param name="Source">Which server answered.</param>
internal readonly record struct ClusterReply<T>(T Value, ReplySource Source)
{
    /// <summary>Whether a server answered; false means "call the loader, nothing was stored".</summary>
    public bool IsAvailable => Source != ReplySource.Unavailable;

    /// <summary>The reply of a command that no server could take.</summary>
    public static ClusterReply<T> Unavailable => new(default!, ReplySource.Unavailable);
}

/// <summary>
/// The results of a cluster batch get in the caller's key order, merged from one batch per server. Owns every value
/// buffer: <see cref="Dispose"/> returns them all; do not dispose the individual results.
/// </summary>
internal sealed class ClusterBatchGetResult : IDisposable
{
    private static readonly MemcachedGetResult Miss;

    private readonly MemcachedBatchGetResult?[] _batches;
    private readonly int[] _batchOf;
    private readonly int[] _indexInBatch;
    private readonly ReplySource[] _sources;

    internal ClusterBatchGetResult(MemcachedBatchGetResult?[] batches, int[] batchOf, int[] indexInBatch, ReplySource[] sources)
    {
        _batches = batches;
        _batchOf = batchOf;
        _indexInBatch = indexInBatch;
        _sources = sources;
    }

    /// <summary>How many keys were asked for.</summary>
    public int Count => _batchOf.Length;

    /// <summary>The result for the key at <paramref name="index"/>; a miss (also when unavailable) has <see cref="MemcachedGetResult.Found"/> false.</summary>
    public ref readonly MemcachedGetResult this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return ref _sources[index] == ReplySource.Unavailable ? ref Miss : ref _batches[_batchOf[index]]![_indexInBatch[index]];
        }
    }

    /// <summary>Which server answered for the key at <paramref name="index"/>.</summary>
    public ReplySource SourceOf(int index) => _sources[index];

    /// <summary>Returns every value buffer to the pool. Idempotent.</summary>
    public void Dispose()
    {
        foreach (var batch in _batches)
            batch?.Dispose();
    }
}
