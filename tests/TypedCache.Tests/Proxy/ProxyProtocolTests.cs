using System.Text.RegularExpressions;
using TypedCache.Testing;
using TypedCache.Tests.Cluster;
using Xunit.Abstractions;

namespace TypedCache.Tests.Proxy;

/// <summary>The proxy over 3 real memcached speaks the protocol as one memcached does, to peer clients unchanged.</summary>
public sealed partial class ProxyProtocolTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ToolDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_script_of_every_command_gets_the_bytes_one_memcached_gives()
    {
        await using var rig = await ProxyRig.StartAsync();
        await using var single = await MemcachedServer.StartAsync();
        string p = ClusterTestSupport.Prefix();
        string script = string.Concat(
            $"set {p}k1 5 0 3\r\nabc\r\n",
            $"set {p}k2 0 0 3 noreply\r\nxyz\r\n",
            $"get {p}k1 {p}k2 {p}k3 {p}k1 {p}k4 {p}k2\r\n",
            $"add {p}k1 0 0 1\r\nz\r\n",
            $"replace {p}k9 0 0 1\r\nz\r\n",
            $"append {p}k1 0 0 2\r\n12\r\n",
            $"prepend {p}k1 0 0 2 noreply\r\n00\r\n",
            $"get {p}k1\r\n",
            $"incr {p}n 1\r\n",
            $"set {p}n 0 0 2\r\n10\r\n",
            $"incr {p}n 5\r\ndecr {p}n 20\r\nincr {p}n abc\r\nincr {p}n 1 noreply\r\nget {p}n\r\n",
            $"touch {p}k1 100\r\ntouch {p}k9 100\r\ntouch {p}k1 x\r\n",
            $"gat 100 {p}k1 {p}k2\r\ngats\r\n",
            $"delete {p}k2\r\ndelete {p}k2\r\ndelete {p}k2 5\r\ndelete {p}k1 noreply\r\nget {p}k1\r\n",
            "bogus command\r\n\r\nget\r\n",
            $"set {p}k3 0 0 abc\r\nhello\r\n",
            $"set {p}{new string('x', 251)} 0 0 1\r\nz\r\n",
            $"set {p}k5 0 0 3\r\nabcde\r\n",
            $"ms {p}m1 2 T0 F7\r\nhi\r\nmg {p}m1 v f\r\nmg {p}m1 v q\r\nmg {p}m1 q\r\n",
            $"mg {p}missing v q k O9\r\nmg {p}missing v k O9\r\n",
            $"ms {p}m1 2 q MR\r\nyo\r\nms {p}m2 2 q MR\r\nyo\r\nmg {p}m1 v s\r\n",
            $"md {p}m1 q\r\nmd {p}m1\r\nmd {p}m1 q\r\n",
            $"ma {p}cnt N0 J10 v\r\nma {p}cnt q\r\nma {p}cnt v\r\nma {p}none q\r\n",
            $"mg {p}m1 v v\r\nms {p}m3 2 MZ\r\nhi\r\nme {p}missing\r\n",
            "verbosity 1\r\nverbosity 1 noreply\r\nverbosity\r\n",
            $"flush_all\r\nget {p}n\r\nflush_all noreply\r\nflush_all 0\r\n");

        await using var viaProxy = await rig.ConnectAsync();
        await using var direct = await RawConnection.ConnectAsync(single.Port);
        string expected = await direct.ExchangeAsync(script);
        string actual = await viaProxy.ExchangeAsync(script);
        output.WriteLine(expected);
        Assert.Equal(expected, actual);
        Assert.Contains("VALUE " + p + "k1 5 3\r\nabc\r\nVALUE " + p + "k2 0 3\r\nxyz\r\nVALUE " + p + "k1 5 3", actual);
    }

    [Fact]
    public async Task Memccapable_ascii_passes_all_27_tests_through_the_proxy()
    {
        await using var rig = await ProxyRig.StartAsync();
        string[] memccapable = ["-a", "-h", "127.0.0.1", "-p", rig.Port.ToString(), "-t", "10"];
        string report = await RunToolAsync("/usr/bin/memccapable", memccapable);
        output.WriteLine(report);
        Assert.Equal(27, PassLine().Matches(report).Count);
        Assert.Contains("All tests passed", report);
    }

    [Fact]
    public async Task Pylibmc_runs_unchanged_and_its_keys_land_on_the_node_our_ring_names()
    {
        await using var rig = await ProxyRig.StartAsync();
        string p = ClusterTestSupport.Prefix();
        string script = $$"""
            import pylibmc
            c = pylibmc.Client(["127.0.0.1:{{rig.Port}}"])
            keys = ["{{p}}%d" % i for i in range(300)]
            c.set_multi({k: "v-" + k for k in keys})
            got = c.get_multi(keys)
            assert len(got) == 300 and all(got[k] == "v-" + k for k in keys), got
            c.set("{{p}}ctr", 1)
            assert c.incr("{{p}}ctr", 41) == 42
            assert c.add("{{p}}ctr", 0) is False
            c.delete("{{p}}0")
            assert c.get("{{p}}0") is None
            print("pylibmc ok")
            """;
        string stdout = await RunToolAsync("/usr/bin/python3", ["-c", script]);
        Assert.Contains("pylibmc ok", stdout);

        var keys = Enumerable.Range(1, 299).Select(i => p + i).ToList();
        for (int node = 0; node < 3; node++)
        {
            await using var server = await TextProtocolConnection.ConnectAsync("127.0.0.1", rig.Servers[node].Port, CancellationToken.None);
            var held = await server.HeldAsync(keys, CancellationToken.None);
            var owned = keys.Where(k => rig.NodeOf(k) == node).ToHashSet();
            Assert.NotEmpty(owned);
            Assert.Equal(owned.Order(), held.Order());
        }
    }

    [Fact]
    public async Task Memcaslap_runs_unchanged_against_the_proxy()
    {
        await using var rig = await ProxyRig.StartAsync();
        string report = await RunToolAsync("/usr/bin/memcaslap", ["-s", $"127.0.0.1:{rig.Port}", "-t", "2s", "-T", "1", "-c", "8"]);
        output.WriteLine(report);
        var tps = TpsLine().Match(report);
        Assert.True(tps.Success, report);
        Assert.True(long.Parse(tps.Groups[1].Value) > 0, report);
        await using var after = await rig.ConnectAsync();
        Assert.Equal("VERSION 1.6.18-typedcache-proxy\r\n", await after.ExchangeAsync("version\r\n"));
    }

    [GeneratedRegex(@"\[pass\]")]
    private static partial Regex PassLine();

    [GeneratedRegex(@"TPS: (\d+)")]
    private static partial Regex TpsLine();

    /// <summary>Runs a peer tool to its end (killed by PID past the deadline) and returns what it printed.</summary>
    private static async Task<string> RunToolAsync(string fileName, IReadOnlyList<string> arguments) =>
        (await TestProcess.RunAsync(fileName, arguments, ToolDeadline)).Output;
}
