using Microsoft.Extensions.Time.Testing;

namespace TypedCache.Api.Tests;

/// <summary>
/// Callers of one load share it, and it runs under its own token: a caller that gives up leaves the others
/// their value, and only when every caller has given up is the loader cancelled.
/// </summary>
public sealed class SingleFlightTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly ShopCache _cache = new(new CacheContextOptionsBuilder<ShopCache>()
        .UseInMemory()
        .UseTimeProvider(new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)))
        .Options);

    [Fact]
    public async Task The_first_caller_cancelling_leaves_the_other_waiters_their_value()
    {
        var loader = new BlockingLoader();
        using var first = new CancellationTokenSource();
        var firstCall = _cache.Products.GetOrLoadAsync(1, loader.LoadAsync, first.Token).AsTask();
        var secondCall = _cache.Products.GetOrLoadAsync(1, loader.LoadAsync).AsTask();
        var loaderToken = await loader.Started.Task.WaitAsync(Deadline);

        await first.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => firstCall);
        Assert.False(loaderToken.IsCancellationRequested);

        loader.Release.SetResult(new Product(1, "loaded", 1m));
        Assert.Equal("loaded", (await secondCall.WaitAsync(Deadline))?.Name);
        Assert.Equal(1, loader.Calls);
    }

    [Fact]
    public async Task A_batch_caller_cancelling_leaves_a_single_waiter_its_value()
    {
        var loader = new BlockingLoader();
        using var batchCancel = new CancellationTokenSource();
        var batch = _cache.Products.GetOrLoadManyAsync(
            [1, 2],
            async (keys, ct) => [await loader.LoadAsync(keys[0].Id, ct) ?? throw new InvalidOperationException("no value")],
            batchCancel.Token).AsTask();
        var loaderToken = await loader.Started.Task.WaitAsync(Deadline);
        var single = _cache.Products.GetOrLoadAsync(1, (_, _) => throw new InvalidOperationException("the batch's load is shared")).AsTask();

        await batchCancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batch);
        Assert.False(loaderToken.IsCancellationRequested);

        loader.Release.SetResult(new Product(1, "batch", 1m));
        Assert.Equal("batch", (await single.WaitAsync(Deadline))?.Name);
    }

    [Fact]
    public async Task The_loader_is_cancelled_when_every_caller_gave_up_and_the_next_caller_loads_again()
    {
        var loader = new BlockingLoader();
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        var calls = new[]
        {
            _cache.Products.GetOrLoadAsync(1, loader.LoadAsync, first.Token).AsTask(),
            _cache.Products.GetOrLoadAsync(1, loader.LoadAsync, second.Token).AsTask(),
        };
        var loaderToken = await loader.Started.Task.WaitAsync(Deadline);

        await first.CancelAsync();
        Assert.False(loaderToken.IsCancellationRequested);
        await second.CancelAsync();
        foreach (var call in calls)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        }

        Assert.True(loaderToken.IsCancellationRequested);
        var next = await _cache.Products.GetOrLoadAsync(1, static (id, _) => new ValueTask<Product?>(new Product(id, "next", 1m))).AsTask().WaitAsync(Deadline);
        Assert.Equal("next", next?.Name);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cache.DisposeAsync();

    /// <summary>A loader that reports its token when called and returns what <see cref="Release"/> is given.</summary>
    private sealed class BlockingLoader
    {
        private int _calls;

        public TaskCompletionSource<CancellationToken> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<Product?> Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Calls => Volatile.Read(ref _calls);

        public async ValueTask<Product?> LoadAsync(int id, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            Started.TrySetResult(cancellationToken);
            return await Release.Task.WaitAsync(cancellationToken);
        }
    }
}
