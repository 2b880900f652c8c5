using System.Text.RegularExpressions;
using TypedCache.Cluster;
using TypedCache.Proxy;
using TypedCache.Testing;
using TypedCache.Tests.Cluster;

namespace TypedCache.Tests.Proxy;

/// <summary>The Gutter node-down policy on real memcached servers: a down node's keys go to the gutter server, TTLs capped.</summary>
public sealed partial class ProxyGutterTests
{
    private const int Cap = 30;

    /// <summary>The remaining TTL of <paramref name="key"/> on the server behind <paramref name="direct"/> (-1: never expires).</summary>
    private static async Task<int> TtlOnAsync(RawConnection direct, string key)
    {
        string reply = await direct.ExchangeAsync($"mg {key} t\r\n");
        var match = TtlReply().Match(reply);
        Assert.True(match.Success, $"no TTL in '{reply}'");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^HD t(-?\d+)\r\n$")]
    private static partial Regex TtlReply();

    private static async Task<(ProxyRig Rig, MemcachedServer Gutter)> StartAsync()
    {
        var gutter = await MemcachedServer.StartAsync();
        try
        {
            var options = ProxyRig.Fast(NodeDownPolicy.Gutter);
            options.GutterNodes = [new RingNode(gutter.Host, gutter.Port)];
            options.GutterTtlSeconds = Cap;
            var rig = await ProxyRig.StartAsync(nodes: 2, options);
            await ClusterTestSupport.UntilAsync(() => rig.Proxy.Topology.GutterPool!.Nodes.All(b => b.IsUp), "the gutter server to connect");
            return (rig, gutter);
        }
        catch
        {
            await gutter.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task A_down_nodes_keys_go_to_the_gutter_with_capped_ttls_and_back_to_the_node_when_it_returns()
    {
        var (rig, gutterServer) = await StartAsync();
        await using var gutter = gutterServer;
        await using var _ = rig;
        var keys = ClusterTestSupport.OneKeyPerNode(rig.Proxy.Topology.Current.Ring, ClusterTestSupport.Prefix());
        string down = keys[0], up = keys[1];
        string downMeta = ClusterTestSupport.OneKeyPerNode(rig.Proxy.Topology.Current.Ring, ClusterTestSupport.Prefix())[0];
        await using var client = await rig.ConnectAsync();
        await using var onGutter = await RawConnection.ConnectAsync(gutter.Port);
        Assert.Equal("STORED\r\nSTORED\r\n", await client.ExchangeAsync($"set {down} 0 0 2\r\nv1\r\nset {up} 0 0 2\r\nu1\r\n"));
        Assert.Equal("EN\r\nEN\r\n", await onGutter.ExchangeAsync($"mg {down}\r\nmg {up}\r\n"));

        await rig.Servers[0].KillAsync();
        await ClusterTestSupport.UntilAsync(() => !rig.Proxy.Topology.Current.Nodes[0].IsUp, "the proxy to see the node down");

        // The down node's keys read and write the gutter server, with their TTLs capped; the live node's stay put.
        Assert.Equal("END\r\n", await client.ExchangeAsync($"get {down}\r\n"));
        Assert.Equal($"STORED\r\nVALUE {down} 0 2\r\nv2\r\nEND\r\n", await client.ExchangeAsync($"set {down} 0 0 2\r\nv2\r\nget {down}\r\n"));
        Assert.InRange(await TtlOnAsync(onGutter, down), 1, Cap);
        Assert.Equal($"STORED\r\nTOUCHED\r\nVALUE {down} 0 2\r\nv2\r\nEND\r\n",
            await client.ExchangeAsync($"set {down} 0 99999 2\r\nv2\r\ntouch {down} 0\r\ngat 0 {down}\r\n"));
        Assert.InRange(await TtlOnAsync(onGutter, down), 1, Cap);
        Assert.Equal("HD\r\n", await client.ExchangeAsync($"ms {downMeta} 2\r\nmm\r\n"));
        Assert.InRange(await TtlOnAsync(onGutter, downMeta), 1, Cap);
        Assert.Equal("VA 2\r\nmm\r\n", await client.ExchangeAsync($"mg {downMeta} v T0\r\n"));
        Assert.InRange(await TtlOnAsync(onGutter, downMeta), 1, Cap);
        Assert.Equal($"VALUE {down} 0 2\r\nv2\r\nVALUE {up} 0 2\r\nu1\r\nEND\r\n", await client.ExchangeAsync($"get {down} {up}\r\n"));
        Assert.Equal("EN\r\n", await onGutter.ExchangeAsync($"mg {up}\r\n"));
        Assert.Equal("DELETED\r\nHD\r\n", await client.ExchangeAsync($"delete {down}\r\nmd {downMeta}\r\n"));
        Assert.Equal("EN\r\nEN\r\n", await onGutter.ExchangeAsync($"mg {down}\r\nmg {downMeta}\r\n"));
        Assert.Equal("STORED\r\n", await client.ExchangeAsync($"set {down} 0 0 2\r\nv3\r\n"));

        // Back up: the node answers for its keys again (restarted empty), not the gutter server.
        await rig.Servers[0].StartAsync();
        await ClusterTestSupport.UntilAsync(() => rig.Proxy.Topology.Current.Nodes[0].IsUp, "the restarted node to reconnect");
        Assert.Equal("END\r\n", await client.ExchangeAsync($"get {down}\r\n"));
        Assert.Equal("STORED\r\n", await client.ExchangeAsync($"set {down} 0 0 2\r\nv4\r\n"));
        await using var onNode = await RawConnection.ConnectAsync(rig.Servers[0].Port);
        Assert.Equal($"VALUE {down} 0 2\r\nv4\r\nEND\r\n", await onNode.ExchangeAsync($"get {down}\r\n"));
        Assert.Equal($"VA 2\r\nv3\r\n", await onGutter.ExchangeAsync($"mg {down} v\r\n"));
    }

    [Fact]
    public async Task A_delete_while_the_node_is_up_also_deletes_the_gutter_copy()
    {
        var (rig, gutterServer) = await StartAsync();
        await using var gutter = gutterServer;
        await using var _ = rig;
        string key = ClusterTestSupport.OneKeyPerNode(rig.Proxy.Topology.Current.Ring, ClusterTestSupport.Prefix())[0];
        await using var client = await rig.ConnectAsync();
        await using var onGutter = await RawConnection.ConnectAsync(gutter.Port);
        Assert.Equal("STORED\r\nHD\r\n", await client.ExchangeAsync($"set {key} 0 0 1\r\nn\r\nms {key}m 1\r\nn\r\n"));
        Assert.Equal("HD\r\nHD\r\n", await onGutter.ExchangeAsync($"ms {key} 1 T{Cap}\r\ng\r\nms {key}m 1 T{Cap}\r\ng\r\n"));

        Assert.Equal("DELETED\r\nHD\r\n", await client.ExchangeAsync($"delete {key}\r\nmd {key}m\r\n"));
        await ClusterTestSupport.UntilAsync(async () => await onGutter.ExchangeAsync($"mg {key}\r\nmg {key}m\r\n") == "EN\r\nEN\r\n", "the gutter copies to be deleted");
        Assert.Equal("NOT_FOUND\r\n", await client.ExchangeAsync($"delete {key}\r\n"));
    }

    [Fact]
    public void The_gutter_policy_needs_gutter_servers()
    {
        var options = new ProxyOptions { NodeDownPolicy = NodeDownPolicy.Gutter };
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal("GutterNodes", e.ParamName);
        options.GutterNodes = [new RingNode("127.0.0.1", 11211)];
        options.GutterTtlSeconds = 0;
        Assert.Equal("GutterTtlSeconds", Assert.Throws<ArgumentOutOfRangeException>(options.Validate).ParamName);
    }
}
