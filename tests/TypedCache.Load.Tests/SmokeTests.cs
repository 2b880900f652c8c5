using TypedCache.Load.Scenarios;

namespace TypedCache.Load.Tests;

public sealed class SmokeTests(SmokeRun smoke) : IClassFixture<SmokeRun>
{
    public static TheoryData<string> Scenarios => [.. Scenario.All.Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Every_verdict_of_the_scenario_is_zero(string name)
    {
        var result = Assert.Single(smoke.Run.Results, r => r.Name == name);
        Assert.Null(result.SkippedBecause);
        Assert.NotEmpty(result.Verdicts);
        var failed = result.Verdicts.Where(v => !v.Passed).Select(v => $"{v.Name} = {v.Value} ({v.Definition})").ToList();
        Assert.True(failed.Count == 0, $"{name}: {string.Join("; ", failed)}\n{smoke.Log}");
    }

    [Fact]
    public void No_process_the_run_started_is_left()
    {
        Assert.Contains(smoke.Run.Processes, p => p.What.StartsWith("memcached", StringComparison.Ordinal));
        Assert.Contains(smoke.Run.Processes, p => p.What.Contains("worker", StringComparison.Ordinal));
        Assert.Contains(smoke.Run.Processes, p => p.What.StartsWith("redis-server", StringComparison.Ordinal));
        Assert.Empty(smoke.Run.LeftRunning);
    }

    [Fact]
    public void The_report_has_a_section_and_a_chart_per_scenario()
    {
        string report = File.ReadAllText(smoke.Run.ReportPath!);
        foreach (var scenario in Scenario.All)
        {
            Assert.Contains($"## {scenario.Name}", report, StringComparison.Ordinal);
            Assert.True(new FileInfo(Path.Combine(smoke.Directory, scenario.Name + ".png")).Length > 1000, $"no chart for {scenario.Name}");
        }
    }

    [Fact]
    public void The_steady_and_stampede_scenarios_compare_with_both_peers()
    {
        foreach (string name in (string[])["steady", "stampede"])
        {
            var result = smoke.Run.Results.Single(r => r.Name == name);
            // steady also runs FusionCache with its backplane and TypedCache without ZooKeeper (the like-for-like pairs).
            Assert.Equal(name == "steady" ? 5 : 3, result.Peers.Count);
            Assert.All(result.Peers, p => Assert.True(p.Totals.Operations > 0, $"{name}: {p.Name} did nothing"));
        }
    }

    [Fact]
    public void The_steady_report_gives_the_latency_of_each_kind_of_operation_for_every_cache()
    {
        var steady = smoke.Run.Results.Single(r => r.Name == "steady");
        var table = KindTable.Read(File.ReadAllText(smoke.Run.ReportPath!), "steady");

        Assert.NotNull(table);
        Assert.Equal(steady.Peers.Select(p => p.Name), table.Caches);
        // The mix 90:5:5 reads, writes and invalidates; an invalidated key's next read misses.
        Assert.Equal(["read hit", "read miss", "write", "invalidate"], table.Rows.Keys);
        foreach (var (kind, cells) in table.Rows)
            Assert.All(cells.Zip(table.Caches), c => Assert.True(KindTable.Count(c.First) > 0, $"{kind} through {c.Second}: '{c.First}'"));
    }
}
