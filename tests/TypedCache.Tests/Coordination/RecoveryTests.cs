using Microsoft.Extensions.Logging;
using TypedCache.Coordination;
using TypedCache.Testing;
using TypedCache.ZooKeeper;

namespace TypedCache.Tests.Coordination;

/// <summary>The recipes through faults that must not end them: lost replies, nodes of unknown sessions, failing callbacks.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class RecoveryTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task A_listing_lost_with_the_connection_is_read_again_and_the_lock_acquired_in_the_same_session()
    {
        (FaultyRelay relay, CoordinationRoot contender, CoordinationRoot holderRoot) = await fixture.OpenRelayedAndDirectAsync();
        string directory = holderRoot.LockPath("Product", "11");
        LockHandle held = await DistributedLock.AcquireAsync(holderRoot, directory, TimeSpan.FromSeconds(5), null, CancellationToken.None);
        long session = contender.Client.SessionId;
        Task<LockHandle> waiting = DistributedLock.AcquireAsync(contender, directory, TimeSpan.FromSeconds(30), null, CancellationToken.None);
        await Eventually.HoldsAsync(async ct => (await holderRoot.Client.GetChildrenAsync(directory, ct)).Children.Count == 2, "the contender queued");

        // The holder's release wakes the contender, whose next request (the new listing) is cut off with its connection.
        relay.ToServer.TruncateNext(0);
        await held.DisposeAsync();

        await using LockHandle next = await waiting.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(next.IsHeld);
        Assert.Equal(session, contender.Client.SessionId);
    }

    [Fact]
    public async Task A_create_sent_before_the_first_session_is_found_and_deleted_when_the_caller_gives_up()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        CoordinationRoot admin = await fixture.OpenAsync(rootPath);
        string directory = admin.LockPath("Product", "12");
        await admin.EnsurePathAsync(directory, CreateMode.Persistent, CancellationToken.None);

        // Every reply is late, the handshake's too: the create is sent once connected and applied before its reply.
        FaultyRelay relay = await fixture.RelayAsync();
        relay.ToClient.Delay = TimeSpan.FromSeconds(1.5);
        await using var client = new ZooKeeperClient(new ZooKeeperClientOptions { ConnectString = relay.Endpoint, SessionTimeout = TimeSpan.FromSeconds(4) });
        Assert.Equal(0, client.SessionId);
        var node = new OwnNode(client, directory, Guid.NewGuid().ToString("N") + SequentialNames.LockMarker);
        using var giveUp = new CancellationTokenSource();
        Task create = node.CreateAsync(Acl.OpenUnsafe, [], giveUp.Token);

        await Eventually.HoldsAsync(async ct => (await admin.Client.GetChildrenAsync(directory, ct)).Children.Count == 1, "the create applied");
        await giveUp.CancelAsync();
        try
        {
            await create;
        }
        catch (OperationCanceledException)
        {
            // The caller gave up before the reply came (the case under test).
        }

        await node.DeleteAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Empty((await admin.Client.GetChildrenAsync(directory)).Children);
    }

    [Fact]
    public async Task A_tree_watch_whose_handler_throws_logs_it_resyncs_and_keeps_watching()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        var logger = new RecordingLogger();
        await using ZooKeeperClient client = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectString = fixture.Ensemble.ConnectString,
            SessionTimeout = TimeSpan.FromSeconds(4),
            Logger = logger,
        });
        CoordinationRoot root = await CoordinationRoot.OpenAsync(client, rootPath);
        int resyncs = 0;
        int thrown = 0;
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using TreeWatch watch = await TreeWatch.StartAsync(
            client,
            rootPath,
            _ =>
            {
                Interlocked.Increment(ref resyncs);
                return Task.CompletedTask;
            },
            (watchedEvent, _) =>
            {
                if (watchedEvent.Path.EndsWith("/first", StringComparison.Ordinal) && Interlocked.Exchange(ref thrown, 1) == 0)
                {
                    throw new InvalidOperationException("handler bug");
                }

                seen.Enqueue(watchedEvent.Path);
                return Task.CompletedTask;
            },
            CancellationToken.None);
        Assert.Equal(1, Volatile.Read(ref resyncs));

        await client.CreateAsync(rootPath + "/first", default);
        await Eventually.HoldsAsync(() => Volatile.Read(ref resyncs) >= 2, "a resync after the failure");
        Assert.Contains(logger.Errors, e => e is InvalidOperationException { Message: "handler bug" });

        await client.CreateAsync(rootPath + "/second", default);
        await Eventually.HoldsAsync(() => seen.Contains(rootPath + "/second"), "the next event handled");
    }

    [Fact]
    public async Task An_event_log_subscriber_whose_connection_drops_gets_every_batch_once_and_in_order()
    {
        (FaultyRelay relay, CoordinationRoot subscriberRoot, CoordinationRoot writerRoot) = await fixture.OpenRelayedAndDirectAsync();
        var writer = new EventLog(writerRoot);
        var appended = new List<long>();
        int appendedCount = 0;
        var received = new System.Collections.Concurrent.ConcurrentQueue<EventLogItem>();
        using var enough = new CancellationTokenSource();

        // Appends go on while the subscriber starts (events land during its first catch-up) and across every drop, so
        // some are created while its connection is down and the first event it hears of afterwards is newer than them.
        Task appending = Task.Run(async () =>
        {
            for (int i = 0; !enough.IsCancellationRequested; i++)
            {
                appended.Add(await writer.AppendAsync([new("Product", i.ToString(System.Globalization.CultureInfo.InvariantCulture))]));
                Interlocked.Increment(ref appendedCount);
            }
        });
        await Eventually.HoldsAsync(() => Volatile.Read(ref appendedCount) > 5, "the first appends");
        await using EventLogSubscription subscription = await new EventLog(subscriberRoot).SubscribeAsync(-1, received.Enqueue);
        foreach (int round in (int[])[1, 2, 3, 4])
        {
            int before = Volatile.Read(ref appendedCount);
            relay.DropConnections();
            await Eventually.HoldsAsync(() => Volatile.Read(ref appendedCount) > before + 20 && received.Count > before, $"appends and items after drop {round}");
        }

        await enough.CancelAsync();
        await appending;
        await Eventually.HoldsAsync(() => received.Count >= appended.Count, "every item");
        Assert.All(received, item => Assert.Equal(EventLogItemKind.Batch, item.Kind));
        Assert.Equal(appended, received.Select(item => item.Sequence));
        Assert.Equal(appended[^1], subscription.LastSequence);
    }

    [Fact]
    public async Task Leadership_waits_end_when_the_latch_is_disposed_and_a_new_wait_is_in_place_before_a_term_ends()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        CoordinationRoot leaderRoot = await fixture.OpenAsync(rootPath);
        CoordinationRoot otherRoot = await fixture.OpenAsync(rootPath);
        await using LeaderLatch leader = LeaderLatch.Start(leaderRoot, "leader");
        CancellationToken term = await leader.WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(10));
        // The callback runs after IsCancellationRequested turns true, so what it saw is handed over by a task.
        var nextWaitAtTermEnd = new TaskCompletionSource<Task<CancellationToken>>(TaskCreationOptions.RunContinuationsAsynchronously);
        term.Register(() =>
        {
            Task<CancellationToken> wait = leader.WaitForLeadershipAsync();
            nextWaitAtTermEnd.TrySetResult(wait.IsCompleted ? Task.FromException<CancellationToken>(new InvalidOperationException("the next wait was already complete when the term ended")) : wait);
        });

        // Someone else deletes the leader's node: the term ends, and the latch contends again.
        string node = (await otherRoot.Client.GetChildrenAsync(otherRoot.Leader)).Children.Single();
        await otherRoot.Client.DeleteAsync(otherRoot.Leader + "/" + node);
        Task<CancellationToken> nextWait = await nextWaitAtTermEnd.Task.WaitAsync(TimeSpan.FromSeconds(10));
        CancellationToken secondTerm = await nextWait.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(secondTerm.IsCancellationRequested);

        LeaderLatch follower = LeaderLatch.Start(otherRoot, "follower");
        await Eventually.HoldsAsync(async ct => (await otherRoot.Client.GetChildrenAsync(otherRoot.Leader, ct)).Children.Count == 2, "the follower queued");
        Task<CancellationToken> pending = follower.WaitForLeadershipAsync();
        await follower.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => follower.WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(10)));

        await leader.DisposeAsync();
        Assert.True(secondTerm.IsCancellationRequested);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => leader.WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Registering_an_endpoint_another_live_session_owns_fails_naming_both()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        CoordinationRoot owner = await fixture.OpenAsync(rootPath);
        CoordinationRoot late = await fixture.OpenAsync(rootPath);
        var member = new Member("127.0.0.1", 11411, 1);
        await using MemberRegistration registered = await MemberRegistration.StartAsync(owner, member);

        var failure = await Assert.ThrowsAsync<NodeExistsException>(
            () => MemberRegistration.StartAsync(late, member, TimeSpan.FromMilliseconds(300), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(member.Endpoint, failure.Message, StringComparison.Ordinal);
        Assert.Contains($"0x{owner.Client.SessionId:x}", failure.Message, StringComparison.Ordinal);
        Assert.Equal(registered.Path, failure.Path);
        Assert.True(registered.IsRegistered);
    }

    /// <summary>Keeps the exceptions of the error entries written.</summary>
    private sealed class RecordingLogger : ILogger
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<Exception> _errors = new();

        public IEnumerable<Exception> Errors => _errors;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error && exception is not null)
            {
                _errors.Enqueue(exception);
            }
        }
    }
}
