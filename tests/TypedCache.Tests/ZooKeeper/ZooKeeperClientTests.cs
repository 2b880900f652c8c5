using System.Text;
using TypedCache.ZooKeeper;
using static TypedCache.Tests.ZooKeeper.ZooKeeperTestSupport;

namespace TypedCache.Tests.ZooKeeper;

/// <summary>Every operation against a real standalone ZooKeeper 3.8 server.</summary>
public sealed class ZooKeeperClientTests(StandaloneZooKeeperFixture fixture) : IClassFixture<StandaloneZooKeeperFixture>, IAsyncLifetime
{
    private ZooKeeperClient _client = null!;
    private string _root = null!;

    public async Task InitializeAsync()
    {
        _client = await fixture.ConnectAsync();
        _root = await CreateRootAsync(_client);
    }

    public async Task DisposeAsync() => await _client.DisposeAsync();

    [Fact]
    public async Task Create_supports_every_mode()
    {
        CreatedNode persistent = await _client.CreateAsync(_root + "/p", "v"u8.ToArray());
        CreatedNode ephemeral = await _client.CreateAsync(_root + "/e", default, CreateMode.Ephemeral);
        CreatedNode sequential = await _client.CreateAsync(_root + "/s-", default, CreateMode.PersistentSequential);
        CreatedNode ephemeralSequential = await _client.CreateAsync(_root + "/es-", default, CreateMode.EphemeralSequential);
        CreatedNode container = await _client.CreateAsync(_root + "/c", default, CreateMode.Container);
        CreatedNode ttl = await _client.CreateAsync(_root + "/ttl", default, CreateMode.PersistentWithTtl, ttl: TimeSpan.FromMinutes(5));
        CreatedNode ttlSequential = await _client.CreateAsync(_root + "/ttls-", default, CreateMode.PersistentSequentialWithTtl, ttl: TimeSpan.FromMinutes(5));

        Assert.Equal(_root + "/p", persistent.Path);
        Assert.Equal(1, persistent.Stat.DataLength);
        Assert.Equal(_client.SessionId, ephemeral.Stat.EphemeralOwner);
        Assert.Equal(0, persistent.Stat.EphemeralOwner);
        Assert.Matches(@"/s-\d{10}$", sequential.Path);
        Assert.Matches(@"/es-\d{10}$", ephemeralSequential.Path);
        Assert.Equal(_client.SessionId, ephemeralSequential.Stat.EphemeralOwner);
        Assert.Equal(_root + "/c", container.Path);
        Assert.Equal(_root + "/ttl", ttl.Path);
        Assert.Matches(@"/ttls-\d{10}$", ttlSequential.Path);
        Assert.Equal(7, (await _client.GetChildrenAsync(_root)).Children.Count);
        await Assert.ThrowsAsync<NoChildrenForEphemeralsException>(() => _client.CreateAsync(_root + "/e/child", default));
        var exists = await Assert.ThrowsAsync<NodeExistsException>(() => _client.CreateAsync(_root + "/p", default));
        Assert.Equal(_root + "/p", exists.Path);
        await Assert.ThrowsAsync<NoNodeException>(() => _client.CreateAsync(_root + "/missing/child", default));
    }

    [Fact]
    public async Task Ephemerals_are_deleted_when_the_session_closes()
    {
        await using ZooKeeperClient other = await fixture.ConnectAsync();
        await other.CreateAsync(_root + "/gone", default, CreateMode.Ephemeral);
        WatchedResult<Stat?> watch = await _client.ExistsAndWatchAsync(_root + "/gone");
        Assert.NotNull(watch.Value);

        await other.DisposeAsync();

        Assert.Equal(new WatchedEvent(WatchEventType.NodeDeleted, _root + "/gone"), await watch.Watch.Within());
        Assert.Null(await _client.ExistsAsync(_root + "/gone"));
        Assert.Equal(ConnectionState.Closed, other.State);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => other.ExistsAsync("/"));
    }

    [Fact]
    public async Task Delete_and_setData_check_versions()
    {
        await _client.CreateAsync(_root + "/n", "a"u8.ToArray());
        await _client.CreateAsync(_root + "/n/child", default);

        await Assert.ThrowsAsync<NotEmptyException>(() => _client.DeleteAsync(_root + "/n"));
        await Assert.ThrowsAsync<BadVersionException>(() => _client.SetDataAsync(_root + "/n", "b"u8.ToArray(), version: 5));
        Stat stat = await _client.SetDataAsync(_root + "/n", "b"u8.ToArray(), version: 0);
        Assert.Equal(1, stat.Version);
        await Assert.ThrowsAsync<BadVersionException>(() => _client.DeleteAsync(_root + "/n/child", version: 3));
        await _client.DeleteAsync(_root + "/n/child", version: 0);
        await _client.DeleteAsync(_root + "/n", version: 1);

        Assert.Null(await _client.ExistsAsync(_root + "/n"));
        await Assert.ThrowsAsync<NoNodeException>(() => _client.DeleteAsync(_root + "/n"));
        await Assert.ThrowsAsync<NoNodeException>(() => _client.SetDataAsync(_root + "/n", default));
    }

    [Fact]
    public async Task Reads_return_data_children_and_stats()
    {
        await _client.CreateAsync(_root + "/r", "hello"u8.ToArray());
        await _client.CreateAsync(_root + "/r/a", default);
        await _client.CreateAsync(_root + "/r/b", default);
        await _client.CreateAsync(_root + "/empty", default);

        NodeData data = await _client.GetDataAsync(_root + "/r");
        NodeChildren children = await _client.GetChildrenAsync(_root + "/r");
        Stat? stat = await _client.ExistsAsync(_root + "/r");

        Assert.Equal("hello", Encoding.UTF8.GetString(data.Data));
        Assert.Equal(5, data.Stat.DataLength);
        Assert.Equal(["a", "b"], children.Children.Order());
        Assert.Equal(2, children.Stat.NumChildren);
        Assert.Equal(data.Stat with { Cversion = stat!.Value.Cversion, NumChildren = 2, Pzxid = stat.Value.Pzxid }, stat);
        Assert.Empty((await _client.GetDataAsync(_root + "/empty")).Data);
        await Assert.ThrowsAsync<NoNodeException>(() => _client.GetDataAsync(_root + "/nothing"));
        await Assert.ThrowsAsync<NoNodeException>(() => _client.GetChildrenAsync(_root + "/nothing"));
        await _client.SyncAsync(_root + "/r");
    }

    [Fact]
    public async Task Multi_is_all_or_nothing_with_per_op_results()
    {
        await _client.CreateAsync(_root + "/m", "0"u8.ToArray());

        var failure = await Assert.ThrowsAsync<NoNodeException>(() => _client.MultiAsync(
        [
            Op.Check(_root + "/m", 0),
            Op.Create(_root + "/m/new", default),
            Op.Delete(_root + "/m/missing"),
            Op.SetData(_root + "/m", "1"u8.ToArray()),
        ]));

        Assert.Equal(_root + "/m/missing", failure.Path);
        Assert.Equal(
            [KeeperErrorCode.Ok, KeeperErrorCode.Ok, KeeperErrorCode.NoNode, KeeperErrorCode.RuntimeInconsistency],
            failure.MultiResults!.Select(r => ((ErrorResult)r).Code));
        Assert.Null(await _client.ExistsAsync(_root + "/m/new"));
        Assert.Equal("0"u8.ToArray(), (await _client.GetDataAsync(_root + "/m")).Data);

        IReadOnlyList<OpResult> results = await _client.MultiAsync(
        [
            Op.Check(_root + "/m", 0),
            Op.Create(_root + "/m/seq-", "x"u8.ToArray(), CreateMode.PersistentSequential),
            Op.SetData(_root + "/m", "1"u8.ToArray(), version: 0),
            Op.Create(_root + "/m/tmp", default),
            Op.Delete(_root + "/m/tmp"),
        ]);

        Assert.IsType<CheckResult>(results[0]);
        Assert.Matches($"^{_root}/m/seq-\\d{{10}}$", Assert.IsType<CreateResult>(results[1]).Path);
        Assert.Equal(1, Assert.IsType<SetDataResult>(results[2]).Stat.Version);
        Assert.IsType<CreateResult>(results[3]);
        Assert.IsType<DeleteResult>(results[4]);
        // Counter 0: the failed transaction left no trace, not even in the parent's cversion.
        Assert.Equal(["seq-0000000000"], (await _client.GetChildrenAsync(_root + "/m")).Children);
        await Assert.ThrowsAsync<BadVersionException>(() => _client.MultiAsync([Op.Check(_root + "/m", 0)]));
    }

    [Fact]
    public async Task One_shot_watches_fire_once()
    {
        await _client.CreateAsync(_root + "/w", default);
        WatchedResult<NodeData> data = await _client.GetDataAndWatchAsync(_root + "/w");
        WatchedResult<NodeChildren> children = await _client.GetChildrenAndWatchAsync(_root + "/w");
        WatchedResult<Stat?> created = await _client.ExistsAndWatchAsync(_root + "/later");
        Assert.Null(created.Value);

        await _client.SetDataAsync(_root + "/w", "1"u8.ToArray());
        await _client.CreateAsync(_root + "/w/c", default);
        await _client.CreateAsync(_root + "/later", default);

        Assert.Equal(new WatchedEvent(WatchEventType.NodeDataChanged, _root + "/w"), await data.Watch.Within());
        Assert.Equal(new WatchedEvent(WatchEventType.NodeChildrenChanged, _root + "/w"), await children.Watch.Within());
        Assert.Equal(new WatchedEvent(WatchEventType.NodeCreated, _root + "/later"), await created.Watch.Within());

        // Fired once: a new watch sees only the next change.
        WatchedResult<NodeData> again = await _client.GetDataAndWatchAsync(_root + "/w");
        Assert.False(again.Watch.IsCompleted);
        await _client.DeleteAsync(_root + "/w/c");
        await _client.DeleteAsync(_root + "/w");
        Assert.Equal(new WatchedEvent(WatchEventType.NodeDeleted, _root + "/w"), await again.Watch.Within());
    }

    [Fact]
    public async Task Persistent_recursive_watch_delivers_every_change_below_the_path_in_order()
    {
        await using PersistentWatch watch = await _client.AddWatchAsync(_root + "/tree", AddWatchMode.PersistentRecursive);

        await _client.CreateAsync(_root + "/tree", default);
        await _client.CreateAsync(_root + "/tree/a", default);
        await _client.CreateAsync(_root + "/tree/a/b", default);
        await _client.SetDataAsync(_root + "/tree/a/b", "x"u8.ToArray());
        await _client.SetDataAsync(_root + "/tree", "y"u8.ToArray());
        await _client.DeleteAsync(_root + "/tree/a/b");
        await _client.CreateAsync(_root + "/outside", default);
        await _client.CreateAsync(_root + "/treeish", default);

        // The notification precedes the reply of the change that caused it, so every event is already here.
        var events = new List<WatchedEvent>();
        while (watch.Events.TryRead(out WatchedEvent? e))
        {
            events.Add(e);
        }

        Assert.Equal(
            [
                new WatchedEvent(WatchEventType.NodeCreated, _root + "/tree"),
                new WatchedEvent(WatchEventType.NodeCreated, _root + "/tree/a"),
                new WatchedEvent(WatchEventType.NodeCreated, _root + "/tree/a/b"),
                new WatchedEvent(WatchEventType.NodeDataChanged, _root + "/tree/a/b"),
                new WatchedEvent(WatchEventType.NodeDataChanged, _root + "/tree"),
                new WatchedEvent(WatchEventType.NodeDeleted, _root + "/tree/a/b"),
            ],
            events);
    }

    [Fact]
    public async Task Inline_watch_events_and_read_thread_reads_are_handled_on_the_read_thread_in_order()
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<(string What, string? Thread)>();
        var read = new List<Task>();
        await using PersistentWatch watch = await _client.AddInlineWatchAsync(_root + "/inline", AddWatchMode.PersistentRecursive, e =>
        {
            seen.Enqueue((e.Type + " " + e.Path, Thread.CurrentThread.Name));
            if (e.Type == WatchEventType.NodeCreated)
            {
                read.Add(ReadAsync(e.Path));
            }
        }, CancellationToken.None);

        await _client.CreateAsync(_root + "/inline", "0"u8.ToArray());
        await _client.CreateAsync(_root + "/inline/a", "1"u8.ToArray());
        await _client.SetDataAsync(_root + "/inline/a", "2"u8.ToArray());
        await Task.WhenAll(read).WaitAsync(Deadline);

        Assert.Equal(
            ["NodeCreated " + _root + "/inline", "read 0", "NodeCreated " + _root + "/inline/a", "read 1", "NodeDataChanged " + _root + "/inline/a"],
            seen.Select(s => s.What));
        Assert.All(seen, s => Assert.StartsWith("TypedCache.ZooKeeper ", s.Thread, StringComparison.Ordinal));
        Assert.False(watch.Events.TryRead(out _));

        async Task ReadAsync(string path)
        {
            NodeData node = await _client.GetDataOnReadThreadAsync(path).ConfigureAwait(false);
            seen.Enqueue(("read " + Encoding.ASCII.GetString(node.Data), Thread.CurrentThread.Name));
        }
    }

    [Fact]
    public async Task Persistent_watch_stays_armed_and_is_removed_on_dispose()
    {
        await _client.CreateAsync(_root + "/pw", default);
        PersistentWatch watch = await _client.AddWatchAsync(_root + "/pw", AddWatchMode.Persistent);

        await _client.SetDataAsync(_root + "/pw", "1"u8.ToArray());
        await _client.SetDataAsync(_root + "/pw", "2"u8.ToArray());
        await _client.CreateAsync(_root + "/pw/child", default);

        Assert.Equal(new WatchedEvent(WatchEventType.NodeDataChanged, _root + "/pw"), await watch.Events.NextAsync());
        Assert.Equal(new WatchedEvent(WatchEventType.NodeDataChanged, _root + "/pw"), await watch.Events.NextAsync());
        Assert.Equal(new WatchedEvent(WatchEventType.NodeChildrenChanged, _root + "/pw"), await watch.Events.NextAsync());

        await watch.DisposeAsync();

        await watch.Events.Completion.WaitAsync(Deadline);
        await Assert.ThrowsAsync<NoWatcherException>(() => _client.RemoveWatchesAsync(_root + "/pw", WatcherType.Any));
    }

    [Fact]
    public async Task RemoveWatches_removes_server_and_local_watches()
    {
        await _client.CreateAsync(_root + "/rw", default);
        WatchedResult<NodeData> data = await _client.GetDataAndWatchAsync(_root + "/rw");
        WatchedResult<NodeChildren> children = await _client.GetChildrenAndWatchAsync(_root + "/rw");

        await _client.RemoveWatchesAsync(_root + "/rw", WatcherType.Data);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => data.Watch.Within());
        Assert.False(children.Watch.IsCompleted);
        await Assert.ThrowsAsync<NoWatcherException>(() => _client.RemoveWatchesAsync(_root + "/rw", WatcherType.Data));
        await _client.CreateAsync(_root + "/rw/c", default);
        Assert.Equal(WatchEventType.NodeChildrenChanged, (await children.Watch.Within()).Type);
    }

    [Fact]
    public async Task RemoveWatch_removes_one_watch_and_the_server_watch_only_when_it_was_the_last()
    {
        await _client.CreateAsync(_root + "/shared", default);
        WatchedResult<NodeData> first = await _client.GetDataAndWatchAsync(_root + "/shared");
        WatchedResult<Stat?> second = await _client.ExistsAndWatchAsync(_root + "/shared");

        await _client.RemoveWatchAsync(_root + "/shared", first.Watch);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.Watch.Within());
        Assert.False(second.Watch.IsCompleted);
        await _client.SetDataAsync(_root + "/shared", "x"u8.ToArray());
        Assert.Equal(WatchEventType.NodeDataChanged, (await second.Watch.Within()).Type);

        await _client.CreateAsync(_root + "/alone", default);
        WatchedResult<NodeData> alone = await _client.GetDataAndWatchAsync(_root + "/alone");
        await _client.RemoveWatchAsync(_root + "/alone", alone.Watch);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => alone.Watch.Within());
        await Assert.ThrowsAsync<NoWatcherException>(() => _client.RemoveWatchesAsync(_root + "/alone", WatcherType.Data));
    }

    [Fact]
    public async Task Digest_auth_and_acls()
    {
        await using ZooKeeperClient stranger = await fixture.ConnectAsync();
        await _client.AddDigestAuthAsync("user", "secret");
        await _client.CreateAsync(_root + "/secret", "s"u8.ToArray(), acl: [Acl.Digest("user", "secret", Permissions.All)]);
        await _client.CreateAsync(_root + "/mine", default, acl: Acl.CreatorAll);

        await Assert.ThrowsAsync<NoAuthException>(() => stranger.GetDataAsync(_root + "/secret"));
        Assert.Equal("s"u8.ToArray(), (await _client.GetDataAsync(_root + "/secret")).Data);
        NodeAcl mine = await _client.GetAclAsync(_root + "/mine");
        Assert.Equal([Acl.Digest("user", "secret", Permissions.All)], mine.Acl);

        await Assert.ThrowsAsync<BadVersionException>(() => _client.SetAclAsync(_root + "/secret", Acl.ReadUnsafe, aclVersion: 4));
        Stat stat = await _client.SetAclAsync(_root + "/secret", Acl.ReadUnsafe, aclVersion: 0);
        Assert.Equal(1, stat.Aversion);
        Assert.Equal("s"u8.ToArray(), (await stranger.GetDataAsync(_root + "/secret")).Data);
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.SetDataAsync(_root + "/secret", default));
        await Assert.ThrowsAsync<InvalidAclException>(() => stranger.CreateAsync(_root + "/creator", default, acl: Acl.CreatorAll));
    }

    [Fact]
    public async Task Rejected_auth_stops_the_client_in_AuthFailed()
    {
        await using ZooKeeperClient client = await fixture.ConnectAsync();
        StateRecorder states = client.RecordStates();

        await Assert.ThrowsAsync<AuthFailedException>(() => client.AddAuthAsync("no-such-scheme", "x"u8.ToArray()).WaitAsync(Deadline));

        await states.WaitForAsync(ConnectionState.AuthFailed);
        await Assert.ThrowsAsync<AuthFailedException>(() => client.ExistsAsync("/"));
    }

    [Fact]
    public async Task Bad_input_is_refused_before_anything_is_sent()
    {
        long session = _client.SessionId;

        Assert.Throws<ArgumentException>(() => { _ = _client.GetDataAsync("no-slash"); });
        Assert.Throws<ArgumentException>(() => { _ = _client.GetDataAsync(_root + "/trailing/"); });
        Assert.Throws<ArgumentException>(() => { _ = _client.CreateAsync(_root + "/a//b", default); });
        var tooBig = Assert.Throws<ArgumentException>(() => { _ = _client.CreateAsync(_root + "/big", new byte[1024 * 1024 + 1]); });
        Assert.Contains("1,048,575", tooBig.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => { _ = _client.SetDataAsync(_root, new byte[1_048_570]); });
        Assert.Throws<ArgumentException>(() => { _ = _client.CreateAsync(_root + "/ttl", default, CreateMode.PersistentWithTtl); });
        Assert.Throws<ArgumentException>(() => { _ = _client.CreateAsync(_root + "/e", default, acl: []); });

        // The connection was never touched: same session, nothing lost, and near-limit data round-trips.
        byte[] large = new byte[1_000_000];
        Random.Shared.NextBytes(large);
        await _client.CreateAsync(_root + "/large", large);
        Assert.Equal(large, (await _client.GetDataAsync(_root + "/large")).Data);
        Assert.Equal(session, _client.SessionId);
        Assert.Equal(ConnectionState.Connected, _client.State);
    }

    [Fact]
    public async Task Chroot_maps_client_paths_to_the_subtree()
    {
        await _client.CreateAsync(_root + "/app", default);
        await using ZooKeeperClient rooted = await fixture.ConnectAsync(fixture.Ensemble.ConnectString + _root + "/app");
        await using PersistentWatch watch = await rooted.AddWatchAsync("/", AddWatchMode.PersistentRecursive);

        CreatedNode created = await rooted.CreateAsync("/seq-", "c"u8.ToArray(), CreateMode.PersistentSequential);
        IReadOnlyList<OpResult> results = await rooted.MultiAsync([Op.Create("/in-multi", default)]);

        Assert.Matches(@"^/seq-\d{10}$", created.Path);
        Assert.Equal(new CreateResult("/in-multi"), Assert.Single(results));
        Assert.Equal("c"u8.ToArray(), (await _client.GetDataAsync(_root + "/app" + created.Path)).Data);
        Assert.Equal(new WatchedEvent(WatchEventType.NodeCreated, created.Path), await watch.Events.NextAsync());
        Assert.Equal(2, (await rooted.GetChildrenAsync("/")).Children.Count);
    }
}
