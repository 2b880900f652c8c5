using TypedCache.Testing;
using TypedCache.TestWorker;

namespace TypedCache.Tests.Caching;

/// <summary>A service whose memcached traffic runs through a <see cref="FaultyRelay"/>, so a test can hold memcached's answers.</summary>
internal static class RelayedService
{
    /// <summary>
    /// A service whose memcached connection runs through <paramref name="relay"/>, with no ZooKeeper (no invalidation
    /// event reaches it), connected by a first read so that only the test's own requests cross the relay afterwards.
    /// </summary>
    public static async Task<EngineCache> OpenAsync(string prefix, FaultyRelay relay, Action<DistributedCacheOptions>? configure = null)
    {
        var cache = new EngineCache(new CacheContextOptionsBuilder<EngineCache>().UseKeyPrefix(prefix).UseMemcached([relay.Endpoint], configure).Options);
        Assert.Null(await cache.Items.GetAsync(-1));
        return cache;
    }

    /// <summary>Holds memcached's answers in the relay from now on; returns the count of bytes answered so far.</summary>
    public static long HoldAnswers(FaultyRelay relay)
    {
        relay.ToClient.Paused = true;
        return relay.ToClient.BytesReceived;
    }

    public static Task AnsweredAsync(FaultyRelay relay, long answered, string what) =>
        EngineServers.PollAsync(() => Task.FromResult(relay.ToClient.BytesReceived > answered), what);
}

/// <summary>A <c>GetOrLoadAsync</c> whose loader says when it runs and returns its item only once released.</summary>
internal sealed class GatedLoad
{
    private readonly TaskCompletionSource _loading = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts the read-through; the loader waits for <see cref="Release"/>, or gives up when <paramref name="cancellationToken"/> is cancelled.</summary>
    public GatedLoad(EngineCache cache, Item item, CancellationToken cancellationToken = default) =>
        Result = cache.Items.GetOrLoadAsync(item.Id, async (_, token) =>
        {
            _loading.TrySetResult();
            await _release.Task.WaitAsync(token);
            return item;
        }, cancellationToken).AsTask();

    public Task<Item?> Result { get; }

    public Task Loading => _loading.Task;

    public void Release() => _release.SetResult();

    /// <summary>Makes the loader throw <paramref name="error"/>.</summary>
    public void Fail(Exception error) => _release.SetException(error);
}

/// <summary>Read-throughs whose loaders return an item at once and are counted.</summary>
internal sealed class CountedLoads
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Reads <paramref name="item"/>'s key with a single or a batch read-through; the loader returns <paramref name="item"/>.</summary>
    public async Task<Item?> ReadAsync(EngineCache cache, Item item, bool batch, CancellationToken cancellationToken = default)
    {
        if (!batch)
        {
            return await cache.Items.GetOrLoadAsync(item.Id, (_, token) =>
            {
                Interlocked.Increment(ref _calls);
                token.ThrowIfCancellationRequested();
                return ValueTask.FromResult<Item?>(item);
            }, cancellationToken);
        }

        var found = await cache.Items.GetOrLoadManyAsync([item.Id], (_, token) =>
        {
            Interlocked.Increment(ref _calls);
            token.ThrowIfCancellationRequested();
            return ValueTask.FromResult<IEnumerable<Item>>([item]);
        }, cancellationToken);
        return found.GetValueOrDefault(item.Id);
    }
}
