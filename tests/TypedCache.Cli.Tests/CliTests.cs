using System.Globalization;
using TypedCache.Testing;

namespace TypedCache.Cli.Tests;

public sealed class CliArgumentTests
{
    [Theory]
    [InlineData]
    [InlineData("nodes")]
    [InlineData("ring")]
    [InlineData("locate")]
    [InlineData("stats")]
    [InlineData("register")]
    [InlineData("lock")]
    public async Task Every_command_has_help(params string[] command)
    {
        var (code, stdout, _) = await CliProcess.RunAsync([.. command, "--help"]);
        Assert.Equal(0, code);
        Assert.Contains($"Usage:\n  typedcache {string.Join(' ', command)}".TrimEnd(), stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("--zookeeper", stdout, StringComparison.Ordinal);
        if (command.Length > 0)
            Assert.Contains(command[0], stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Required command", "")]
    [InlineData("bad:port", "ring", "-m", "bad:port")]
    [InlineData("'nope'", "ring", "--compat", "nope", "-m", "127.0.0.1:11211")]
    [InlineData("--timeout", "nodes", "--timeout", "soon", "-m", "127.0.0.1:11211")]
    [InlineData("--zookeeper", "ring")]
    [InlineData("--zookeeper", "register", "-m", "127.0.0.1:11211")]
    [InlineData("exactly one server", "register", "-z", "127.0.0.1:2181")]
    [InlineData("--weight", "register", "-z", "127.0.0.1:2181", "-m", "127.0.0.1:11211", "--weight", "0")]
    [InlineData("Required argument", "lock", "-z", "127.0.0.1:2181")]
    [InlineData("Required argument", "locate", "-m", "127.0.0.1:11211")]
    public async Task Bad_arguments_give_one_line_naming_the_problem_and_exit_code_2(string expected, params string[] args)
    {
        var (code, stdout, stderr) = await CliProcess.RunAsync(args.Where(a => a.Length > 0).ToArray());
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("typedcache: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_zookeeper_is_one_line_and_exit_code_1()
    {
        int closed = ClosedPort();
        foreach (var command in new[] { "nodes", "ring", "lock" })
        {
            string[] args = command == "lock" ? [command, "x", "-z", $"127.0.0.1:{closed}", "--timeout", "500ms"] : [command, "-z", $"127.0.0.1:{closed}", "--timeout", "500ms"];
            var (code, _, stderr) = await CliProcess.RunAsync(args);
            Assert.Equal(1, code);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal($"typedcache: ZooKeeper 127.0.0.1:{closed} is unreachable: no server answered within 0.5 s (ConnectionLoss)", line);
        }
    }

    [Fact]
    public async Task Stats_of_a_live_and_a_dead_server_shows_the_live_one_and_names_the_dead_one()
    {
        await using var server = await MemcachedServer.StartAsync();
        int closed = ClosedPort();
        var (code, stdout, stderr) = await CliProcess.RunAsync("stats", "-m", $"{server.Endpoint},127.0.0.1:{closed}", "--timeout", "1s");
        Assert.Equal(1, code);
        var rows = Lines(stdout);
        Assert.StartsWith("NODE", rows[0], StringComparison.Ordinal);
        Assert.Matches($@"^{server.Endpoint.Replace(".", "\\.", StringComparison.Ordinal)}\s+1\.6\.\d+\s+\d+", rows[1]);
        Assert.Matches($@"^127\.0\.0\.1:{closed}\s+-", rows[2]);
        var line = Assert.Single(Lines(stderr));
        Assert.StartsWith($"typedcache: memcached 127.0.0.1:{closed} is unreachable", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ring_and_locate_on_a_static_list_split_the_keyspace_by_weight()
    {
        var (code, stdout, _) = await CliProcess.RunAsync("ring", "-m", "10.0.0.1:11211:1,10.0.0.2:11211:3");
        Assert.Equal(0, code);
        var rows = Lines(stdout);
        Assert.Equal(["10.0.0.1:11211  1       80      ", "10.0.0.2:11211  3       240     "], rows.Skip(1).Take(2).Select(r => r[..32]));
        double share = rows.Skip(1).Take(2).Sum(r => double.Parse(r.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3].TrimEnd('%'), CultureInfo.InvariantCulture));
        Assert.InRange(share, 99.99, 100.01);

        // The test vectors of protocols.md §32.1, with both hashes.
        const string nodes = "10.0.0.1:11211:1,10.0.0.2:11211:1,10.0.0.3:11212:2";
        var (md5Code, md5, _) = await CliProcess.RunAsync("locate", "-m", nodes, "foo", "baz", "user:42");
        Assert.Equal(0, md5Code);
        Assert.Equal(["foo      10.0.0.2:11211  db18bdac", "baz      10.0.0.1:11211  a4fffe73", "user:42  10.0.0.2:11211  18dfda56"], Lines(md5).Skip(1));
        var (fnvCode, fnv, _) = await CliProcess.RunAsync("locate", "-m", nodes, "--compat", "twemproxy-fnv1a64", "foo", "user:42");
        Assert.Equal(0, fnvCode);
        Assert.Equal(["foo      10.0.0.3:11212  fed9d577", "user:42  10.0.0.1:11211  dcd221c2"], Lines(fnv).Skip(1));
    }

    internal static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
