using TypedCache.Cluster;
using TypedCache.Memcached;
using TypedCache.Testing;
using static TypedCache.Tests.Cluster.ClusterTestSupport;

namespace TypedCache.Tests.Cluster;

public sealed class MemcachedClusterTests
{
    [Fact]
    public async Task Each_key_is_stored_on_the_node_the_ring_names_and_nowhere_else()
    {
        await using var servers = await ServerSet.StartAsync(3);
        await using var cluster = MemcachedCluster.Create(servers.Nodes, FastOptions());
        string prefix = Prefix();
        var keys = Enumerable.Range(0, 60).Select(i => prefix + "k" + i).ToArray();
        await UntilConnectedAsync(cluster, keys);

        foreach (var key in keys)
        {
            var stored = await cluster.SetAsync(key, Bytes("v-" + key));
            Assert.Equal((MemcachedStatus.Success, ReplySource.Node), (stored.Value.Status, stored.Source));
        }

        var direct = new MemcachedClient[3];
        for (int i = 0; i < 3; i++)
            direct[i] = await MemcachedClient.ConnectAsync(servers[i].Host, servers[i].Port);
        try
        {
            foreach (var key in keys)
            {
                int owner = cluster.Ring.GetNodeIndex(key);
                for (int i = 0; i < 3; i++)
                {
                    using var item = await direct[i].GetAsync(key);
                    Assert.Equal(i == owner, item.Found);
                }
            }
            Assert.All(Enumerable.Range(0, 3), i => Assert.Contains(keys, k => cluster.Ring.GetNodeIndex(k) == i));
        }
        finally
        {
            foreach (var client in direct)
                await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_batch_is_split_per_node_and_merged_in_the_callers_order_with_a_dead_nodes_keys_unavailable()
    {
        await using var servers = await ServerSet.StartAsync(3);
        await using var cluster = MemcachedCluster.Create(servers.Nodes, FastOptions());
        string prefix = Prefix();
        // Shuffled so that neighbouring keys land on different nodes; every fifth key is never stored.
        var keys = Enumerable.Range(0, 300).Select(i => prefix + i).OrderBy(_ => Random.Shared.Next()).ToArray();
        await UntilConnectedAsync(cluster, OneKeyPerNode(cluster.Ring, prefix + "probe"));
        for (int i = 0; i < keys.Length; i++)
        {
            if (i % 5 != 0)
                Assert.True((await cluster.SetAsync(keys[i], Bytes("value of " + keys[i]))).IsAvailable);
        }

        using (var batch = await cluster.GetManyAsync(keys))
        {
            Assert.Equal(keys.Length, batch.Count);
            for (int i = 0; i < keys.Length; i++)
            {
                Assert.Equal(ReplySource.Node, batch.SourceOf(i));
                Assert.Equal(i % 5 != 0, batch[i].Found);
                if (i % 5 != 0)
                    Assert.Equal("value of " + keys[i], Text(batch[i].Value));
            }
        }

        await servers[1].KillAsync();
        using (var batch = await cluster.GetManyAsync(keys))
        {
            for (int i = 0; i < keys.Length; i++)
            {
                bool onDeadNode = cluster.Ring.GetNodeIndex(keys[i]) == 1;
                Assert.Equal(onDeadNode ? ReplySource.Unavailable : ReplySource.Node, batch.SourceOf(i));
                Assert.Equal(!onDeadNode && i % 5 != 0, batch[i].Found);
                if (batch[i].Found)
                    Assert.Equal("value of " + keys[i], Text(batch[i].Value));
            }
        }
    }

    [Fact]
    public async Task Bad_keys_are_refused_before_anything_is_sent()
    {
        await using var servers = await ServerSet.StartAsync(1);
        await using var cluster = MemcachedCluster.Create(servers.Nodes, FastOptions());
        await Assert.ThrowsAsync<ArgumentException>(async () => await cluster.GetAsync("has space"));
        await Assert.ThrowsAsync<ArgumentException>(async () => await cluster.SetAsync(new string('k', 251), Bytes("v")));
        await Assert.ThrowsAsync<ArgumentException>(async () => await cluster.GetManyAsync(["ok", "not ok"]));
        Assert.Throws<ArgumentException>(() => MemcachedCluster.Create(servers.Nodes, new MemcachedClusterOptions { NodeDownPolicy = NodeDownPolicy.Gutter }));
    }

    [Fact]
    public async Task Timeouts_on_a_stalled_node_mark_it_down_and_the_probe_brings_it_back_when_it_answers()
    {
        await using var servers = await ServerSet.StartAsync(2);
        await using var relay = await FaultyRelay.StartAsync(servers[1].Host, servers[1].Port);
        var options = FastOptions();
        options.NodeOptions.OperationTimeout = TimeSpan.FromMilliseconds(200);
        options.NodeOptions.ConnectTimeout = TimeSpan.FromMilliseconds(200);
        var stalled = new RingNode("127.0.0.1", relay.Port);
        await using var cluster = MemcachedCluster.Create([servers.Nodes[0], stalled], options);
        var keys = OneKeyPerNode(cluster.Ring, Prefix());
        await UntilConnectedAsync(cluster, keys);

        relay.ToClient.Paused = true;
        int calls = 0;
        await UntilAsync(async () =>
        {
            calls++;
            var reply = await cluster.GetAsync(keys[1]);
            Assert.Equal(ReplySource.Unavailable, reply.Source);
            return cluster.IsDown(stalled.Endpoint);
        }, "the stalled node to be marked down");
        Assert.InRange(calls, options.FailureThreshold, 50);
        Assert.Equal([stalled.Endpoint], cluster.DownNodes);
        Assert.True((await cluster.SetAsync(keys[0], Bytes("still served"))).IsAvailable);
        Assert.Equal(ReplySource.Unavailable, (await cluster.SetAsync(keys[1], Bytes("dropped"))).Source);

        relay.ToClient.Paused = false;
        await UntilAsync(() => !cluster.IsDown(stalled.Endpoint), "the node to be probed back");
        Assert.Equal(ReplySource.Node, (await cluster.SetAsync(keys[1], Bytes("back"))).Source);
    }

    [Theory]
    [InlineData(NodeDownPolicy.Miss)]
    [InlineData(NodeDownPolicy.Eject)]
    [InlineData(NodeDownPolicy.Gutter)]
    public async Task A_killed_node_under_concurrent_load_never_throws_and_returns_after_restart(NodeDownPolicy policy)
    {
        await using var servers = await ServerSet.StartAsync(3);
        await using var gutterServer = await MemcachedServer.StartAsync();
        var gutter = new RingNode(gutterServer.Host, gutterServer.Port);
        await using var cluster = MemcachedCluster.Create(servers.Nodes, FastOptions(policy, policy == NodeDownPolicy.Gutter ? [gutter] : null));
        var ringBefore = cluster.Ring;
        string prefix = Prefix();
        var keys = Enumerable.Range(0, 600).Select(i => prefix + i).ToArray();
        await UntilConnectedAsync(cluster, OneKeyPerNode(ringBefore, prefix + "probe"));
        foreach (var key in keys)
            Assert.True((await cluster.SetAsync(key, Bytes(key), new MemcachedStoreOptions { Ttl = 300 })).IsAvailable);
        var dead = servers[1];
        string deadEndpoint = dead.Endpoint;

        // Eight workers run mixed commands until the node is down and each has done 300 more (or 4,000 in all).
        var errors = new List<Exception>();
        var down = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.NodeHealthChanged += (_, e) => { if (e.Down) down.TrySetResult(); };
        long operations = 0;
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            int afterDown = 0;
            for (int n = 0; n < 4_000 && afterDown < 300; n++)
            {
                if (down.Task.IsCompleted)
                    afterDown++;
                string key = keys[random.Next(keys.Length)];
                try
                {
                    switch (random.Next(4))
                    {
                        case 0:
                            (await cluster.SetAsync(key, Bytes(key), new MemcachedStoreOptions { Ttl = 300 })).Value.ToString();
                            break;
                        case 1:
                            (await cluster.DeleteAsync(key, new MemcachedDeleteOptions { Invalidate = true, Ttl = 30 })).Value.ToString();
                            break;
                        case 2:
                            using (var batch = await cluster.GetManyAsync([key, keys[random.Next(keys.Length)], keys[random.Next(keys.Length)]]))
                                _ = batch[0].Found;
                            break;
                        default:
                            (await cluster.GetAsync(key, new MemcachedGetOptions { VivifyOnMissTtl = 30 })).Value.Dispose();
                            break;
                    }
                    Interlocked.Increment(ref operations);
                }
                catch (Exception e)
                {
                    lock (errors)
                        errors.Add(e);
                }
            }
        })).ToArray();

        await UntilAsync(() => Interlocked.Read(ref operations) > 500, "load to start");
        await dead.KillAsync();
        await UntilAsync(() => cluster.IsDown(deadEndpoint), "the killed node to be marked down");
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Empty(errors);

        var deadKey = keys.First(k => ringBefore.GetNodeIndex(k) == 1);
        var liveKeys = keys.Where(k => ringBefore.GetNodeIndex(k) != 1).ToArray();
        switch (policy)
        {
            case NodeDownPolicy.Miss:
                Assert.Same(ringBefore, cluster.Ring);
                Assert.False(cluster.IsAvailable(Bytes(deadKey)));
                Assert.Equal(ReplySource.Unavailable, (await cluster.SetAsync(deadKey, Bytes("dropped"))).Source);
                Assert.Equal(ReplySource.Unavailable, (await cluster.GetAsync(deadKey)).Source);
                break;
            case NodeDownPolicy.Eject:
                Assert.False(cluster.Ring.IsLive(1));
                Assert.All(liveKeys, k => Assert.Equal(ringBefore.GetNodeIndex(k), cluster.Ring.GetNodeIndex(k)));
                Assert.All(keys.Except(liveKeys), k => Assert.NotEqual(1, cluster.Ring.GetNodeIndex(k)));
                Assert.Equal(ReplySource.Node, (await cluster.SetAsync(deadKey, Bytes("rehashed"))).Source);
                await AssertReadsAsync(cluster, deadKey, "rehashed", ReplySource.Node);
                break;
            case NodeDownPolicy.Gutter:
                Assert.Same(ringBefore, cluster.Ring);
                Assert.Equal(ReplySource.Gutter, (await cluster.SetAsync(deadKey, Bytes("in the gutter"), new MemcachedStoreOptions { Ttl = 3600 })).Source);
                await AssertReadsAsync(cluster, deadKey, "in the gutter", ReplySource.Gutter);
                await using (var direct = await MemcachedClient.ConnectAsync(gutterServer.Host, gutterServer.Port))
                using (var item = await direct.GetAsync(deadKey))
                    Assert.InRange(item.RemainingTtl, 1, 10);
                break;
        }

        // Nothing else moved: every live node's key still holds its value (or was invalidated or deleted by the load).
        using (var batch = await cluster.GetManyAsync(liveKeys))
        {
            for (int i = 0; i < liveKeys.Length; i++)
            {
                Assert.Equal(ReplySource.Node, batch.SourceOf(i));
                if (batch[i].Found && batch[i].Value.Length > 0)
                    Assert.Equal(liveKeys[i], Text(batch[i].Value));
            }
        }

        await dead.StartAsync();
        await UntilAsync(() => !cluster.IsDown(deadEndpoint), "the restarted node to be probed back");
        Assert.True(cluster.Ring.IsLive(1));
        Assert.Equal(ReplySource.Node, (await cluster.SetAsync(deadKey, Bytes("back"))).Source);
        await AssertReadsAsync(cluster, deadKey, "back", ReplySource.Node);
    }

    private static async Task AssertReadsAsync(MemcachedCluster cluster, string key, string value, ReplySource source)
    {
        var reply = await cluster.GetAsync(key);
        using var item = reply.Value;
        Assert.Equal((value, source), (Text(item.Value), reply.Source));
    }
}
