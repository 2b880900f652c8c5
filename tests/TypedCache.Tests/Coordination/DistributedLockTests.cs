using System.Diagnostics;
using System.Text.RegularExpressions;
using TypedCache.Coordination;
using TypedCache.Testing;
using TypedCache.ZooKeeper;

namespace TypedCache.Tests.Coordination;

[Collection(ZooKeeperCollection.Name)]
public sealed partial class DistributedLockTests(ZooKeeperFixture fixture) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("typedcache-lock-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Eight_contenders_in_two_processes_never_overlap()
    {
        string root = ZooKeeperFixture.NewRoot();
        string counter = Path.Combine(_directory, "counter");
        string marker = Path.Combine(_directory, "in-use");
        string[] arguments =
        [
            "--zookeeper", fixture.Ensemble.ConnectString, "--root", root, "--lock", root + "/locks/Counter/shared",
            "--contenders", "4", "--iterations", "200", "--counter", counter, "--marker", marker,
        ];

        using var first = TestWorkerProcess.Start("lock-contend", arguments);
        using var second = TestWorkerProcess.Start("lock-contend", arguments);
        Assert.NotEqual(first.ProcessId, second.ProcessId);
        await first.WaitForSuccessAsync(TimeSpan.FromSeconds(120));
        await second.WaitForSuccessAsync(TimeSpan.FromSeconds(120));

        Assert.Equal("1600", (await File.ReadAllTextAsync(counter)).Split(' ')[0]);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task Nodes_use_kazoo_names_and_release_deletes_them()
    {
        CoordinationRoot root = await fixture.OpenAsync(ZooKeeperFixture.NewRoot());
        string directory = root.LockPath("Product", "42");

        LockHandle held = await DistributedLock.AcquireAsync(root, directory, TimeSpan.FromSeconds(5), "me", CancellationToken.None);
        Assert.Matches(KazooLockName(), held.NodePath[(directory.Length + 1)..]);
        Assert.True(held.IsHeld);
        Assert.Equal("me", System.Text.Encoding.UTF8.GetString((await root.Client.GetDataAsync(held.NodePath)).Data));

        await held.DisposeAsync();
        Assert.False(held.IsHeld);
        Assert.Empty((await root.Client.GetChildrenAsync(directory)).Children);
        Assert.False(held.LockLost.IsCancellationRequested);

        await using LockHandle next = await DistributedLock.AcquireAsync(root, directory, TimeSpan.FromSeconds(5), null, CancellationToken.None);
        Assert.True(next.FencingToken > held.FencingToken);
        Assert.True(next.Sequence > held.Sequence);
    }

    [Fact]
    public async Task A_lock_node_deleted_by_someone_else_signals_LockLost_but_a_data_change_does_not()
    {
        CoordinationRoot root = await fixture.OpenAsync(ZooKeeperFixture.NewRoot());
        ZooKeeperClient admin = await fixture.ConnectAsync();
        LockHandle held = await DistributedLock.AcquireAsync(root, root.LockPath("Product", "5"), TimeSpan.FromSeconds(5), null, CancellationToken.None);

        // Each change fires (and so removes) the server's watch before SetData returns; the watch reappears only once
        // the handle's monitor has taken the event and read the node again, still holding the lock.
        for (int change = 1; change <= 2; change++)
        {
            await admin.SetDataAsync(held.NodePath, new[] { (byte)change });
            await Eventually.HoldsAsync(ct => ServerWatchesAsync(held.NodePath, ct), $"the monitor's watch set again after change {change}");
            Assert.True(held.IsHeld);
            Assert.False(held.LockLost.IsCancellationRequested);
        }

        await admin.DeleteAsync(held.NodePath);
        await Eventually.HoldsAsync(() => held.LockLost.IsCancellationRequested, "LockLost");
        Assert.False(held.IsHeld);
        await held.DisposeAsync();
    }

    /// <summary>True when the server lists a data watch on <paramref name="path"/> (four-letter word <c>wchp</c>).</summary>
    private async Task<bool> ServerWatchesAsync(string path, CancellationToken ct)
    {
        string? watches = await LoopbackClient.TryExchangeAsync(fixture.Ensemble.ClientPort(0), "wchp", _ => false, ct);
        return watches is not null && watches.Split('\n').Any(line => line.Trim() == path);
    }

    [Fact]
    public async Task A_create_whose_reply_is_lost_is_found_by_its_guid_not_made_twice()
    {
        (FaultyRelay relay, CoordinationRoot contender, CoordinationRoot holderRoot) = await fixture.OpenRelayedAndDirectAsync();
        string directory = holderRoot.LockPath("Product", "9");
        LockHandle held = await DistributedLock.AcquireAsync(holderRoot, directory, TimeSpan.FromSeconds(5), null, CancellationToken.None);
        long session = contender.Client.SessionId;

        relay.ToClient.Paused = true;
        Task<LockHandle> waiting = DistributedLock.AcquireAsync(contender, directory, TimeSpan.FromSeconds(30), null, CancellationToken.None);
        await Eventually.HoldsAsync(async ct => (await holderRoot.Client.GetChildrenAsync(directory, ct)).Children.Count == 2, "the contender's node created");
        relay.DropConnections();
        relay.ToClient.Paused = false;
        await Eventually.HoldsAsync(() => contender.Client.State == ConnectionState.Reconnected, "the contender reconnected");

        await held.DisposeAsync();
        await using LockHandle next = await waiting.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(session, contender.Client.SessionId);
        Assert.Equal([next.NodePath[(directory.Length + 1)..]], (await holderRoot.Client.GetChildrenAsync(directory)).Children);
    }

    [Fact]
    public async Task Timeout_and_cancellation_fail_clearly_and_leave_no_node()
    {
        CoordinationRoot holderRoot = await fixture.OpenAsync(ZooKeeperFixture.NewRoot());
        CoordinationRoot waiterRoot = await CoordinationRoot.OpenAsync(await fixture.ConnectAsync(), holderRoot.Root);
        string directory = holderRoot.LockPath("Stock", "7:SKU/1");
        await using LockHandle held = await DistributedLock.AcquireAsync(holderRoot, directory, TimeSpan.FromSeconds(5), null, CancellationToken.None);

        var timedOut = await Assert.ThrowsAsync<LockTimeoutException>(
            () => DistributedLock.AcquireAsync(waiterRoot, directory, TimeSpan.FromMilliseconds(300), null, CancellationToken.None));
        Assert.Equal(directory, timedOut.LockPath);
        Assert.Contains(directory, timedOut.Message, StringComparison.Ordinal);

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => DistributedLock.AcquireAsync(waiterRoot, directory, Timeout.InfiniteTimeSpan, null, cancel.Token));

        Assert.Equal([held.NodePath[(directory.Length + 1)..]], (await holderRoot.Client.GetChildrenAsync(directory)).Children);
    }

    [Fact]
    public async Task Expired_holder_session_signals_LockLost_and_another_contender_acquires()
    {
        string rootPath = ZooKeeperFixture.NewRoot();
        FaultyRelay relay = await fixture.RelayAsync();
        CoordinationRoot holderRoot = await fixture.OpenAsync(rootPath, connectString: relay.Endpoint, sessionTimeout: TimeSpan.FromSeconds(2));
        CoordinationRoot otherRoot = await fixture.OpenAsync(rootPath);
        string directory = holderRoot.LockPath("Product", "1");
        LockHandle held = await DistributedLock.AcquireAsync(holderRoot, directory, TimeSpan.FromSeconds(5), null, CancellationToken.None);
        Task<LockHandle> waiting = DistributedLock.AcquireAsync(otherRoot, directory, TimeSpan.FromSeconds(30), null, CancellationToken.None);
        await Eventually.HoldsAsync(async ct => (await otherRoot.Client.GetChildrenAsync(directory, ct)).Children.Count == 2, "the second contender queued");
        Assert.False(waiting.IsCompleted);

        relay.ToServer.Paused = true;
        relay.ToClient.Paused = true;

        await Eventually.HoldsAsync(() => held.LockLost.IsCancellationRequested, "LockLost");
        Assert.False(held.IsHeld);
        await using LockHandle next = await waiting.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(next.FencingToken > held.FencingToken);
        relay.ToServer.Paused = false;
        relay.ToClient.Paused = false;
        await held.DisposeAsync();
    }

    [Fact]
    public async Task Mixed_with_kazoo_Lock_on_the_same_path_there_is_never_a_second_holder()
    {
        string root = ZooKeeperFixture.NewRoot();
        string directory = root + "/locks/Mixed/shared";
        string counter = Path.Combine(_directory, "counter");
        string marker = Path.Combine(_directory, "in-use");
        using var worker = TestWorkerProcess.Start(
            "lock-contend", "--zookeeper", fixture.Ensemble.ConnectString, "--root", root, "--lock", directory,
            "--contenders", "2", "--iterations", "30", "--counter", counter, "--marker", marker);
        using ChildProcess kazoo = ChildProcess.Start("/usr/bin/python3", ["-c", KazooContender, fixture.Ensemble.ConnectString, directory, "2", "30", counter, marker]);

        await worker.WaitForSuccessAsync(TimeSpan.FromSeconds(60));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await kazoo.WaitForExitAsync(deadline.Token);
        Assert.Contains("kazoo: ok", kazoo.Output, StringComparison.Ordinal);
        Assert.Equal("120", (await File.ReadAllTextAsync(counter)).Split(' ')[0]);
    }

    // kazoo threads run the worker's critical section: exclusive marker, counter "count token", token = czxid.
    private const string KazooContender = """
        import os, sys, threading
        from kazoo.client import KazooClient
        hosts, path, threads, iterations, counter, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
        errors = []
        def contend():
            zk = KazooClient(hosts=hosts)
            zk.start()
            try:
                for _ in range(iterations):
                    lock = zk.Lock(path, "kazoo")
                    with lock:
                        token = zk.exists(path + "/" + lock.node).czxid
                        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                        count, last = (open(counter).read().split(" ") if os.path.exists(counter) else ["0", "0"])
                        if token <= int(last):
                            raise Exception("fencing token %d not above %s" % (token, last))
                        with open(counter, "w") as f:
                            f.write("%d %d" % (int(count) + 1, token))
                        os.remove(marker)
            except Exception as e:
                errors.append(repr(e))
            finally:
                zk.stop()
        workers = [threading.Thread(target=contend) for _ in range(threads)]
        for t in workers: t.start()
        for t in workers: t.join()
        print("kazoo: failed: " + "; ".join(errors) if errors else "kazoo: ok")
        """;

    [GeneratedRegex("^[0-9a-f]{32}__lock__[0-9]{10}$")]
    private static partial Regex KazooLockName();
}
