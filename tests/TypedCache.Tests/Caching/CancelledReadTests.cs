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

    /// <summary>
    /// Only the cancellation of the caller running a load sends the callers that joined it on to load for themselves: a
    /// cancellation the loader raises itself (an HTTP client's timeout) is its failure, handed to every caller once.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_cancellation_the_loader_raised_itself_reaches_the_callers_that_joined(bool batch)
    {
        var prefix = EngineServers.NewName();
        await using var cache = servers.Context(prefix);
        var first = new GatedLoad(cache, new Item(24, "first", 1));
        await first.Loading;

        var joined = new CountedLoads();
        var second = joined.ReadAsync(cache, new Item(24, "second", 2), batch);
        Assert.False(second.IsCompleted, "the second read joins the first one's flight");
        first.Fail(new OperationCanceledException("the loader's own timeout"));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.Result);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        Assert.Equal(0, joined.Calls);
    }

    /// <summary>
    /// A batch joined to two loads: the first one's caller is cancelled, so the batch will load that key itself, and the
    /// second one's loader fails. The batch fails with it, and leaves no load of its own begun and never ended, which
    /// every later reader of the key would wait for.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task A_batch_failing_on_one_joined_load_leaves_no_load_of_its_own_unfinished()
    {
        var prefix = EngineServers.NewName();
        await using var cache = servers.Context(prefix);
        using var cancel = new CancellationTokenSource();
        var cancelled = new GatedLoad(cache, new Item(26, "cancelled", 1), cancel.Token);
        var failing = new GatedLoad(cache, new Item(27, "failing", 1));
        await Task.WhenAll(cancelled.Loading, failing.Loading);

        var batch = cache.Items.GetOrLoadManyAsync([26, 27], (ids, _) => ValueTask.FromResult<IEnumerable<Item>>([.. ids.Select(k => new Item(k.Id, "batch", 2))]), CancellationToken.None).AsTask();
        Assert.False(batch.IsCompleted, "the batch joins both flights");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.Result);
        failing.Fail(new InvalidOperationException("the loader failed"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => batch);
        var later = new CountedLoads().ReadAsync(cache, new Item(26, "later", 3), batch: false);
        Assert.Equal(new Item(26, "later", 3), await later.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    /// <summary>
    /// A batch wins the lease of one key on its read and waits for another client's lease on a second key; its caller
    /// cancels meanwhile. The lease it won is handed back: A, which never waits for a lease holder, can write its load.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task A_batch_cancelled_while_waiting_for_a_lease_holder_hands_back_the_lease_its_read_won()
    {
        var prefix = EngineServers.NewName();
        await using var relay = await FaultyRelay.StartAsync(servers.Memcached.Host, servers.Memcached.Port);
        await using var serviceB = await RelayedService.OpenAsync(prefix, relay, options =>
        {
            options.LeaseTtl = TimeSpan.FromMinutes(5);
            options.LeaseWait = TimeSpan.FromSeconds(40);
        });
        await using var holder = servers.Context(prefix);
        await using var serviceA = servers.Context(prefix, configure: options => options.LeaseWait = TimeSpan.Zero);
        var held = new GatedLoad(holder, new Item(29, "holder", 1));
        await held.Loading;
        using var cancel = new CancellationTokenSource();

        var answered = RelayedService.HoldAnswers(relay);
        var batch = serviceB.Items.GetOrLoadManyAsync([28, 29], (ids, _) => ValueTask.FromResult<IEnumerable<Item>>([.. ids.Select(k => new Item(k.Id, "batch", 2))]), cancel.Token).AsTask();
        await RelayedService.AnsweredAsync(relay, answered, "memcached answered B's lease reads");
        await cancel.CancelAsync();
        relay.ToClient.Paused = false;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batch);
        Assert.Equal(new Item(28, "loaded", 3), await new CountedLoads().ReadAsync(serviceA, new Item(28, "loaded", 3), batch: false));
        Assert.Equal(new Item(28, "loaded", 3), await servers.ReadL2Async(prefix, 28));
        held.Release();
        Assert.Equal(new Item(29, "holder", 1), await held.Result);
    }
}
