using System.Net;
using TypedCache.Cluster;
using TypedCache.Proxy;
using TypedCache.Tests.Cluster;
using TypedCache.Tests.Coordination;
using Xunit.Abstractions;

namespace TypedCache.Tests.Proxy;

[Collection(ZooKeeperCollection.Name)]
public sealed class ProxyMembershipTests(ZooKeeperFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_node_registered_in_zookeeper_joins_the_proxys_ring_and_receives_its_keys()
    {
        await using var servers = await ServerSet.StartAsync(3);
        string root = ZooKeeperFixture.NewRoot();
        await using var a = MemcachedRegistrar.Start(await fixture.OpenAsync(root), servers.Nodes[0], ClusterMembershipTests.FastRegistrar);
        await using var b = MemcachedRegistrar.Start(await fixture.OpenAsync(root), servers.Nodes[1], ClusterMembershipTests.FastRegistrar);
        await using var proxy = await MemcachedProxy.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), await fixture.OpenAsync(root), ProxyRig.Fast());
        await ClusterTestSupport.UntilAsync(() => proxy.Topology.Current.Ring.LiveCount == 2, "the two registered nodes to join the proxy's ring");

        await using var c = MemcachedRegistrar.Start(await fixture.OpenAsync(root), servers.Nodes[2], ClusterMembershipTests.FastRegistrar);
        var joined = await ClusterTestSupport.UntilAsync(
            () => proxy.Topology.Current.Ring.LiveCount == 3 && proxy.Topology.Current.Nodes.All(backend => backend.IsUp), "the third node to join and connect");
        output.WriteLine($"registered -> in the proxy's ring and connected: {joined.TotalMilliseconds:0} ms");

        var ring = proxy.Topology.Current.Ring;
        Assert.Equal(servers.Nodes.OrderBy(n => n.Endpoint, StringComparer.Ordinal), ring.Nodes);
        var keys = Enumerable.Range(0, 200).Select(i => ClusterTestSupport.Prefix() + i).ToList();
        await using (var client = await RawConnection.ConnectAsync(proxy.Endpoint.Port))
            Assert.Equal(string.Concat(keys.Select(_ => "STORED\r\n")), await client.ExchangeAsync(string.Concat(keys.Select(k => $"set {k} 0 0 1\r\nv\r\n"))));

        foreach (var server in servers.Servers)
        {
            int index = ring.Nodes.ToList().FindIndex(n => n.Port == server.Port);
            var owned = keys.Where(k => ring.GetNodeIndex(k) == index).Order().ToList();
            Assert.NotEmpty(owned);
            await using var direct = await TextProtocolConnection.ConnectAsync(server.Host, server.Port, CancellationToken.None);
            Assert.Equal(owned, (await direct.HeldAsync(keys, CancellationToken.None)).Order());
        }

        // A node whose memcached dies leaves the ring through its registrar; the proxy follows.
        await servers[2].KillAsync();
        await ClusterTestSupport.UntilAsync(() => proxy.Topology.Current.Ring.Nodes.Length == 2, "the killed node to leave the proxy's ring");
        await using var after = await RawConnection.ConnectAsync(proxy.Endpoint.Port);
        Assert.Equal(string.Concat(keys.Select(_ => "STORED\r\n")), await after.ExchangeAsync(string.Concat(keys.Select(k => $"set {k} 0 0 1\r\nv\r\n"))));
    }
}
