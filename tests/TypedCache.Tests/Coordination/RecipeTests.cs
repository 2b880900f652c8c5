using System.Globalization;
using System.Threading.Channels;
using TypedCache.Coordination;
using TypedCache.Testing;
using TypedCache.ZooKeeper;

namespace TypedCache.Tests.Coordination;

[Collection(ZooKeeperCollection.Name)]
public sealed class LeaderLatchTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task One_leader_at_a_time_and_failover_when_its_session_closes()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        CoordinationRoot firstRoot = await fixture.OpenAsync(rootPath);
        CoordinationRoot secondRoot = await fixture.OpenAsync(rootPath);
        await using LeaderLatch first = LeaderLatch.Start(firstRoot, "first");
        CancellationToken firstTerm = await first.WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await using LeaderLatch second = LeaderLatch.Start(secondRoot, "second");
        await Eventually.HoldsAsync(async ct => (await secondRoot.Client.GetChildrenAsync(secondRoot.Leader, ct)).Children.Count == 2, "the second candidate queued");

        Assert.True(first.IsLeader);
        Assert.False(second.IsLeader);
        Assert.Equal("first", await second.GetLeaderIdAsync());

        await firstRoot.Client.DisposeAsync();

        CancellationToken secondTerm = await second.WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(firstTerm.IsCancellationRequested);
        Assert.False(secondTerm.IsCancellationRequested);
        Assert.True(second.IsLeader);
        Assert.False(first.IsLeader);
        Assert.Equal("second", await second.GetLeaderIdAsync());
    }
}

[Collection(ZooKeeperCollection.Name)]
public sealed class VersionCountersTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task Concurrent_bumps_from_four_sessions_never_lose_an_increment_and_the_watcher_sees_the_last()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        CoordinationRoot watching = await fixture.OpenAsync(rootPath);
        await using VersionWatcher watcher = await VersionWatcher.StartAsync(watching);
        var counters = new List<VersionCounters>();
        for (int i = 0; i < 4; i++)
        {
            counters.Add(new VersionCounters(await fixture.OpenAsync(rootPath)));
        }

        Assert.Equal(0, await counters[0].ReadAsync(VersionKind.Type, "Product"));
        long[][] written = await Task.WhenAll(counters.Select(async c =>
        {
            var values = new long[25];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = await c.BumpAsync(VersionKind.Type, "Product");
            }

            return values;
        }));

        Assert.Equal(Enumerable.Range(1, 100).Select(v => (long)v), written.SelectMany(v => v).Order());
        Assert.Equal(100, await counters[0].ReadAsync(VersionKind.Type, "Product"));
        Assert.Equal("100"u8.ToArray(), (await watching.Client.GetDataAsync(watching.Types + "/Product")).Data);
        await Eventually.HoldsAsync(() => watcher.Get(VersionKind.Type, "Product") == 100, "the watcher seeing version 100");

        Assert.Equal(1, await counters[1].BumpAsync(VersionKind.Tag, "catalog/eu"));
        await Eventually.HoldsAsync(() => watcher.Get(VersionKind.Tag, "catalog/eu") == 1, "the watcher seeing the tag");
        Assert.Equal(0, watcher.Get(VersionKind.Type, "catalog/eu"));
    }

    [Fact]
    public async Task A_counter_holding_garbage_fails_clearly()
    {
        CoordinationRoot root = await fixture.OpenAsync(ZooKeeperFixture.NewRoot());
        await root.EnsurePathAsync(root.Types, CreateMode.Persistent, default);
        await root.Client.CreateAsync(root.Types + "/Bad", "x1"u8.ToArray());

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => new VersionCounters(root).BumpAsync(VersionKind.Type, "Bad"));
        Assert.Contains(root.Types + "/Bad", error.Message, StringComparison.Ordinal);
    }
}

[Collection(ZooKeeperCollection.Name)]
public sealed class EventLogTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task Subscribers_get_every_batch_in_order_and_learn_about_pruned_ones()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        var log = new EventLog(await fixture.OpenAsync(rootPath));
        var readerLog = new EventLog(await fixture.OpenAsync(rootPath));
        Assert.Equal(-1, await readerLog.LatestSequenceAsync());

        long first = await log.AppendAsync([new("Product", "1"), new("Stock", "7:a"), new("Product", "2")]);
        var items = Channel.CreateUnbounded<EventLogItem>();
        await using EventLogSubscription live = await readerLog.SubscribeAsync(-1, item => items.Writer.TryWrite(item));
        var appended = new List<long> { first };
        for (int i = 0; i < 20; i++)
        {
            appended.Add(await log.AppendAsync([new("Product", i.ToString(System.Globalization.CultureInfo.InvariantCulture))]));
        }

        var received = new List<EventLogItem>();
        while (received.Count < appended.Count)
        {
            received.Add(await items.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.All(received, item => Assert.Equal(EventLogItemKind.Batch, item.Kind));
        Assert.Equal(appended, received.Select(i => i.Sequence));
        Assert.Equal([new("Product", "1"), new("Product", "2"), new("Stock", "7:a")], received[0].Keys);
        Assert.Equal("19", received[^1].Keys.Single().Key);

        Assert.Equal(18, await log.PruneAsync(new EventLogRetention(3, TimeSpan.FromHours(1))));
        List<EventLogItem> behind = await readerLog.ReadAsync(first);
        Assert.Equal(EventLogItemKind.Missed, behind[0].Kind);
        Assert.Equal(appended[^4], behind[0].Sequence);
        Assert.Equal(appended[^3..], behind.Skip(1).Select(i => i.Sequence));
        Assert.Equal(appended[^1], await readerLog.LatestSequenceAsync());
        Assert.Empty(await readerLog.ReadAsync(appended[^1]));

        // Further behind than a reader may replay: one Missed item for all of them, through the newest.
        EventLogItem tooFar = Assert.Single(await readerLog.ReadAsync(appended[^4], maxEvents: 2));
        Assert.Equal(EventLogItemKind.Missed, tooFar.Kind);
        Assert.Equal(appended[^1], tooFar.Sequence);
        Assert.Equal(appended[^2..], (await readerLog.ReadAsync(appended[^3], maxEvents: 2)).Select(i => i.Sequence));
    }

    [Fact]
    public async Task Only_the_leader_prunes()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        CoordinationRoot root = await fixture.OpenAsync(rootPath);
        var log = new EventLog(root);
        for (int i = 0; i < 5; i++)
        {
            await log.AppendAsync([new("Product", "1")]);
        }

        LeaderLatch leader = LeaderLatch.Start(root, "leader");
        await leader.WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(10));
        CoordinationRoot followerRoot = await fixture.OpenAsync(rootPath);
        LeaderLatch follower = LeaderLatch.Start(followerRoot, "follower");
        EventLogPruner followerPruner = EventLogPruner.Start(follower, new EventLog(followerRoot), new EventLogRetention(1, TimeSpan.FromHours(1)), TimeSpan.FromMilliseconds(50));
        EventLogPruner leaderPruner = EventLogPruner.Start(leader, log, new EventLogRetention(1, TimeSpan.FromHours(1)), TimeSpan.FromMilliseconds(50));

        // The pruner counts after its deletes return, so the count is awaited as well as the children.
        await Eventually.HoldsAsync(async ct => (await root.Client.GetChildrenAsync(root.Events, ct)).Children.Count == 1
            && leaderPruner.Pruned == 4, "pruning to one event, counted by the leader's pruner");
        Assert.Equal(0, followerPruner.Pruned);
        Assert.False(follower.IsLeader);

        // Stopping hands the leadership over; the next leader prunes (nothing is left to prune).
        await leaderPruner.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await leader.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await follower.WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await followerPruner.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await follower.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_log_that_grows_past_its_retention_is_pruned_within_seconds_not_at_the_next_interval()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        CoordinationRoot root = await fixture.OpenAsync(rootPath);
        var log = new EventLog(root);
        for (int i = 0; i < 6; i++)
        {
            await log.AppendAsync([new("Product", i.ToString(CultureInfo.InvariantCulture))]);
        }

        await using LeaderLatch leader = LeaderLatch.Start(root, "leader");
        await leader.WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await using EventLogPruner pruner = EventLogPruner.Start(leader, log, new EventLogRetention(5, TimeSpan.FromHours(1)), TimeSpan.FromHours(1));
        await Eventually.HoldsAsync(() => pruner.Pruned == 1, "the first prune, of 6 events to 5");

        // A burst after it: the next full prune is an hour away, but the log's length is read every second.
        for (int i = 0; i < 20; i++)
        {
            await log.AppendAsync([new("Product", i.ToString(CultureInfo.InvariantCulture))]);
        }

        await Eventually.HoldsAsync(async ct => await log.CountAsync(ct) == 5 && pruner.Pruned == 21, "pruning back to the retention's 5 events");
    }

    [Fact]
    public async Task Pruning_by_age_deletes_exactly_the_events_older_than_the_age_before_the_newest()
    {
        CoordinationRoot root = await fixture.OpenAsync(ZooKeeperFixture.NewRoot());
        var log = new EventLog(root);
        var maxAge = TimeSpan.FromMilliseconds(100);
        var appending = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; appending.Elapsed < 3 * maxAge; i++)
        {
            await log.AppendAsync([new("Product", i.ToString(CultureInfo.InvariantCulture))]);
        }

        List<string> names = SequentialNames.Sorted((await root.Client.GetChildrenAsync(root.Events)).Children, SequentialNames.EventPrefix);
        var created = new List<long>();
        foreach (string name in names)
        {
            created.Add((await root.Client.ExistsAsync(root.Events + "/" + name))!.Value.Ctime);
        }

        int old = created.Count(ctime => created[^1] - ctime > maxAge.TotalMilliseconds);
        Assert.InRange(old, 1, names.Count - 2);

        Assert.Equal(old, await log.PruneAsync(new EventLogRetention(100_000, maxAge)));
        Assert.Equal(names[old..], SequentialNames.Sorted((await root.Client.GetChildrenAsync(root.Events)).Children, SequentialNames.EventPrefix));
    }
}

[Collection(ZooKeeperCollection.Name)]
public sealed class MembershipTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task Members_appear_with_their_weight_and_go_when_their_session_closes()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        CoordinationRoot observer = await fixture.OpenAsync(rootPath);
        await using MembersWatcher watcher = await MembersWatcher.StartAsync(observer);
        Assert.Empty(watcher.Current);

        CoordinationRoot first = await fixture.OpenAsync(rootPath);
        CoordinationRoot second = await fixture.OpenAsync(rootPath);
        await using MemberRegistration a = await MemberRegistration.StartAsync(first, new Member("127.0.0.1", 11211, 1));
        await using MemberRegistration b = await MemberRegistration.StartAsync(second, new Member("10.0.0.2", 11212, 3));
        Assert.Equal("""{"weight":3}"""u8.ToArray(), (await observer.Client.GetDataAsync(observer.Nodes + "/10.0.0.2:11212")).Data);
        Assert.True(a.IsRegistered);

        await Eventually.HoldsAsync(() => watcher.Current.Count == 2, "both members seen");
        Assert.Equal([new Member("10.0.0.2", 11212, 3), new Member("127.0.0.1", 11211, 1)], watcher.Current);

        await second.Client.DisposeAsync();
        await Eventually.HoldsAsync(() => watcher.Current.Count == 1, "the closed member removed");
        Assert.Equal("127.0.0.1:11211", watcher.Current.Single().Endpoint);

        IReadOnlyList<Member>? latest = null;
        while (watcher.Changes.TryRead(out IReadOnlyList<Member>? set))
        {
            latest = set;
        }

        Assert.Equal(watcher.Current, latest);
        await a.DisposeAsync();
        await Eventually.HoldsAsync(() => watcher.Current.Count == 0, "the deregistered member removed");
    }

    [Fact]
    public async Task The_last_set_stays_while_ZooKeeper_is_unreachable_and_registration_returns_in_a_new_session()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        FaultyRelay relay = await fixture.RelayAsync();
        CoordinationRoot observer = await fixture.OpenAsync(rootPath, connectString: relay.Endpoint, sessionTimeout: TimeSpan.FromSeconds(2), renew: true);
        await using MembersWatcher watcher = await MembersWatcher.StartAsync(observer);
        await using MemberRegistration registration = await MemberRegistration.StartAsync(observer, new Member("127.0.0.1", 11311, 2));
        CoordinationRoot direct = await fixture.OpenAsync(rootPath);
        await Eventually.HoldsAsync(() => watcher.Current.Count == 1, "the member seen");
        long firstSession = observer.Client.SessionId;

        relay.ToServer.Paused = true;
        relay.ToClient.Paused = true;
        relay.DropConnections();
        await Eventually.HoldsAsync(async ct => await direct.Client.ExistsAsync(registration.Path, ct) is null, "the expired session's node deleted");
        Assert.Equal([new Member("127.0.0.1", 11311, 2)], watcher.Current);

        relay.ToServer.Paused = false;
        relay.ToClient.Paused = false;
        await Eventually.HoldsAsync(
            async ct => await direct.Client.ExistsAsync(registration.Path, ct) is { } stat && stat.EphemeralOwner != firstSession && stat.EphemeralOwner != 0,
            "the node registered again in a new session");
        await Eventually.HoldsAsync(() => registration.IsRegistered && watcher.Current.Count == 1, "the member seen again");
    }
}

[Collection(ZooKeeperCollection.Name)]
public sealed class DigestAclTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task With_a_digest_credential_others_can_read_but_get_NoAuth_writing()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        var credential = new DigestCredential("typedcache", "s3cret");
        CoordinationRoot owner = await fixture.OpenAsync(rootPath, credential);
        await using MemberRegistration member = await MemberRegistration.StartAsync(owner, new Member("127.0.0.1", 11211, 1));
        await new VersionCounters(owner).BumpAsync(VersionKind.Type, "Product");
        long sequence = await new EventLog(owner).AppendAsync([new("Product", "1")]);
        await using LockHandle held = await DistributedLock.AcquireAsync(owner, owner.LockPath("Product", "1"), TimeSpan.FromSeconds(5), null, default);

        ZooKeeperClient stranger = await fixture.ConnectAsync();
        Assert.Equal("1"u8.ToArray(), (await stranger.GetDataAsync(owner.Types + "/Product")).Data);
        Assert.Single((await stranger.GetChildrenAsync(owner.Nodes)).Children);
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.CreateAsync(owner.Nodes + "/10.0.0.9:1", "{}"u8.ToArray()));
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.SetDataAsync(owner.Types + "/Product", "9"u8.ToArray()));
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.DeleteAsync(member.Path));
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.CreateAsync(owner.Events + "/ev-", "x"u8.ToArray(), CreateMode.PersistentSequential));
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.DeleteAsync(held.NodePath));
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.CreateAsync(held.LockPath + "/x__lock__", ReadOnlyMemory<byte>.Empty, CreateMode.EphemeralSequential));
        Assert.True(sequence >= 0);

        CoordinationRoot colleague = await fixture.OpenAsync(rootPath, credential);
        Assert.Equal(2, await new VersionCounters(colleague).BumpAsync(VersionKind.Type, "Product"));
    }
}
