using System.Diagnostics;
using TypedCache.Cluster;
using TypedCache.Coordination;
using TypedCache.Testing;
using TypedCache.Tests.Coordination;
using TypedCache.ZooKeeper;
using Xunit.Abstractions;
using static TypedCache.Tests.Cluster.ClusterTestSupport;

namespace TypedCache.Tests.Cluster;

[Collection(ZooKeeperCollection.Name)]
public sealed class ClusterMembershipTests(ZooKeeperFixture fixture, ITestOutputHelper output)
{
    /// <summary>Registrar settings that notice a dead memcached within a few hundred milliseconds; shared by the proxy's membership tests.</summary>
    internal static readonly MemcachedRegistrarOptions FastRegistrar = new()
    {
        CheckInterval = TimeSpan.FromMilliseconds(100),
        FailureThreshold = 2,
    };

    [Fact]
    public async Task A_registrar_adds_its_node_to_every_clients_ring_and_a_killed_memcached_leaves_them()
    {
        await using var servers = await ServerSet.StartAsync(2);
        string root = ZooKeeperFixture.NewRoot();
        await using var first = await MemcachedCluster.StartAsync(await fixture.OpenAsync(root), FastOptions());
        await using var second = await MemcachedCluster.StartAsync(await fixture.OpenAsync(root), FastOptions());
        MemcachedCluster[] clients = [first, second];
        Assert.All(clients, c => Assert.Empty(c.Ring.Nodes));
        Assert.Equal(ReplySource.Unavailable, (await first.GetAsync("any")).Source);

        await using var a = MemcachedRegistrar.Start(await fixture.OpenAsync(root), servers.Nodes[0], FastRegistrar);
        await using var b = MemcachedRegistrar.Start(await fixture.OpenAsync(root), servers.Nodes[1], FastRegistrar);
        var joined = await UntilAsync(() => clients.All(c => c.Ring.LiveCount == 2), "both nodes to join both rings");
        output.WriteLine($"registrars to both rings: {joined.TotalMilliseconds:0} ms");
        Assert.All(clients, c => Assert.Equal(servers.Nodes.OrderBy(n => n.Endpoint, StringComparer.Ordinal), c.Ring.Nodes));

        string prefix = Prefix();
        string key = OneKeyPerNode(first.Ring, prefix)[0];
        await UntilConnectedAsync(first, [key]);
        Assert.Equal(ReplySource.Node, (await first.SetAsync(key, Bytes("shared"))).Source);
        await UntilConnectedAsync(second, [key]);
        var read = await second.GetAsync(key);
        using (read.Value)
            Assert.Equal("shared", Text(read.Value.Value));

        // Each ring swap is timed as it is published, so the figure does not depend on the polling interval.
        string killed = servers[0].Endpoint;
        var swapped = new long[clients.Length];
        for (int i = 0; i < clients.Length; i++)
        {
            int client = i;
            clients[i].RingChanged += (_, ring) =>
            {
                if (ring.Nodes.Length == 1)
                    Interlocked.CompareExchange(ref swapped[client], Stopwatch.GetTimestamp(), 0);
            };
        }
        var killedAt = Stopwatch.GetTimestamp();
        await servers[0].KillAsync();
        await UntilAsync(() => clients.All(c => c.Ring.Nodes.Length == 1), "the killed node to leave both rings");
        var left = TimeSpan.FromTicks(swapped.Max(t => Stopwatch.GetElapsedTime(killedAt, t).Ticks));
        output.WriteLine($"memcached killed -> node out of both rings: {left.TotalMilliseconds:0} ms (registrar checks every {FastRegistrar.CheckInterval.TotalMilliseconds:0} ms, {FastRegistrar.FailureThreshold} failures)");
        Assert.All(swapped, t => Assert.NotEqual(0, t));
        Assert.All(clients, c => Assert.DoesNotContain(c.Ring.Nodes, n => n.Endpoint == killed));
        Assert.False(a.IsRegistered);
        Assert.True(b.IsRegistered);

        await servers[0].StartAsync();
        var back = await UntilAsync(() => clients.All(c => c.Ring.Nodes.Length == 2), "the restarted node to rejoin both rings");
        output.WriteLine($"memcached restarted -> node back in both rings: {back.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task With_zookeeper_stopped_the_ring_stays_and_commands_keep_working()
    {
        await using var servers = await ServerSet.StartAsync(2);
        await using var ensemble = await ZooKeeperEnsemble.StartAsync(1);
        string root = ZooKeeperFixture.NewRoot();
        await using var registrarClient = await ConnectAsync(ensemble);
        await using var clusterClient = await ConnectAsync(ensemble);
        var registrarRoot = await CoordinationRoot.OpenAsync(registrarClient, root);
        await using var a = MemcachedRegistrar.Start(registrarRoot, servers.Nodes[0], FastRegistrar);
        await using var b = MemcachedRegistrar.Start(registrarRoot, servers.Nodes[1], FastRegistrar);
        await using var cluster = await MemcachedCluster.StartAsync(await CoordinationRoot.OpenAsync(clusterClient, root), FastOptions());
        await UntilAsync(() => cluster.Ring.LiveCount == 2, "both nodes to join");
        var ring = cluster.Ring;
        string prefix = Prefix();
        await UntilConnectedAsync(cluster, OneKeyPerNode(ring, prefix + "probe"));

        await ensemble.StopAsync(0);
        await UntilAsync(() => clusterClient.State == ConnectionState.Lost, "the cluster's ZooKeeper session to be lost");

        for (int i = 0; i < 200; i++)
        {
            string key = prefix + i;
            Assert.Equal(ReplySource.Node, (await cluster.SetAsync(key, Bytes(key))).Source);
            var reply = await cluster.GetAsync(key);
            using (reply.Value)
                Assert.Equal((key, ReplySource.Node), (Text(reply.Value.Value), reply.Source));
        }
        Assert.Same(ring, cluster.Ring);
    }

    private static Task<ZooKeeperClient> ConnectAsync(ZooKeeperEnsemble ensemble) => ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
    {
        ConnectString = ensemble.ConnectString,
        SessionTimeout = TimeSpan.FromSeconds(4),
        ConnectionWaitTimeout = TimeSpan.FromSeconds(1),
    });
}
