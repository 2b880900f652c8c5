using System.Diagnostics;

namespace TypedCache.Load.Scenarios;

/// <summary>
/// Watches invalidations travel from a writer service to a reader service (both with L1 on) through a fault. Round
/// after round the reader reads a key (so its L1 holds it), the writer bumps the key's version in a source-of-truth
/// map and invalidates it. After the fault, every probe key must read at its latest version in the reader once the
/// cluster has had time to settle: a key still older is an invalidation lost.
/// </summary>
internal sealed class InvalidationProbe(LoadCache writer, LoadCache reader, IReadOnlyList<int> keys)
{
    private readonly Dictionary<int, long> _truth = keys.ToDictionary(k => k, _ => 0L);
    private readonly Lock _gate = new();
    private long _invalidations;
    private long _readErrors;
    private long _invalidateErrors;
    private long _reads;

    public long Invalidations => Interlocked.Read(ref _invalidations);

    public long ReadErrors => Interlocked.Read(ref _readErrors);

    public long InvalidateErrors => Interlocked.Read(ref _invalidateErrors);

    public long Reads => Interlocked.Read(ref _reads);

    public string? FirstError { get; private set; }

    /// <summary>Reads, bumps and invalidates the keys in turn until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        for (int round = 0; !stop.IsCancellationRequested; round++)
        {
            int key = keys[round % keys.Count];
            try
            {
                await ReadAsync(key);
                Interlocked.Increment(ref _reads);
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _readErrors);
                FirstError ??= $"read: {e.GetType().Name}: {e.Message}";
            }
            Bump(key);
            try
            {
                await writer.Items.InvalidateAsync(key, CancellationToken.None);
                Interlocked.Increment(ref _invalidations);
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _invalidateErrors);
                FirstError ??= $"invalidate: {e.GetType().Name}: {e.Message}";
            }
            await Task.Delay(20, CancellationToken.None);
        }
    }

    /// <summary>Bumps one key, invalidates it, and waits until the reader sees the new version; returns how long that took.</summary>
    public async Task<TimeSpan> RoundTripAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        int key = keys[0];
        await ReadAsync(key);
        long version = Bump(key);
        await writer.Items.InvalidateAsync(key, cancellationToken);
        while ((await ReadAsync(key))?.Version < version)
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"an invalidation did not reach the reader within {timeout.TotalSeconds} s");
            await Task.Delay(10, cancellationToken);
        }
        return clock.Elapsed;
    }

    /// <summary>Polls until every key reads at its latest version in the reader, or <paramref name="timeout"/>; returns the keys still behind.</summary>
    public async Task<int> CountLostAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            int behind = 0;
            foreach (int key in keys)
            {
                if ((await ReadAsync(key))?.Version < Truth(key))
                    behind++;
            }
            if (behind == 0 || clock.Elapsed > timeout)
                return behind;
            await Task.Delay(100, cancellationToken);
        }
    }

    private ValueTask<Item?> ReadAsync(int key) =>
        reader.Items.GetOrLoadAsync(key, (id, _) => ValueTask.FromResult<Item?>(new Item(id, Truth(id), "")), CancellationToken.None);

    private long Truth(int key)
    {
        lock (_gate)
            return _truth[key];
    }

    private long Bump(int key)
    {
        lock (_gate)
            return ++_truth[key];
    }
}
