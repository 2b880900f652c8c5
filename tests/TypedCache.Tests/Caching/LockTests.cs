using TypedCache.Coordination;
using TypedCache.TestWorker;

namespace TypedCache.Tests.Caching;

/// <summary>The repositories' distributed <c>LockAsync</c> on ZooKeeper, across two contexts on real servers.</summary>
public sealed class LockTests(EngineServers servers) : IClassFixture<EngineServers>
{
    [Fact(Timeout = 60_000)]
    public async Task A_held_lock_times_out_a_second_context_with_a_clear_exception_and_is_released_on_dispose()
    {
        var prefix = EngineServers.NewName();
        await using var first = servers.Context(prefix, zooKeeper: true);
        await using var second = servers.Context(prefix, zooKeeper: true);

        var held = await first.Items.LockAsync(3, TimeSpan.FromSeconds(10));
        var timeout = await Assert.ThrowsAsync<LockTimeoutException>(async () => await second.Items.LockAsync(3, TimeSpan.FromMilliseconds(300)));
        Assert.Contains("Item", timeout.LockPath);
        Assert.Contains("not acquired", timeout.Message);

        // Another key is not held.
        await (await second.Items.LockAsync(4, TimeSpan.FromSeconds(10))).DisposeAsync();

        await held.DisposeAsync();
        await (await second.Items.LockAsync(3, TimeSpan.FromSeconds(10))).DisposeAsync();
    }

    [Fact(Timeout = 90_000)]
    public async Task The_lock_is_exclusive_across_two_contexts()
    {
        var prefix = EngineServers.NewName();
        await using var first = servers.Context(prefix, zooKeeper: true);
        await using var second = servers.Context(prefix, zooKeeper: true);
        var inside = 0;
        var overlaps = 0;
        var entries = 0;

        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var context = worker % 2 == 0 ? first : second;
            for (var i = 0; i < 10; i++)
            {
                await using (await context.Items.LockAsync(1, TimeSpan.FromSeconds(30)))
                {
                    if (Interlocked.Increment(ref inside) != 1)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    Interlocked.Increment(ref entries);
                    await Task.Yield();
                    Interlocked.Decrement(ref inside);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(40, entries);
        Assert.Equal(0, overlaps);
    }

    [Fact]
    public async Task Without_ZooKeeper_a_lock_fails_with_a_clear_exception()
    {
        await using var cache = servers.Context(EngineServers.NewName());
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () => await cache.Items.LockAsync(1, TimeSpan.FromSeconds(1)));
        Assert.Contains("UseZooKeeper", failure.Message);
    }
}
