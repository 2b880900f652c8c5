using System.Diagnostics;
using Xunit.Abstractions;

namespace TypedCache.Testing.Tests;

/// <summary>One 3-member ensemble shared by the tests of <see cref="ZooKeeperEnsembleTests"/>; each test leaves all members running.</summary>
public sealed class ThreeMemberEnsemble : IAsyncLifetime
{
    private ZooKeeperEnsemble? _ensemble;

    public ZooKeeperEnsemble Ensemble => _ensemble ?? throw new InvalidOperationException("Not started.");

    public TimeSpan StartTime { get; private set; }

    public async Task InitializeAsync()
    {
        var started = Stopwatch.GetTimestamp();
        _ensemble = await ZooKeeperEnsemble.StartAsync(3);
        StartTime = Stopwatch.GetElapsedTime(started);
    }

    public async Task DisposeAsync()
    {
        if (_ensemble is null)
            return;
        var pids = Enumerable.Range(0, _ensemble.Count).Select(_ensemble.ProcessId).ToArray();
        await _ensemble.DisposeAsync();
        Assert.All(pids, pid => Assert.True(TextClient.ProcessIsGone(pid), $"ZooKeeper PID {pid} is still there"));
    }
}

public sealed class ZooKeeperEnsembleTests(ThreeMemberEnsemble fixture, ITestOutputHelper output) : IClassFixture<ThreeMemberEnsemble>
{
    private static readonly TimeSpan ElectionTimeout = TimeSpan.FromSeconds(30);

    private ZooKeeperEnsemble Zk => fixture.Ensemble;

    [Fact]
    public async Task Three_members_elect_one_leader_and_two_followers()
    {
        output.WriteLine($"3-member ensemble started in {fixture.StartTime.TotalSeconds:0.00} s");
        var modes = await Task.WhenAll(Enumerable.Range(0, 3).Select(ModeAsync));

        Assert.Equal(["follower", "follower", "leader"], modes.Order());
        Assert.Equal(Array.IndexOf(modes, "leader"), Zk.LeaderIndex);
        Assert.Equal(3, Zk.Count);
        Assert.Equal(string.Join(',', Enumerable.Range(0, 3).Select(i => $"127.0.0.1:{Zk.ClientPort(i)}")), Zk.ConnectString);
        Assert.Equal(3, Enumerable.Range(0, 3).Select(Zk.ProcessId).Distinct().Count());
        Assert.All(Enumerable.Range(0, 3), i => Assert.True(Zk.IsRunning(i)));
    }

    [Fact]
    public async Task Members_use_the_short_tick_and_allow_every_four_letter_word()
    {
        var conf = await TextClient.ExchangeAsync(Zk.ClientPort(0), "conf", null);

        Assert.Contains("tickTime=200", conf);
        Assert.Contains("minSessionTimeout=400", conf);
        Assert.Contains("maxSessionTimeout=4000", conf);
        Assert.Contains("zk_server_state", await TextClient.ExchangeAsync(Zk.ClientPort(1), "mntr", null));
    }

    [Fact]
    public async Task Killing_the_leader_elects_another_and_the_killed_member_rejoins()
    {
        var leader = await Zk.WaitForLeaderAsync(ElectionTimeout);
        var leaderPid = Zk.ProcessId(leader);

        await Zk.KillAsync(leader);

        Assert.False(Zk.IsRunning(leader));
        Assert.True(TextClient.ProcessIsGone(leaderPid));
        var next = await Zk.WaitForLeaderAsync(ElectionTimeout);
        Assert.NotEqual(leader, next);
        Assert.Equal("leader", await ModeAsync(next));

        await Zk.StartAsync(leader);

        Assert.True(Zk.IsRunning(leader));
        Assert.NotEqual(leaderPid, Zk.ProcessId(leader));
        Assert.Equal("follower", await ModeAsync(leader));
        await Eventually.HoldsAsync(
            async () => (await TextClient.ExchangeAsync(Zk.ClientPort(next), "mntr", null)).Contains("zk_synced_followers\t2"),
            "the leader reporting two synced followers");
    }

    [Fact]
    public async Task Without_a_quorum_there_is_no_leader_until_a_member_returns()
    {
        var leader = await Zk.WaitForLeaderAsync(ElectionTimeout);
        var followers = Enumerable.Range(0, 3).Where(i => i != leader).ToArray();

        await Zk.StopAsync(followers[0]);
        await Zk.KillAsync(followers[1]);

        // The leader steps down once it misses its followers' acks for syncLimit ticks.
        await Eventually.HoldsAsync(() => Zk.LeaderIndex == -1, "the leader stepping down");
        var error = await Assert.ThrowsAsync<TimeoutException>(() => Zk.WaitForLeaderAsync(TimeSpan.FromSeconds(1)));
        Assert.Contains($"member {followers[0]} (127.0.0.1:{Zk.ClientPort(followers[0])}): stopped", error.Message);
        Assert.Contains($"member {leader} (127.0.0.1:{Zk.ClientPort(leader)}): not serving", error.Message);

        await Zk.StartAsync(followers[0]);
        await Zk.StartAsync(followers[1]);

        Assert.InRange(await Zk.WaitForLeaderAsync(ElectionTimeout), 0, 2);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Zk.StartAsync(followers[0]));
    }

    [Fact]
    public void Member_indexes_are_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Zk.ClientPort(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Zk.IsRunning(-1));
    }

    private async Task<string?> ModeAsync(int member) =>
        ZooKeeperMember.ParseMode(await TextClient.ExchangeAsync(Zk.ClientPort(member), "srvr", null));
}

public sealed class StandaloneZooKeeperTests(ITestOutputHelper output)
{
    [Fact]
    public async Task One_member_runs_standalone_with_its_options_and_leaves_nothing_behind()
    {
        var started = Stopwatch.GetTimestamp();
        var zk = await ZooKeeperEnsemble.StartAsync(1, new ZooKeeperEnsembleOptions { MaxSessionTimeoutMilliseconds = 6000 });
        output.WriteLine($"standalone ZooKeeper started in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.00} s");
        var pid = zk.ProcessId(0);
        string conf;
        try
        {
            Assert.Equal("standalone", ZooKeeperMember.ParseMode(await TextClient.ExchangeAsync(zk.ClientPort(0), "srvr", null)));
            Assert.Equal(0, zk.LeaderIndex);
            Assert.Equal(zk.Endpoint(0), zk.ConnectString);
            conf = await TextClient.ExchangeAsync(zk.ClientPort(0), "conf", null);
            Assert.Contains("minSessionTimeout=400", conf);
            Assert.Contains("maxSessionTimeout=6000", conf);
            Assert.Contains(pid, ProcessRegistry.LiveProcessIds);
        }
        finally
        {
            await zk.DisposeAsync();
        }

        Assert.True(TextClient.ProcessIsGone(pid));
        Assert.DoesNotContain(pid, ProcessRegistry.LiveProcessIds);
        var dataDir = conf.Split('\n').Single(l => l.StartsWith("dataDir=", StringComparison.Ordinal))["dataDir=".Length..].Trim();
        Assert.False(Directory.Exists(dataDir), $"{dataDir} was not removed");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public async Task Member_counts_out_of_range_are_rejected(int members) =>
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ZooKeeperEnsemble.StartAsync(members));

    [Fact]
    public async Task Session_bounds_that_contradict_are_rejected() =>
        await Assert.ThrowsAsync<ArgumentException>(() => ZooKeeperEnsemble.StartAsync(
            1, new ZooKeeperEnsembleOptions { MinSessionTimeoutMilliseconds = 5000, MaxSessionTimeoutMilliseconds = 1000 }));
}
