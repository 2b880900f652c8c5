using TypedCache.Load.Scenarios;

namespace TypedCache.Load.Tests;

/// <summary>The short run of the <c>proxy</c> scenario alone.</summary>
public sealed class ProxySmokeRun() : SmokeRun("proxy");

public sealed class ProxySmokeTests(ProxySmokeRun smoke) : IClassFixture<ProxySmokeRun>
{
    private ScenarioResult Result => Assert.Single(smoke.Run.Results, r => r.Name == "proxy");

    [Fact]
    public void Both_proxies_serve_the_load_and_every_verdict_is_zero()
    {
        Assert.Null(Result.SkippedBecause);
        Assert.Equal(["TypedCache proxy", "nutcracker 0.5"], Result.Peers.Select(p => p.Name));
        Assert.All(Result.Peers, p => Assert.True(p.Totals.Operations > 0, $"{p.Name} served nothing\n{smoke.Log}"));
        Assert.Contains(Result.Verdicts, v => v.Name == "wrong values through TypedCache proxy");
        Assert.Contains(Result.Verdicts, v => v.Name == "wrong values through nutcracker 0.5");
        var failed = Result.Verdicts.Where(v => !v.Passed).Select(v => $"{v.Name} = {v.Value} ({v.Definition})").ToList();
        Assert.True(failed.Count == 0, $"{string.Join("; ", failed)}\n{smoke.Log}");
    }

    [Fact]
    public void Keys_stored_through_one_proxy_are_found_through_the_other()
    {
        Assert.Equal("100.00 %", Figure("same ring: keys stored through one proxy and found through the other"));
        Assert.Equal(0, Assert.Single(Result.Verdicts, v => v.Name == "keys not found through the other proxy").Value);
    }

    [Fact]
    public void A_memcached_server_is_killed_while_both_serve_and_the_ratios_are_figures()
    {
        Assert.Contains(Result.Marks, m => m.Label == "memcached killed");
        Assert.All(Result.Figures.Where(f => f.Name.Contains(" / nutcracker", StringComparison.Ordinal)), f => Assert.EndsWith("×", f.Value, StringComparison.Ordinal));
        Assert.Matches(@"^[\d,]+ / [\d,]+ / [\d,]+, of [1-9][\d,]*$", Figure("TypedCache proxy after the kill: errors / misses / not stored, of operations"));
        Assert.Matches(@"^[\d,]+ / [\d,]+ / [\d,]+, of [1-9][\d,]*$", Figure("nutcracker 0.5 after the kill: errors / misses / not stored, of operations"));
    }

    [Fact]
    public void Both_proxies_are_stopped_and_the_report_has_the_chart()
    {
        Assert.Contains(smoke.Run.Processes, p => p.What.StartsWith("TypedCache proxy", StringComparison.Ordinal));
        Assert.Contains(smoke.Run.Processes, p => p.What.StartsWith("nutcracker", StringComparison.Ordinal));
        Assert.Empty(smoke.Run.LeftRunning);
        Assert.Contains("## proxy", File.ReadAllText(smoke.Run.ReportPath!), StringComparison.Ordinal);
        Assert.True(new FileInfo(Path.Combine(smoke.Directory, "proxy.png")).Length > 1000, "no chart for proxy");
    }

    private string Figure(string name) => Assert.Single(Result.Figures, f => f.Name == name).Value;
}
