using TypedCache.Testing;
using TypedCache.TestWorker;

namespace TypedCache.Tests.Caching;

/// <summary>
/// A caller that gives up (its token cancelled) costs no one else: a lease memcached gave its read is handed back, not
/// left to expire while every reader of the key waits, and callers that joined its load are not cancelled with it.
/// </summary>
public sealed class CancelledReadTests(EngineServers servers) : IClassFixture<EngineServers>
{
    /// <summary>
    /// B's lease read reaches memcached, which gives it the lease, and B's caller cancels before the answer is back. A,
    /// which never waits for a lease holder, loads then; it can write its load only if B handed the lease back (B's
    /// lease would otherwise outlive the test).
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_read_cancelled_while_memcached_answers_it_hands_back_the_lease_it_won(bool batch)
    {
        var prefix = EngineServers.NewName();
        await using var relay = await FaultyRelay.StartAsync(servers.Memcached.Host, servers.Memcached.Port);
        await using var serviceB = await RelayedService.OpenAsync(prefix, relay, options => options.LeaseTtl = TimeSpan.FromMinutes(5));
        await using var serviceA = servers.Context(prefix, configure: options => options.LeaseWait = TimeSpan.Zero);
        using var cancel = new CancellationTokenSource();

        var answered = RelayedService.HoldAnswers(relay);
        var cancelled = new CountedLoads();
        var read = cancelled.ReadAsync(serviceB, new Item(20, "cancelled", 1), batch, cancel.Token);
        await RelayedService.AnsweredAsync(relay, answered, "memcached answered B's lease read");
        await cancel.CancelAsync();
        relay.ToClient.Paused = false;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.Equal(new Item(20, "loaded", 2), await new CountedLoads().ReadAsync(serviceA, new Item(20, "loaded", 2), batch));
        Assert.Equal(new Item(20, "loaded", 2), await servers.ReadL2Async(prefix, 20));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_caller_that_joined_a_load_whose_caller_cancelled_loads_for_itself(bool batch)
    {
        var prefix = EngineServers.NewName();
        await using var cache = servers.Context(prefix);
        using var cancel = new CancellationTokenSource();
        var first = new GatedLoad(cache, new Item(22, "first", 1), cancel.Token);
        await first.Loading;

        var joined = new CountedLoads();
        var second = joined.ReadAsync(cache, new Item(22, "second", 2), batch);
        Assert.False(second.IsCompleted, "the second read joins the first one's flight");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.Result);
        Assert.Equal(new Item(22, "second", 2), await second);
        Assert.Equal(1, joined.Calls);
        Assert.Equal(new Item(22, "second", 2), await servers.ReadL2Async(prefix, 22));
    }
}
