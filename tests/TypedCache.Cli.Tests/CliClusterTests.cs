using System.Diagnostics;
using TypedCache.Testing;
using Xunit.Abstractions;
using static TypedCache.Cli.Tests.CliArgumentTests;

namespace TypedCache.Cli.Tests;

public sealed class CliClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ZooKeeperEnsemble _zooKeeper = null!;
    private readonly string _root = "/typedcache-cli/" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync() => _zooKeeper = await ZooKeeperEnsemble.StartAsync(1);

    public async Task DisposeAsync() => await _zooKeeper.DisposeAsync();

    [Fact]
    public async Task Register_puts_servers_into_nodes_ring_locate_and_stats_and_takes_a_dead_one_out()
    {
        await using var first = await MemcachedServer.StartAsync();
        await using var second = await MemcachedServer.StartAsync();
        string[] zk = ["-z", _zooKeeper.ConnectString, "--root", _root];
        await using var registerFirst = CliProcess.Start(["register", .. zk, "-m", first.Endpoint, "--check-interval", "100ms"]);
        await using var registerSecond = CliProcess.Start(["register", .. zk, "-m", second.Endpoint, "--weight", "3", "--check-interval", "100ms"]);

        string[] expected = [.. new[] { (first.Endpoint, 1), (second.Endpoint, 3) }.OrderBy(n => n.Item1, StringComparer.Ordinal).Select(n => $"{n.Item1} {n.Item2}")];
        await UntilAsync(async () =>
        {
            var (code, stdout, _) = await CliProcess.RunAsync(["nodes", .. zk]);
            return code == 0 && Rows(stdout).SequenceEqual(expected);
        }, "both registered servers to be listed by nodes");
        Assert.Contains($"registered {_root}/nodes/{first.Endpoint} weight 1", registerFirst.Stdout, StringComparison.Ordinal);

        var (ringCode, ring, _) = await CliProcess.RunAsync(["ring", .. zk]);
        Assert.Equal(0, ringCode);
        var (staticCode, staticRing, _) = await CliProcess.RunAsync("ring", "-m", $"{first.Endpoint}:1,{second.Endpoint}:3");
        Assert.Equal(0, staticCode);
        Assert.Equal(Lines(staticRing).Order(StringComparer.Ordinal), Lines(ring).Order(StringComparer.Ordinal));

        string[] keys = [.. Enumerable.Range(0, 20).Select(i => "user:" + i), "bär"];
        var (locateCode, located, _) = await CliProcess.RunAsync(["locate", .. zk, .. keys]);
        Assert.Equal(0, locateCode);
        var (staticLocateCode, staticLocated, _) = await CliProcess.RunAsync(["locate", "-m", $"{second.Endpoint}:3,{first.Endpoint}:1", .. keys]);
        Assert.Equal(0, staticLocateCode);
        Assert.Equal(Lines(staticLocated), Lines(located));
        Assert.Contains(Lines(located), l => l.Contains(first.Endpoint, StringComparison.Ordinal));
        Assert.Contains(Lines(located), l => l.Contains(second.Endpoint, StringComparison.Ordinal));

        var (statsCode, stats, statsErrors) = await CliProcess.RunAsync(["stats", .. zk]);
        Assert.Equal(0, statsCode);
        Assert.Empty(statsErrors);
        Assert.All([first.Endpoint, second.Endpoint], e => Assert.Contains(Lines(stats), l => l.StartsWith(e + " ", StringComparison.Ordinal) && l.Contains(" 1.6.", StringComparison.Ordinal)));

        var started = Stopwatch.GetTimestamp();
        await first.KillAsync();
        await UntilAsync(async () =>
        {
            var (code, stdout, _) = await CliProcess.RunAsync(["nodes", .. zk]);
            return code == 0 && Rows(stdout).SequenceEqual([$"{second.Endpoint} 3"]);
        }, "the killed server to leave the nodes");
        output.WriteLine($"memcached killed -> gone from `typedcache nodes`: {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms (including tool start-up)");
        Assert.Contains($"unregistered {_root}/nodes/{first.Endpoint}", registerFirst.Stdout, StringComparison.Ordinal);

        registerSecond.Interrupt();
        Assert.Equal(0, await registerSecond.WaitForExitAsync());
        Assert.Contains("stopped;", registerSecond.Stdout, StringComparison.Ordinal);
        var (emptyCode, empty, emptyNote) = await CliProcess.RunAsync(["nodes", .. zk]);
        Assert.Equal(0, emptyCode);
        Assert.Empty(Rows(empty));
        Assert.Contains("no members", emptyNote, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lock_holds_until_stdin_closes_excludes_others_and_runs_a_command_under_it()
    {
        string[] zk = ["-z", _zooKeeper.ConnectString, "--root", _root];
        await using var holder = CliProcess.Start(["lock", "jobs/nightly", .. zk]);
        await UntilAsync(() => Task.FromResult(holder.Stdout.Contains("acquired ", StringComparison.Ordinal)), "the first lock to be acquired");
        Assert.Matches($@"^acquired {_root}/locks/jobs/nightly/[0-9a-f]{{32}}__lock__0000000000 fencing-token \d+", holder.Stdout);

        var (code, _, stderr) = await CliProcess.RunAsync(["lock", "jobs/nightly", .. zk, "--wait", "300ms"]);
        Assert.Equal(1, code);
        Assert.Equal($"typedcache: lock {_root}/locks/jobs/nightly not acquired within 0.3 s", Assert.Single(Lines(stderr)));

        holder.CloseInput();
        Assert.Equal(0, await holder.WaitForExitAsync());
        Assert.Contains("released ", holder.Stdout, StringComparison.Ordinal);

        var (runCode, runOutput, _) = await CliProcess.RunAsync(["lock", "jobs/nightly", .. zk, "--wait", "5s", "--", "sh", "-c", "echo under-lock; exit 3"]);
        Assert.Equal(3, runCode);
        var lines = Lines(runOutput);
        Assert.Equal(["under-lock"], lines.Where(l => !l.StartsWith("acquired ", StringComparison.Ordinal) && !l.StartsWith("released ", StringComparison.Ordinal)));
        Assert.StartsWith("acquired ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("released ", lines[^1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_lock_held_until_stdin_closes_is_released_on_ctrl_c_or_sigterm_while_stdin_is_still_open(bool terminate)
    {
        string[] zk = ["-z", _zooKeeper.ConnectString, "--root", _root];
        await using var holder = CliProcess.Start(["lock", "jobs/stdin", .. zk]);
        await UntilAsync(() => Task.FromResult(holder.Stdout.Contains("acquired ", StringComparison.Ordinal)), "the lock to be acquired");

        if (terminate)
            holder.Terminate();
        else
            holder.Interrupt();
        Assert.Equal(0, await holder.WaitForExitAsync());
        Assert.Contains("released ", holder.Stdout, StringComparison.Ordinal);

        // Released in ZooKeeper, not left until the session expires: the next holder takes it at once.
        var (code, stdout, stderr) = await CliProcess.RunAsync(["lock", "jobs/stdin", .. zk, "--wait", "2s", "--", "true"]);
        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.StartsWith("acquired ", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_root_created_with_a_digest_is_readable_by_all_but_locked_only_with_the_credential()
    {
        string[] zk = ["-z", _zooKeeper.ConnectString, "--root", _root];
        var (ownerCode, ownerOut, ownerErr) = await CliProcess.RunAsync(["lock", "jobs/acl", .. zk, "--digest", "ops:secret", "--hold", "1ms"]);
        Assert.True(ownerCode == 0, ownerErr);
        Assert.StartsWith("acquired ", Lines(ownerOut)[0], StringComparison.Ordinal);

        var (readCode, _, readErr) = await CliProcess.RunAsync(["nodes", .. zk]);
        Assert.Equal(0, readCode);
        Assert.DoesNotContain("NoAuth", readErr, StringComparison.Ordinal);

        var (code, stdout, stderr) = await CliProcess.RunAsync(["lock", "jobs/other", .. zk, "--wait", "2s"]);
        Assert.Equal(1, code);
        Assert.Empty(stdout);
        var line = Assert.Single(Lines(stderr));
        Assert.StartsWith("typedcache: ", line, StringComparison.Ordinal);
        Assert.Contains("NoAuth", line, StringComparison.Ordinal);

        var (badCode, _, badErr) = await CliProcess.RunAsync(["nodes", .. zk, "--digest", "nopassword"]);
        Assert.Equal(2, badCode);
        Assert.Equal("typedcache: --digest: expected user:password.", Assert.Single(Lines(badErr)));
    }

    /// <summary>The data rows of a table, with runs of spaces collapsed.</summary>
    private static string[] Rows(string table) => [.. Lines(table).Skip(1).Select(r => string.Join(' ', r.Split(' ', StringSplitOptions.RemoveEmptyEntries)))];

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = TimeSpan.FromSeconds(30);
        var started = Stopwatch.GetTimestamp();
        var interval = TimeSpan.FromMilliseconds(20);
        while (!await condition())
        {
            if (Stopwatch.GetElapsedTime(started) > deadline)
                Assert.Fail($"{what} did not happen within {deadline.TotalSeconds} s");
            await Task.Delay(interval);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, TimeSpan.FromMilliseconds(200).Ticks));
        }
    }
}
