using TypedCache.TestWorker;

namespace TypedCache.Tests.Caching;

/// <summary>A read that starts after <c>InvalidateAsync</c> returned never joins a load that started before it.</summary>
public sealed class InvalidatedFlightTests(EngineServers servers) : IClassFixture<EngineServers>
{
    public static TheoryData<bool> Engines => new() { true, false };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Engines))]
    public async Task A_read_after_an_invalidation_loads_afresh_while_the_earlier_caller_gets_the_old_value(bool distributed)
    {
        await using var cache = distributed
            ? servers.Context(EngineServers.NewName(), zooKeeper: true)
            : new EngineCache(new CacheContextOptionsBuilder<EngineCache>().UseInMemory().Options);
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var first = cache.Items.GetOrLoadAsync(3, async (key, _) =>
        {
            Interlocked.Increment(ref calls);
            loading.TrySetResult();
            await release.Task;
            return new Item(key, "old", 1);
        }).AsTask();
        await loading.Task;

        await cache.Items.InvalidateAsync(3);
        var second = await cache.Items.GetOrLoadAsync(3, (key, _) =>
        {
            Interlocked.Increment(ref calls);
            return ValueTask.FromResult<Item?>(new Item(key, "new", 2));
        });
        release.SetResult();

        Assert.Equal(new Item(3, "new", 2), second);
        Assert.Equal(new Item(3, "old", 1), await first);
        Assert.Equal(2, calls);
        Assert.Equal(new Item(3, "new", 2), await cache.Items.GetAsync(3));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_after_another_process_set_the_key_loads_afresh()
    {
        var prefix = EngineServers.NewName();
        await using var reader = servers.Context(prefix, zooKeeper: true);
        await using var writer = servers.Context(prefix, zooKeeper: true);
        await reader.Items.GetOrLoadAsync(5, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "marker", 0)));
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = reader.Items.GetOrLoadAsync(4, async (key, _) =>
        {
            loading.TrySetResult();
            await release.Task;
            return new Item(key, "old", 1);
        }).AsTask();
        await loading.Task;

        await writer.Items.SetAsync(new Item(4, "new", 2));
        await writer.Items.InvalidateAsync(5);

        // Events arrive in order: once the marker left the reader's L1, so did key 4's load in flight.
        await EngineServers.PollAsync(async () => await reader.Items.GetAsync(5) is null, "the writer's events reach the reader");
        var second = await reader.Items.GetOrLoadAsync(4, (key, _) => ValueTask.FromResult<Item?>(new Item(key, "loaded", 3)));
        release.SetResult();

        Assert.Equal(new Item(4, "new", 2), second);
        Assert.Equal(new Item(4, "old", 1), await first);
        Assert.Equal(new Item(4, "new", 2), await reader.Items.GetAsync(4));
    }
}
