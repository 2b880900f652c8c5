using System.Diagnostics;
using System.Text;
using TypedCache.ZooKeeper;
using static TypedCache.Tests.ZooKeeper.ZooKeeperTestSupport;

namespace TypedCache.Tests.ZooKeeper;

/// <summary>Interoperability with Debian's python3-kazoo, driven as a subprocess of /usr/bin/python3.</summary>
public sealed class KazooInteropTests(StandaloneZooKeeperFixture fixture) : IClassFixture<StandaloneZooKeeperFixture>
{
    [Fact]
    public async Task Nodes_and_changes_cross_between_kazoo_and_this_client()
    {
        await using ZooKeeperClient client = await fixture.ConnectAsync();
        string root = await CreateRootAsync(client);

        await RunKazooAsync(root, "zk.create(root + '/kazoo', b'from-kazoo')");
        Assert.Equal("from-kazoo", Encoding.UTF8.GetString((await client.GetDataAsync(root + "/kazoo")).Data));

        WatchedResult<NodeData> watch = await client.GetDataAndWatchAsync(root + "/kazoo");
        await client.CreateAsync(root + "/dotnet", "from-dotnet"u8.ToArray());
        string output = await RunKazooAsync(
            root,
            "zk.set(root + '/kazoo', b'changed'); print(zk.get(root + '/dotnet')[0].decode()); print(len(zk.get_children(root)))");

        Assert.Equal(new WatchedEvent(WatchEventType.NodeDataChanged, root + "/kazoo"), await watch.Watch.Within());
        Assert.Equal("changed", Encoding.UTF8.GetString((await client.GetDataAsync(root + "/kazoo")).Data));
        Assert.Equal(["from-dotnet", "2"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private async Task<string> RunKazooAsync(string root, string statements)
    {
        string script =
            "import sys\n" +
            "from kazoo.client import KazooClient\n" +
            "zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15); root = sys.argv[2]\n" +
            statements + "\n" +
            "zk.stop(); zk.close()\n";
        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(fixture.Ensemble.ConnectString);
        start.ArgumentList.Add(root);
        using Process process = Process.Start(start)!;
        try
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(Deadline);
            Assert.True(process.ExitCode == 0, $"kazoo failed: {await stderr}");
            return await stdout;
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }
}
